import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import PostgresNIO
import Testing

/// The endpoints' answers to the roles that may not use them, in one table: 403 where the caller sees
/// the resource but its role may not act, 404 where it may not see it (the same answer as a missing id).
@Suite("Who may not: the access matrix")
struct AccessMatrixTests {
    @Test func rolesThatMayNotActOrSeeGet403Or404AndNothingChanges() async throws {
        try await TestApp.run { app in
            let (p, payoutID) = try await app.finishedProduction()
            _ = try await app.post("/v1/payouts/\(payoutID)/approve", token: p.cast.finance.token)
            let batch = try #require(try await app.post("/v1/payout-batches", token: p.cast.finance.token)["id"])
            let otherKol = try await app.kol()
            let otherBrandID = try await app.brand(by: p.cast.admin)
            let otherBrand = try await app.user(.brand, brandID: otherBrandID, by: p.cast.admin)
            let otherOfficer = try await app.user(.officer, by: p.cast.admin)
            let (kol, officer, brand, finance) = (p.cast.kol, p.cast.officer, p.cast.brand, p.cast.finance)
            let d = p.feed
            let draft = try #require(try await app.get("/v1/deliverables/\(d)/drafts", token: officer.token).data.first?["id"] as? String)
            let paid = MarkPaidBody(payoutIDs: [payoutID], bankReference: "R")
            let failed = MarkFailedBody(payoutIDs: [payoutID], reason: "x")
            let reason = ReasonBody(reason: "x")
            let cases: [(HTTPRequest.Method, String, TestApp.Account, (any RequestBody)?, HTTPResponse.Status)] = [
                // Batches are finance's: to everyone else a batch id names nothing (404, as for a missing one).
                (.get, "/v1/payout-batches/\(batch)", officer, nil, .notFound),
                (.get, "/v1/payout-batches/\(batch)", brand, nil, .notFound),
                (.get, "/v1/payout-batches/\(batch)", kol, nil, .notFound),
                (.get, "/v1/payout-batches/\(UUID())", officer, nil, .notFound),
                (.get, "/v1/payout-batches/\(batch)/export.csv", kol, nil, .notFound),
                (.get, "/v1/payout-batches/\(batch)/export.csv", officer, nil, .notFound),
                (.post, "/v1/payout-batches/\(batch)/mark-failed", kol, failed, .notFound),
                (.post, "/v1/payout-batches/\(batch)/mark-failed", brand, failed, .notFound),
                (.post, "/v1/payout-batches/\(batch)/mark-paid", officer, paid, .notFound),
                (.post, "/v1/payout-batches/\(UUID())/mark-paid", officer, paid, .notFound),
                (.get, "/v1/payout-batches", officer, nil, .forbidden),
                // Insights: only the officer verifies or rejects; strangers do not see them.
                (.post, "/v1/deliverables/\(d)/insights/verify", brand, nil, .forbidden),
                (.post, "/v1/deliverables/\(d)/insights/verify", finance, nil, .forbidden),
                (.post, "/v1/deliverables/\(d)/insights/reject", kol, reason, .forbidden),
                (.get, "/v1/deliverables/\(d)/insights", otherKol, nil, .notFound),
                (.get, "/v1/deliverables/\(d)/insights", otherBrand, nil, .notFound),
                (.post, "/v1/deliverables/\(d)/insights/verify", otherOfficer, nil, .notFound),
                // Content: post proof and its review, extra rounds, cancel.
                (.post, "/v1/deliverables/\(d)/post/verify", brand, nil, .forbidden),
                (.post, "/v1/deliverables/\(d)/post/reject", finance, reason, .forbidden),
                (.post, "/v1/deliverables/\(d)/extra-round", finance, nil, .forbidden),
                (.post, "/v1/deliverables/\(d)/cancel", finance, reason, .forbidden),
                (.post, "/v1/deliverables/\(d)/cancel", kol, reason, .forbidden),
                (.post, "/v1/deliverables/\(d)/cancel", otherKol, reason, .notFound),
                (.post, "/v1/deliverables/\(d)/drafts", officer, DraftBody(caption: "x"), .forbidden),
                (.post, "/v1/deliverables/\(d)/drafts", otherKol, DraftBody(caption: "x"), .notFound),
                (.post, "/v1/deliverables/\(d)/post", brand, PostBody(url: "https://x.id/p", postedAt: "2026-11-01T10:00:00Z"), .forbidden),
                (.post, "/v1/deliverables/\(d)/insights", officer, InsightsBody(views: 1), .forbidden),
                (.post, "/v1/drafts/\(draft)/reviews", kol, ReviewBody(decision: "approve"), .forbidden),
                (.post, "/v1/drafts/\(draft)/reviews", otherBrand, ReviewBody(decision: "approve"), .notFound),
                (.post, "/v1/campaigns/\(p.campaign)/registrations", officer, RegistrationBody(pitch: "x"), .forbidden),
                (.post, "/v1/campaigns/\(p.campaign)/brief-versions", kol, BriefBody(), .forbidden),
                (.get, "/v1/campaigns/\(p.campaign)/brief-versions/1", kol, nil, .forbidden),
                (.get, "/v1/campaigns/\(p.campaign)/brief-versions/1", otherBrand, nil, .notFound),
                (.get, "/v1/campaigns/\(p.campaign)/brief-versions/1", otherOfficer, nil, .notFound),
                (.post, "/v1/campaigns/\(p.campaign)/brief-versions", otherBrand, BriefBody(), .notFound),
                (.patch, "/v1/campaigns/\(p.campaign)", kol, CampaignUpdateBody(title: "x"), .forbidden),
                (.patch, "/v1/campaigns/\(p.campaign)", otherBrand, CampaignUpdateBody(title: "x"), .notFound),
                (.get, "/v1/drafts/\(draft)", otherKol, nil, .notFound),
                (.get, "/v1/deliverables/\(d)/drafts", otherBrand, nil, .notFound),
                // Campaign reading: strangers see nothing of it.
                (.get, "/v1/campaigns/\(p.campaign)/report.csv", otherBrand, nil, .notFound),
                (.get, "/v1/campaigns/\(p.campaign)/brief", otherOfficer, nil, .notFound),
                (.get, "/v1/campaigns/\(p.campaign)/registrations", otherBrand, nil, .notFound),
                (.get, "/v1/registrations/\(p.registration)/deliverables", otherOfficer, nil, .notFound),
                (
                    .post, "/v1/registrations/\(p.registration)/brief-acknowledgement", otherKol, BriefAcknowledgementBody(version: 1),
                    .notFound
                ),
                // Payouts: brands never, other KOLs and officers not theirs.
                (.get, "/v1/payouts/\(payoutID)", otherOfficer, nil, .notFound),
                (.post, "/v1/payouts/\(payoutID)/approve", otherKol, nil, .notFound),
                // Users and brands.
                (.get, "/v1/users/\(officer.id)", brand, nil, .notFound),
                (.get, "/v1/brands/\(otherBrandID)", kol, nil, .notFound),
            ]
            for (method, path, account, body, expected) in cases {
                let response = try await app.request(method, path, token: account.token, body: body?.jsonText)
                #expect(response.status == expected, "\(method) \(path) as \(account.role): \(response.status.code) \(response.text)")
                #expect(response.isProblem, "\(method) \(path) answers a problem document")
                // The order of checks: who may see and act is decided before the body is read, so a
                // caller who may not gets the same answer whatever it sends (empty, wrong, broken JSON):
                // these bodies are malformed on purpose.
                guard body != nil else { continue }
                for bad in ["{}", "{\"nmae\": 1}", "{not json", "{\"reason\": \"a\\u0000b\"}"] {
                    let refused = try await app.request(method, path, token: account.token, body: bad)
                    #expect(
                        refused.status == expected,
                        "\(method) \(path) as \(account.role) with \(bad): \(refused.status.code) \(refused.text)")
                }
            }
            #expect(cases.count > 40)
            // Nothing moved.
            #expect(try await app.get("/v1/payouts/\(payoutID)", token: finance.token)["status"] == "exported")
            #expect(try await app.deliverableStatus(d, as: officer) == "completed")
            #expect(try await app.count("SELECT count(*)::int FROM insights WHERE status = 'verified'") == 4)
        }
    }

    @Test func everyEndpointWantsATokenExceptThePublicOnes() async throws {
        try await TestApp.run { app in
            let document =
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: repositoryRoot.appendingPathComponent("openapi.json"))) as? [String: Any]
            let paths = try #require(document?["paths"] as? [String: [String: Any]])
            #expect(paths.count > 40, "the document lists the API's paths")
            var checked = 0
            let publicRoutes: Set<String> = [
                "GET /", "GET /health", "GET /ready", "GET /metrics", "GET /v1/openapi.json", "POST /v1/auth/tokens", "POST /v1/kols",
            ]
            let id = UUID().uuidString
            for (path, operations) in paths {
                for method in operations.keys where ["get", "post", "patch", "delete"].contains(method) {
                    let route = "\(method.uppercased()) \(path)"
                    guard !publicRoutes.contains(route) else { continue }
                    let concrete = path.replacingOccurrences(of: "{id}", with: id).replacingOccurrences(of: "{version}", with: "1")
                    let response = try await app.request(
                        HTTPRequest.Method(method.uppercased())!, concrete, body: method == "get" ? nil : "{}")
                    #expect(response.status == .unauthorized, "\(route) answered \(response.status.code) without a token")
                    checked += 1
                }
            }
            #expect(checked > 50, "every non-public operation was tried")
        }
    }
}
