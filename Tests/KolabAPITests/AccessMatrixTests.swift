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
            let settle: [String: Any] = ["payout_ids": [payoutID], "bank_reference": "R", "reason": "x"]
            let reason: [String: Any] = ["reason": "x"]
            let cases: [(HTTPRequest.Method, String, TestApp.Account, [String: Any]?, HTTPResponse.Status)] = [
                // Batches are finance's: everyone else who is logged in gets 403.
                (.get, "/v1/payout-batches/\(batch)", officer, nil, .forbidden),
                (.get, "/v1/payout-batches/\(batch)", brand, nil, .forbidden),
                (.get, "/v1/payout-batches/\(batch)", kol, nil, .forbidden),
                (.get, "/v1/payout-batches/\(batch)/export.csv", kol, nil, .forbidden),
                (.post, "/v1/payout-batches/\(batch)/mark-failed", kol, settle, .forbidden),
                (.post, "/v1/payout-batches/\(batch)/mark-failed", brand, settle, .forbidden),
                (.post, "/v1/payout-batches/\(batch)/mark-paid", officer, settle, .forbidden),
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
                (.get, "/v1/drafts/\(draft)", otherKol, nil, .notFound),
                (.get, "/v1/deliverables/\(d)/drafts", otherBrand, nil, .notFound),
                // Campaign reading: strangers see nothing of it.
                (.get, "/v1/campaigns/\(p.campaign)/report.csv", otherBrand, nil, .notFound),
                (.get, "/v1/campaigns/\(p.campaign)/brief", otherOfficer, nil, .notFound),
                (.get, "/v1/campaigns/\(p.campaign)/registrations", otherBrand, nil, .notFound),
                (.get, "/v1/registrations/\(p.registration)/deliverables", otherOfficer, nil, .notFound),
                (.post, "/v1/registrations/\(p.registration)/brief-acknowledgement", otherKol, ["version": 1], .notFound),
                // Payouts: brands never, other KOLs and officers not theirs.
                (.get, "/v1/payouts/\(payoutID)", otherOfficer, nil, .notFound),
                (.post, "/v1/payouts/\(payoutID)/approve", otherKol, nil, .notFound),
                // Users and brands.
                (.get, "/v1/users/\(officer.id)", brand, nil, .notFound),
                (.get, "/v1/brands/\(otherBrandID)", kol, nil, .notFound),
            ]
            for (method, path, account, body, expected) in cases {
                let response = try await app.request(method, path, token: account.token, body: body.map(json))
                #expect(response.status == expected, "\(method) \(path) as \(account.role): \(response.status.code) \(response.text)")
                #expect(response.isProblem, "\(method) \(path) answers a problem document")
            }
            // Nothing moved.
            #expect(try await app.get("/v1/payouts/\(payoutID)", token: finance.token)["status"] == "exported")
            #expect(try await app.deliverableStatus(d, as: officer) == "completed")
            #expect(try await app.count("SELECT count(*)::int FROM insights WHERE status = 'verified'") == 4)
        }
    }

    @Test func everyEndpointWantsATokenExceptThePublicOnes() async throws {
        try await TestApp.run { app in
            let document = try JSONSerialization.jsonObject(
                with: Data(contentsOf: repositoryRoot.appendingPathComponent("openapi.json"))) as? [String: Any]
            let paths = document?["paths"] as? [String: [String: Any]] ?? [:]
            let publicRoutes: Set<String> = ["GET /health", "GET /ready", "GET /metrics", "GET /v1/openapi.json", "POST /v1/auth/tokens", "POST /v1/kols"]
            let id = UUID().uuidString
            for (path, operations) in paths {
                for method in operations.keys where ["get", "post", "patch", "delete"].contains(method) {
                    let route = "\(method.uppercased()) \(path)"
                    guard !publicRoutes.contains(route) else { continue }
                    let concrete = path.replacingOccurrences(of: "{id}", with: id).replacingOccurrences(of: "{version}", with: "1")
                    let response = try await app.request(HTTPRequest.Method(method.uppercased())!, concrete, body: method == "get" ? nil : "{}")
                    #expect(response.status == .unauthorized, "\(route) answered \(response.status.code) without a token")
                }
            }
        }
    }
}
