import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import PostgresNIO
import Testing

/// Accepting never takes a campaign past `kol_slots`, however many accept at once, on however many instances.
@Suite("The slot limit under concurrency")
struct SlotLimitTests {
    /// Registers `count` KOLs for a 5-slot campaign and returns the campaign and the registrations.
    static func crowd(_ app: TestApp, _ cast: TestApp.Cast, count: Int) async throws -> (String, [String]) {
        let id = try await app.recruitingCampaign(by: cast.officer, brandID: cast.brandID, slots: 5)
        var registrations: [String] = []
        for _ in 0..<count { registrations.append(try await app.register(try await app.kol(), for: id)) }
        return (id, registrations)
    }

    static func report(_ name: String, _ responses: [APIResponse], app: TestApp, campaign: String) async throws {
        let accepted = responses.filter { $0.status == .ok }.count
        let refused = responses.filter { $0.status == .conflict }.count
        let stored = try await app.count("SELECT accepted_count FROM campaigns WHERE id = '\(unescaped: campaign)'")
        let rows = try await app.count("SELECT count(*)::int FROM registrations WHERE status = 'accepted'")
        // Printed for the note: requests, accepted, refused.
        print(
            "slot test \(name): requests=\(responses.count) accepted=\(accepted) refused=\(refused) accepted_count=\(stored) accepted_rows=\(rows)"
        )
        #expect(accepted == 5)
        #expect(refused == responses.count - 5)
        #expect(stored == 5)
        #expect(rows == 5)
        #expect(responses.filter { $0.status == .conflict }.allSatisfy { $0["detail"]?.contains("slots") == true })
    }

    @Test func thirtyTwoConcurrentAcceptsOnFiveSlotsAcceptExactlyFive() async throws {
        try await TestApp.run(configure: { $0.databasePoolSize = 32 }) { app in
            let cast = try await app.cast()
            let (id, registrations) = try await Self.crowd(app, cast, count: 32)
            let responses = try await withThrowingTaskGroup(of: APIResponse.self) { group in
                for registration in registrations {
                    group.addTask { try await app.act("accept", registration: registration, by: cast.officer) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            try await Self.report("one instance", responses, app: app, campaign: id)
            #expect(
                try await app.count("SELECT count(*)::int FROM events WHERE entity_type = 'registration' AND to_state = 'accepted'") == 5)
            // Each accepted KOL got the brief's four deliverables; the refused got none.
            #expect(try await app.count("SELECT count(*)::int FROM deliverables") == 20)
        }
    }

    @Test func twoServiceInstancesAcceptingAtOnceStillStopAtFive() async throws {
        try await TestApp.runTwoInstances(poolSize: 16) { first, second in
            let cast = try await first.cast()
            let (id, registrations) = try await Self.crowd(first, cast, count: 32)
            let responses = try await withThrowingTaskGroup(of: APIResponse.self) { group in
                for (index, registration) in registrations.enumerated() {
                    let instance = index.isMultiple(of: 2) ? first : second
                    group.addTask { try await instance.act("accept", registration: registration, by: cast.officer) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            try await Self.report("two instances", responses, app: first, campaign: id)
        }
    }
}
