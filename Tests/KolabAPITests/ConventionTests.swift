import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import NIOCore
import PostgresNIO
import Testing

@Suite("API conventions: problems, limits, idempotency, cursors")
struct ConventionTests {
    @Test func malformedJsonIs400Problem() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            for raw in ["{", "[]", "\"text\"", "{\"name\": }", ""] {
                let response = try await app.post("/v1/brands", token: admin.token, raw: raw)
                #expect(response.status == .badRequest, "body \(raw): \(response.text)")
                #expect(response.isProblem)
                #expect(response.json["type"] as? String == "urn:kolab:problem:malformed")
            }
            #expect(try await app.count("SELECT count(*)::int FROM brands") == 0)
        }
    }

    @Test func bodiesOverOneMebibyteAre413AndChangeNothing() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let huge = "{\"name\": \"" + String(repeating: "a", count: 1_100_000) + "\"}"
            let response = try await app.post("/v1/brands", token: admin.token, raw: huge)
            #expect(response.status == .contentTooLarge)
            #expect(response.isProblem)
            let signUp = try await app.post("/v1/kols", raw: huge)
            #expect(signUp.status == .contentTooLarge)
            #expect(try await app.count("SELECT count(*)::int FROM brands") == 0)
        }
    }

    @Test func unknownRoutesAnswerA404Problem() async throws {
        try await TestApp.run { app in
            let response = try await app.get("/v1/nothing-here")
            #expect(response.status == .notFound)
            #expect(response.isProblem)
        }
    }

    @Test func aKnownPathWithAnotherMethodAnswers405NamingTheMethods() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let campaign = try await app.request(.delete, "/v1/campaigns/\(UUID())", token: admin.token)
            #expect(campaign.status == .methodNotAllowed)
            #expect(campaign.headers[.allow] == "GET, PATCH")
            #expect(campaign.isProblem)
            let health = try await app.request(.post, "/health", body: "{}")
            #expect(health.status == .methodNotAllowed)
            #expect(health.headers[.allow] == "GET")
            #expect(try await app.request(.get, "/v1/auth/tokens").headers[.allow] == "POST")
            #expect(try await app.request(.delete, "/v1/nothing/here").status == .notFound)
        }
    }

    @Test func everyResponseCarriesARequestId() async throws {
        try await TestApp.run { app in
            let ok = try await app.get("/health")
            let problem = try await app.get("/v1/me")
            #expect(ok.headers[.init("X-Request-Id")!]?.isEmpty == false)
            #expect(problem.headers[.init("X-Request-Id")!]?.isEmpty == false)
            #expect(ok.headers[.init("X-Request-Id")!] != problem.headers[.init("X-Request-Id")!])
        }
    }

    // MARK: Idempotency-Key

    @Test func aRepeatedKeyReplaysTheFirstAnswer() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let first = try await app.post("/v1/brands", token: admin.token, BrandBody(name: "Once"), headers: .idempotencyKey("k-1"))
            let second = try await app.post("/v1/brands", token: admin.token, BrandBody(name: "Once"), headers: .idempotencyKey("k-1"))
            #expect(first.status == .created)
            #expect(first.headers[.init("Idempotent-Replayed")!] == nil)
            #expect(second.status == .created)
            #expect(second.headers[.init("Idempotent-Replayed")!] == "true")
            #expect(second["id"] == first["id"])
            #expect(second.headers[.location] == first.headers[.location])
            #expect(try await app.count("SELECT count(*)::int FROM brands") == 1)
        }
    }

    @Test func theSameKeyWithAnotherBodyIs422() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            #expect(
                try await app.post("/v1/brands", token: admin.token, BrandBody(name: "A"), headers: .idempotencyKey("k")).status == .created
            )
            let other = try await app.post("/v1/brands", token: admin.token, BrandBody(name: "B"), headers: .idempotencyKey("k"))
            #expect(other.status == .unprocessableContent)
            #expect(other.errorFields == ["Idempotency-Key"])
            #expect(try await app.count("SELECT count(*)::int FROM brands") == 1)
        }
    }

    @Test func keysAreScopedToTheCaller() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let secondAdmin = try await app.user(.admin, by: admin)
            let a = try await app.post("/v1/brands", token: admin.token, BrandBody(name: "A"), headers: .idempotencyKey("shared"))
            let b = try await app.post("/v1/brands", token: secondAdmin.token, BrandBody(name: "B"), headers: .idempotencyKey("shared"))
            #expect(a.status == .created && b.status == .created)
            #expect(a["id"] != b["id"])
        }
    }

    @Test func aFailedRequestDoesNotUseUpItsKey() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let invalid = try await app.post("/v1/brands", token: admin.token, BrandBody(name: ""), headers: .idempotencyKey("retry"))
            #expect(invalid.status == .unprocessableContent)
            let fixed = try await app.post("/v1/brands", token: admin.token, BrandBody(name: "Fixed"), headers: .idempotencyKey("retry"))
            #expect(fixed.status == .created)
        }
    }

    @Test func keysOlderThanADayAreForgotten() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            #expect(
                try await app.post("/v1/brands", token: admin.token, BrandBody(name: "Old"), headers: .idempotencyKey("day")).status
                    == .created)
            try await app.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
            let again = try await app.post("/v1/brands", token: admin.token, BrandBody(name: "New"), headers: .idempotencyKey("day"))
            #expect(again.status == .created)
            #expect(again.headers[.init("Idempotent-Replayed")!] == nil)
        }
    }

    @Test func sixteenConcurrentRequestsWithOneKeyCreateExactlyOneRow() async throws {
        try await TestApp.run(configure: { $0.databasePoolSize = 20 }) { app in
            let admin = try await app.admin()
            let responses = try await withThrowingTaskGroup(of: APIResponse.self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        try await app.post(
                            "/v1/brands", token: admin.token, BrandBody(name: "Concurrent"), headers: .idempotencyKey("burst"))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(try await app.count("SELECT count(*)::int FROM brands") == 1)
            let created = responses.filter { $0.status == .created }
            let inFlight = responses.filter { $0.status == .conflict }
            #expect(created.count + inFlight.count == 16)
            #expect(Set(created.compactMap { $0["id"] }).count == 1)
            // A conflict here is "still running", never "a brand with this name exists".
            #expect(inFlight.allSatisfy { $0["detail"]?.contains("Idempotency-Key") == true })
            #expect(created.filter { $0.headers[.init("Idempotent-Replayed")!] == nil }.count == 1)
        }
    }

    // MARK: Cursors

    @Test func limitIsCappedAt200AndValidated() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let capped = try await app.get("/v1/brands?limit=5000", token: admin.token)
            #expect(capped.status == .ok)
            for bad in ["0", "-1", "ten"] {
                let response = try await app.get("/v1/brands?limit=\(bad)", token: admin.token)
                #expect(response.status == .unprocessableContent)
                #expect(response.errorFields == ["limit"])
            }
        }
    }

    @Test func tamperedAndForeignCursorsAre400() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            for i in 0..<3 { _ = try await app.brand("Brand \(i)", by: admin) }
            for _ in 0..<2 { _ = try await app.user(.officer, by: admin) }
            let page = try await app.get("/v1/brands?limit=1", token: admin.token)
            let cursor = try #require(page["next_cursor"])
            #expect(try await app.get("/v1/brands?limit=1&cursor=\(cursor)", token: admin.token).status == .ok)
            // Flip one character of the payload.
            var chars = Array(cursor)
            chars[2] = chars[2] == "A" ? "B" : "A"
            let tampered = try await app.get("/v1/brands?limit=1&cursor=\(String(chars))", token: admin.token)
            #expect(tampered.status == .badRequest)
            #expect(tampered.isProblem)
            let foreign = try await app.get("/v1/users?limit=1&cursor=\(cursor)", token: admin.token)
            #expect(foreign.status == .badRequest)
            #expect(try await app.get("/v1/brands?cursor=garbage", token: admin.token).status == .badRequest)
        }
    }

    @Test func aCursorWalkWhileRowsAreInsertedSeesNoRowTwice() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            for i in 0..<10 { _ = try await app.brand("Before \(i)", by: admin) }
            var seen: [String] = []
            var cursor: String?
            var inserted = 0
            repeat {
                let path = "/v1/brands?limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await app.get(path, token: admin.token)
                #expect(page.status == .ok)
                seen += page.data.compactMap { $0["id"] as? String }
                cursor = page["next_cursor"]
                // Others keep adding brands while the walk goes on.
                for _ in 0..<2 {
                    _ = try await app.brand("During \(inserted)", by: admin)
                    inserted += 1
                }
            } while cursor != nil && seen.count < 200
            #expect(Set(seen).count == seen.count, "a row came back twice")
            #expect(seen.count >= 10)
            #expect(seen.count == 10 + inserted - 2)  // everything but the last two inserted after the last page
        }
    }
}
