import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import PostgresNIO
import Testing

/// Builders for campaigns, briefs and registrations, made through the API as an officer would.
extension TestApp {
    static let future = "2030-01-10T09:00:00Z"

    /// A draft campaign of `brandID`, created by `officer` (who is assigned to it); `change` sets what differs
    /// from the usual `CampaignDraftBody`.
    func draftCampaign(
        by officer: Account, brandID: String, slots: Int = 5, _ change: (inout CampaignDraftBody) -> Void = { _ in }
    ) async throws -> String {
        var body = CampaignDraftBody(brandID: brandID, slots: slots)
        change(&body)
        let response = try await post("/v1/campaigns", token: officer.token, body)
        #expect(response.status == .created, "create campaign: \(response.text)")
        return response["id"] ?? ""
    }

    /// Writes and publishes brief version n+1; returns its number.
    @discardableResult
    func publishBrief(_ campaignID: String, by officer: Account, body: BriefBody = BriefBody()) async throws -> Int {
        let created = try await post("/v1/campaigns/\(campaignID)/brief-versions", token: officer.token, body)
        #expect(created.status == .created, "create brief: \(created.text)")
        let version = created.json["version"] as? Int ?? 0
        let published = try await post("/v1/campaigns/\(campaignID)/brief-versions/\(version)/publish", token: officer.token)
        #expect(published.status == .ok, "publish brief: \(published.text)")
        return version
    }

    /// A campaign open for registration.
    func recruitingCampaign(
        by officer: Account, brandID: String, slots: Int = 5, _ change: (inout CampaignDraftBody) -> Void = { _ in }
    ) async throws -> String {
        let id = try await draftCampaign(by: officer, brandID: brandID, slots: slots, change)
        try await publishBrief(id, by: officer)
        let published = try await post("/v1/campaigns/\(id)/publish", token: officer.token)
        #expect(published["status"] == "recruiting", "publish campaign: \(published.text)")
        return id
    }

    func register(_ kol: Account, for campaignID: String, pitch: String = "Ibu dua anak, suka masak") async throws -> String {
        let response = try await post("/v1/campaigns/\(campaignID)/registrations", token: kol.token, RegistrationBody(pitch: pitch))
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
