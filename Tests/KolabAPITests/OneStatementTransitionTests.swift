import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import PostgresNIO
import Testing

/// Post proof, its check and its rejection are decided on rows read without locks and applied in one
/// statement guarded by the deliverable's and the campaign's revisions (docs/architecture.md,
/// "Transitions in one statement"). Each test holds a second connection's transaction open across
/// the request's decision and commits it while the request's statement waits for its lock: the
/// request must then answer as if it had come after that transaction, and write nothing else.
@Suite("Transitions in one statement, raced over two connections")
struct OneStatementTransitionTests {
    /// A KOL on a campaign without brand review whose feed deliverable is approved, waiting for its post.
    func approved(_ app: TestApp) async throws -> Production {
        let p = try await app.production { $0.brandReviewRequired = false }
        let draft = try #require(try await app.submitDraft(p.feed, by: p.cast.kol)["id"])
        let approval = try await app.review(draft, "approve", by: p.cast.officer)
        try #require(approval.status == .created, "\(approval.text)")
        return p
    }

    func postProof(_ app: TestApp, _ p: Production, key: String? = nil) async throws -> APIResponse {
        try await app.post(
            "/v1/deliverables/\(p.feed)/post", token: p.cast.kol.token,
            PostBody(url: "https://instagram.com/p/sahur", postedAt: "2026-11-01T10:00:00Z"),
            headers: key.map { .idempotencyKey($0) } ?? [:])
    }

    /// Runs `hold` in a transaction on a connection of its own, starts `request` while that transaction
    /// is open, waits until the request's statement waits for one of its locks, then commits.
    func race(
        _ app: TestApp, hold: @escaping @Sendable (PostgresConnection) async throws -> Void,
        request: @escaping @Sendable () async throws -> APIResponse
    ) async throws -> APIResponse {
        let task = try await app.sql { database in
            try await database.withTransaction { connection -> Task<APIResponse, any Error> in
                try await hold(connection)
                let task = Task { try await request() }
                try await app.waitUntilAStatementWaitsForALock()
                return task
            }
        }
        return try await task.value
    }

    func events(_ app: TestApp, _ p: Production, to state: String) async throws -> Int {
        try await app.count(
            "SELECT count(*)::int FROM events WHERE entity_id = \(UUID(uuidString: p.feed)!) AND to_state = \(state)")
    }

    /// With and without an idempotency key (the step then runs, and falls back, inside the request's
    /// own transaction).
    @Test(arguments: [nil, "proof-during-cancel"])
    func aPostProofDecidedBeforeACampaignCancelCommitsIsRefusedAfterIt(key: String?) async throws {
        try await TestApp.run(configure: { $0.databasePoolSize = 4 }) { app in
            let p = try await approved(app)
            let officer = Actor(userID: UUID(uuidString: p.cast.officer.id)!, role: .officer, brandID: nil)
            let campaignID = UUID(uuidString: p.campaign)!
            // The real cancel: the campaign FOR UPDATE, every open deliverable cancelled, not yet committed.
            let posted = try await race(
                app,
                hold: { connection in
                    _ = try await Workflows(logger: testLogger).perform(.cancel, campaign: campaignID, actor: officer, on: connection)
                },
                request: { try await postProof(app, p, key: key) })
            #expect(posted.status == .conflict, "\(posted.text)")
            #expect(posted.isProblem)
            #expect(try await app.deliverableStatus(p.feed, as: p.cast.officer) == "cancelled")
            #expect(try await events(app, p, to: "posted") == 0, "a refused transition writes no event")
            #expect(try await events(app, p, to: "cancelled") == 1)
        }
    }

    @Test func aPostProofDecidedBeforeTheDeliverableIsCancelledIsRefusedAfterIt() async throws {
        try await TestApp.run(configure: { $0.databasePoolSize = 4 }) { app in
            let p = try await approved(app)
            let officer = Actor(userID: UUID(uuidString: p.cast.officer.id)!, role: .officer, brandID: nil)
            let deliverableID = UUID(uuidString: p.feed)!
            // The officer's cancel of this one deliverable holds its row lock (the campaign only shared).
            let posted = try await race(
                app,
                hold: { connection in
                    _ = try await Workflows(logger: testLogger).cancelDeliverable(
                        deliverable: deliverableID, reason: "brand paused the feed", actor: officer, on: connection)
                },
                request: { try await postProof(app, p) })
            #expect(posted.status == .conflict, "\(posted.text)")
            #expect(try await app.deliverableStatus(p.feed, as: p.cast.officer) == "cancelled")
            #expect(try await events(app, p, to: "posted") == 0)
        }
    }

    /// A change that does not touch the decision (the campaign's row updated for something else) only
    /// sends the request the locked way: it still succeeds, once.
    @Test func aCampaignChangedMeanwhileSendsTheTransitionTheLockedWayAndItSucceedsOnce() async throws {
        try await TestApp.run(configure: { $0.databasePoolSize = 4 }) { app in
            let p = try await approved(app)
            let campaignID = UUID(uuidString: p.campaign)!
            let posted = try await race(
                app,
                hold: { connection in
                    try await connection.query("UPDATE campaigns SET updated_at = now() WHERE id = \(campaignID)", logger: testLogger)
                },
                request: { try await postProof(app, p) })
            #expect(posted.status == .ok, "\(posted.text)")
            #expect(posted["status"] == "posted")
            #expect(posted["post_url"] == "https://instagram.com/p/sahur")
            #expect(try await events(app, p, to: "posted") == 1)
            // And the officer's rejection, with nothing in its way, moves it back at once.
            let rejected = try await app.post(
                "/v1/deliverables/\(p.feed)/post/reject", token: p.cast.officer.token, RawJSON(text: #"{"reason":"wrong link"}"#))
            #expect(rejected.status == .ok, "\(rejected.text)")
            #expect(rejected["status"] == "approved")
            #expect(rejected.json["post_url"] is NSNull)
            let timeline = try await app.get("/v1/campaigns/\(p.campaign)/events?limit=200", token: p.cast.officer.token).data
            let last = try #require(timeline.last)
            #expect(last["entity_id"] as? String == p.feed)
            #expect(last["from"] as? String == "posted")
            #expect(last["to"] as? String == "approved")
            #expect((last["data"] as? [String: Any])?["reason"] as? String == "wrong link")
            #expect(last["actor_id"] as? String == p.cast.officer.id)
        }
    }

    /// The check of a post reads the campaign's `insights_after_days`: a change of it committed between
    /// the decision and the statement must be the one the due date is counted from.
    @Test func aPostCheckedWhileTheCampaignChangesItsInsightsDelayCountsFromTheNewOne() async throws {
        try await TestApp.run(configure: { $0.databasePoolSize = 4 }) { app in
            let p = try await approved(app)
            #expect(try await postProof(app, p).status == .ok)
            let campaignID = UUID(uuidString: p.campaign)!
            #expect(try await app.count("SELECT insights_after_days::int FROM campaigns WHERE id = \(campaignID)") != 10)
            let verified = try await race(
                app,
                hold: { connection in
                    try await connection.query("UPDATE campaigns SET insights_after_days = 10 WHERE id = \(campaignID)", logger: testLogger)
                },
                request: { try await app.post("/v1/deliverables/\(p.feed)/post/verify", token: p.cast.officer.token) })
            #expect(verified.status == .ok, "\(verified.text)")
            #expect(verified["status"] == "live")
            #expect(verified["insights_due_at"] == "2026-11-11T10:00:00Z", "ten days after the post, as the campaign says now")
            #expect(try await events(app, p, to: "live") == 1)
        }
    }

    /// With an idempotency key the request runs in its own transaction: the step runs inside it, its
    /// answer is stored with it, and the repeat replays that answer without moving anything again.
    @Test func aStepWithAnIdempotencyKeyCommitsWithItsAnswerAndIsReplayed() async throws {
        try await TestApp.run { app in
            let p = try await approved(app)
            let first = try await postProof(app, p, key: "proof-1")
            #expect(first.status == .ok, "\(first.text)")
            #expect(first["status"] == "posted")
            let replay = try await postProof(app, p, key: "proof-1")
            #expect(replay.status == .ok)
            #expect(replay.headers[.init("Idempotent-Replayed")!] == "true")
            #expect(replay.text == first.text)
            #expect(try await events(app, p, to: "posted") == 1)
            // Without the key the same step is a new request: the deliverable has moved, so it is a 409.
            let again = try await postProof(app, p)
            #expect(again.status == .conflict, "\(again.text)")
            #expect(again.isProblem)
            #expect(try await events(app, p, to: "posted") == 1)
        }
    }
}

extension TestApp {
    /// Polls until one of this database's sessions waits for a lock (at most 10 s).
    func waitUntilAStatementWaitsForALock() async throws {
        for _ in 0..<200 {
            let waiting = try await count(
                "SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
            if waiting > 0 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("no statement waited for a lock within 10 s")
    }
}
