import Foundation
import HTTPTypes
import KolabDomain
import KolabStore
import NIOCore
import PostgresNIO
import Testing

/// The token cache (docs/architecture.md, "The token cache"): a request's token is read from the
/// database only when this instance has not read it lately, and every change of a token or of a
/// user's role or brand, made anywhere, reaches every instance's cache through its notice.
@Suite("Token cache")
struct ActorCacheTests {
    static let actor = Actor(userID: UUID(), role: .kol, brandID: nil)
    static let hash = AuthStore.hash(token: "kt_an_example_token")

    /// Polls `condition` every 20 ms; fails the test when it does not hold within `timeout`.
    static func eventually(
        _ what: String, timeout: Duration = .seconds(5), sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("\(what): not within \(timeout)", sourceLocation: sourceLocation)
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test func withoutAListenerItAnswersNothingAndKeepsNothing() {
        let cache = ActorCache()
        #expect(cache.generation() == nil)
        cache.setListening(true)
        let generation = try! #require(cache.generation())
        cache.setListening(false)
        cache.keep(Self.actor, expiresAt: .distantFuture, forTokenHash: Self.hash, generation: generation)
        #expect(cache.count == 0)
        #expect(cache.actor(forTokenHash: Self.hash, now: Date()) == nil)
    }

    @Test func aLookupThatRacedANoticeDoesNotKeepWhatItRead() throws {
        let cache = ActorCache()
        cache.setListening(true)
        let before = try #require(cache.generation())
        cache.receive(notice: String(Self.hash.readableBytesView.map { String(format: "%02x", $0) }.joined()))
        cache.keep(Self.actor, expiresAt: .distantFuture, forTokenHash: Self.hash, generation: before)
        #expect(cache.actor(forTokenHash: Self.hash, now: Date()) == nil, "a read from before the notice came back")
        let after = try #require(cache.generation())
        cache.keep(Self.actor, expiresAt: .distantFuture, forTokenHash: Self.hash, generation: after)
        #expect(cache.actor(forTokenHash: Self.hash, now: Date()) == Self.actor)
    }

    @Test func expiryAgeNoticesAndCapacityAllEndAnEntry() throws {
        let cache = ActorCache(maximumAge: .milliseconds(50), capacity: 2)
        cache.setListening(true)
        let now = Date()
        var generation = try #require(cache.generation())
        cache.keep(Self.actor, expiresAt: now.addingTimeInterval(10), forTokenHash: Self.hash, generation: generation)
        #expect(cache.actor(forTokenHash: Self.hash, now: now) == Self.actor)
        #expect(cache.actor(forTokenHash: Self.hash, now: now.addingTimeInterval(10)) == nil, "expired")
        cache.keep(Self.actor, expiresAt: .distantFuture, forTokenHash: Self.hash, generation: generation)
        Thread.sleep(forTimeInterval: 0.08)
        #expect(cache.actor(forTokenHash: Self.hash, now: Date()) == nil, "older than the maximum age")
        // '*' (a user's role or brand changed) forgets everything; a malformed payload does too.
        for notice in ["*", "not-hex"] {
            generation = try #require(cache.generation())
            cache.keep(Self.actor, expiresAt: .distantFuture, forTokenHash: Self.hash, generation: generation)
            cache.receive(notice: notice)
            #expect(cache.count == 0)
        }
        generation = try #require(cache.generation())
        for token in ["a", "b", "c"] {
            cache.keep(Self.actor, expiresAt: .distantFuture, forTokenHash: AuthStore.hash(token: token), generation: generation)
        }
        #expect(cache.count <= 2)
    }

    /// The triggers and the listener together, on a real database: an entry goes when its token row
    /// changes, everything goes when a user's role changes.
    @Test func changesInTheDatabaseReachTheCacheThroughTheirNotices() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let hash = AuthStore.hash(token: admin.token)
            let userID = try #require(UUID(uuidString: admin.id))
            let cache = ActorCache()
            try await app.sql { database in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await ActorCacheListener(database: database, cache: cache, logger: testLogger).run() }
                    try await Self.eventually("the listener connects") { cache.isListening }
                    func keep() throws {
                        let generation = try #require(cache.generation())
                        cache.keep(Self.actor, expiresAt: .distantFuture, forTokenHash: hash, generation: generation)
                        #expect(cache.actor(forTokenHash: hash, now: Date()) == Self.actor)
                    }
                    try keep()
                    try await app.execute("UPDATE auth_tokens SET expires_at = expires_at - interval '1 minute' WHERE token_hash = \(hash)")
                    try await Self.eventually("a changed token is forgotten") { cache.actor(forTokenHash: hash, now: Date()) == nil }
                    try keep()
                    try await app.execute("UPDATE users SET role = 'finance' WHERE id = \(userID)")
                    try await Self.eventually("a changed role forgets every entry") { cache.count == 0 }
                    group.cancelAll()
                }
            }
        }
    }

    /// Through the API, two instances on one database: a token both have used, revoked on one, is
    /// refused there at once and on the other as soon as the notice arrives.
    @Test func aRevokedTokenIsRefusedByEveryInstance() async throws {
        try await TestApp.runTwoInstances { first, second in
            let admin = try await first.admin()
            for _ in 0..<3 {
                #expect(try await first.get("/v1/me", token: admin.token).status == .ok)
                #expect(try await second.get("/v1/me", token: admin.token).status == .ok)
            }
            #expect(try await first.request(.delete, "/v1/auth/tokens/current", token: admin.token).status == .noContent)
            #expect(try await first.get("/v1/me", token: admin.token).status == .unauthorized)
            try await Self.eventually("the other instance refuses the revoked token") {
                try await second.get("/v1/me", token: admin.token).status == .unauthorized
            }
        }
    }

    /// A role changed in the database (there is no endpoint for it) is the role of the next requests.
    @Test func aRoleChangedInTheDatabaseTakesEffect() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let userID = try #require(UUID(uuidString: admin.id))
            for _ in 0..<3 { #expect(try await app.get("/v1/users", token: admin.token).status == .ok) }
            try await app.execute("UPDATE users SET role = 'finance' WHERE id = \(userID)")
            try await Self.eventually("the demoted admin loses the user list") {
                try await app.get("/v1/users", token: admin.token).status == .forbidden
            }
        }
    }
}
