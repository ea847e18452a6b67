import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import PostgresNIO
import Testing

/// Builders for campaigns, briefs and registrations, made through the API as an officer would.
extension TestApp {
    static func campaignBody(brandID: String, slots: Int = 5, extra: [String: Any] = [:]) -> [String: Any] {
        var body: [String: Any] = [
            "brand_id": brandID, "title": "Susu Bunda Ramadan", "description": "Stories about sahur with little ones",
            "platforms": ["instagram", "tiktok"], "kol_slots": slots,
            "eligibility": ["min_followers": 10_000, "niches": ["parenting"], "regions": []],
            "terms": ["fee_idr": 1_500_000, "bonus": ["metric": "views", "rate_idr_per_1000": 2_000, "cap_idr": 500_000]],
        ]
        for (key, value) in extra { body[key] = value }
        return body
    }

    static let future = "2030-01-10T09:00:00Z"

    static var briefBody: [String: Any] {
        [
            "key_messages": ["Susu Bunda helps little ones sleep after sahur"], "dos": ["Show the pack"], "donts": ["No medical claims"],
            "hashtags": ["SusuBunda", "#RamadanBersama"], "mentions": ["susubunda.id"], "references": ["https://susubunda.id/brand"],
            "deliverables": [
                [
                    "key": "ig-feed", "platform": "instagram", "format": "feed_post", "quantity": 1,
                    "draft_due_at": "2030-01-05T09:00:00Z", "post_due_at": "2030-01-10T09:00:00Z",
                ],
                [
                    "key": "ig-story", "platform": "instagram", "format": "story", "quantity": 3,
                    "draft_due_at": "2030-01-06T09:00:00Z", "post_due_at": "2030-01-11T09:00:00Z",
                ],
            ],
        ]
    }

    /// A draft campaign of `brandID`, created by `officer` (who is assigned to it).
    func draftCampaign(by officer: Account, brandID: String, slots: Int = 5, extra: [String: Any] = [:]) async throws -> String {
        let response = try await post(
            "/v1/campaigns", token: officer.token, Self.campaignBody(brandID: brandID, slots: slots, extra: extra))
        #expect(response.status == .created, "create campaign: \(response.text)")
        return response["id"] ?? ""
    }

    /// Writes and publishes brief version n+1; returns its number.
    @discardableResult
    func publishBrief(_ campaignID: String, by officer: Account, body: [String: Any] = TestApp.briefBody) async throws -> Int {
        let created = try await post("/v1/campaigns/\(campaignID)/brief-versions", token: officer.token, body)
        #expect(created.status == .created, "create brief: \(created.text)")
        let version = created.json["version"] as? Int ?? 0
        let published = try await post("/v1/campaigns/\(campaignID)/brief-versions/\(version)/publish", token: officer.token)
        #expect(published.status == .ok, "publish brief: \(published.text)")
        return version
    }

    /// A campaign open for registration.
    func recruitingCampaign(by officer: Account, brandID: String, slots: Int = 5, extra: [String: Any] = [:]) async throws -> String {
        let id = try await draftCampaign(by: officer, brandID: brandID, slots: slots, extra: extra)
        try await publishBrief(id, by: officer)
        let published = try await post("/v1/campaigns/\(id)/publish", token: officer.token)
        #expect(published["status"] == "recruiting", "publish campaign: \(published.text)")
        return id
    }

    func register(_ kol: Account, for campaignID: String, pitch: String = "Ibu dua anak, suka masak") async throws -> String {
        let response = try await post("/v1/campaigns/\(campaignID)/registrations", token: kol.token, ["pitch": pitch])
        #expect(response.status == .created, "register: \(response.text)")
        return response["id"] ?? ""
    }

    @discardableResult
    func act(_ action: String, registration: String, by account: Account) async throws -> APIResponse {
        try await post("/v1/registrations/\(registration)/\(action)", token: account.token)
    }

    func campaignStatus(_ id: String) async throws -> String {
        try await sql { db in
            try await db.withConnection { connection in
                for try await status in try await connection.query(
                    "SELECT status FROM campaigns WHERE id = \(UUID(uuidString: id)!)", logger: testLogger
                )
                .decode(String.self) {
                    return status
                }
                return "missing"
            }
        }
    }
}
