import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import NIOCore
import PostgresNIO
import Testing

@Suite("Login, tokens and the caller's account")
struct AuthTests {
    @Test func loginGivesATokenThatOpensMe() async throws {
        try await TestApp.run { app in
            // setup
            let admin = try await app.admin()
            // MUT
            let me = try await app.get("/v1/me", token: admin.token)
            // validate
            #expect(me.status == .ok)
            #expect(me["email"] == admin.email)
            #expect(me["role"] == "admin")
        }
    }

    @Test func meWithoutATokenIs401ProblemWithBearerChallenge() async throws {
        try await TestApp.run { app in
            let response = try await app.get("/v1/me")
            #expect(response.status == .unauthorized)
            #expect(response.isProblem)
            #expect(response.json["status"] as? Int == 401)
            #expect(response.headers[.wwwAuthenticate] == "Bearer")
        }
    }

    @Test func garbageAndUnknownTokensAre401() async throws {
        try await TestApp.run { app in
            #expect(try await app.get("/v1/me", token: "kolab_not-a-real-token").status == .unauthorized)
            let malformed = try await app.request(.get, "/v1/me", headers: [.authorization: "Basic abc"])
            #expect(malformed.status == .unauthorized)
        }
    }

    @Test func wrongPasswordAndUnknownEmailGetTheSame401() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let wrong = try await app.post("/v1/auth/tokens", LoginBody(email: admin.email, password: "not-the-password"))
            let unknown = try await app.post("/v1/auth/tokens", LoginBody(email: "nobody@kolab.test", password: "not-the-password"))
            #expect(wrong.status == .unauthorized)
            #expect(unknown.status == .unauthorized)
            #expect(wrong["detail"] == unknown["detail"])
        }
    }

    @Test func loggingOutRevokesTheToken() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let revoked = try await app.request(.delete, "/v1/auth/tokens/current", token: admin.token)
            #expect(revoked.status == .noContent)
            #expect(try await app.get("/v1/me", token: admin.token).status == .unauthorized)
        }
    }

    @Test func logoutWithoutATokenIs401() async throws {
        try await TestApp.run { app in
            let response = try await app.request(.delete, "/v1/auth/tokens/current")
            #expect(response.status == .unauthorized)
        }
    }

    @Test func tenFailedLoginsLockTheEmailWith429AndRetryAfter() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            for _ in 0..<10 {
                let failed = try await app.post("/v1/auth/tokens", LoginBody(email: admin.email, password: "wrong-password-1"))
                #expect(failed.status == .unauthorized)
            }
            // Even the right password is refused while locked.
            let locked = try await app.post("/v1/auth/tokens", LoginBody(email: admin.email, password: testPassword))
            #expect(locked.status == .tooManyRequests)
            #expect(locked.isProblem)
            let retryAfter = Int(locked.headers[.retryAfter] ?? "") ?? 0
            #expect(retryAfter > 0 && retryAfter <= 15 * 60)
            // Another e-mail is not affected.
            let other = try await app.post("/v1/auth/tokens", LoginBody(email: "someone-else@kolab.test", password: "wrong-password-1"))
            #expect(other.status == .unauthorized)
        }
    }

    @Test func expiredTokensAre401() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            #expect(try await app.get("/v1/me", token: admin.token).status == .ok)  // read once: the instance keeps it
            try await app.execute(
                "UPDATE auth_tokens SET created_at = created_at - interval '1 day', expires_at = created_at - interval '1 day' + interval '1 second'"
            )
            // The change reaches the instance's token cache through its notice (milliseconds).
            try await ActorCacheTests.eventually("the expired token is refused") {
                try await app.get("/v1/me", token: admin.token).status == .unauthorized
            }
        }
    }

    @Test func tokensAndPasswordsAreNotStoredInClear() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let (hashes, tokenHashes) = try await app.sql { db in
                try await db.withConnection { connection in
                    var hashes: [String] = []
                    for try await hash in try await connection.query("SELECT password_hash FROM users", logger: testLogger).decode(
                        String.self)
                    {
                        hashes.append(hash)
                    }
                    var tokens: [ByteBuffer] = []
                    for try await token in try await connection.query("SELECT token_hash FROM auth_tokens", logger: testLogger).decode(
                        ByteBuffer.self)
                    {
                        tokens.append(token)
                    }
                    return (hashes, tokens)
                }
            }
            #expect(!hashes.isEmpty)
            for hash in hashes {
                #expect(hash.hasPrefix("$2"))
                #expect(!hash.contains(testPassword))
            }
            #expect(tokenHashes.count == 1)
            #expect(tokenHashes.first.map { Array($0.readableBytesView) } == Array(AuthStore.hash(token: admin.token).readableBytesView))
            #expect(tokenHashes.first.map { String(buffer: $0).contains(admin.token) } == false)
        }
    }

    @Test func loginWithMalformedBodiesIs400Or422() async throws {
        try await TestApp.run { app in
            #expect(try await app.post("/v1/auth/tokens", raw: "{\"email\": ").status == .badRequest)
            let missing = try await app.post("/v1/auth/tokens", RawJSON(["email": "a@b.co"]))  // the password missing on purpose
            #expect(missing.status == .unprocessableContent)
            #expect(missing.errorFields == ["password"])
            let wrongType = try await app.post("/v1/auth/tokens", RawJSON(["email": 42, "password": "x"]))  // wrongly typed on purpose
            #expect(wrongType.status == .unprocessableContent)
            #expect(wrongType.errorFields == ["email"])
        }
    }
}
