import Foundation
import KolabDomain
import KolabStore
import PostgresNIO
import Synchronization
import Testing

/// A request waits a bounded time for a pooled connection (`Database.leaseTimeout`), then answers 503;
/// the waits share one clock (`LeaseDeadlines`), so this holds for many waits at once and the pool
/// serves again as soon as a connection is free.
@Suite("Waiting for a pooled connection is bounded")
struct LeaseDeadlineTests {
    @Test func waitsPastTheLeaseTimeoutAnswer503AndThePoolServesAgainAfterwards() async throws {
        try await TestApp.run { app in
            let client = PostgresClient(
                configuration: app.databaseURL.clientConfiguration(maximumConnections: 1), backgroundLogger: testLogger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                let database = Database(client: client, maximumConnections: 1, logger: testLogger, leaseTimeout: .milliseconds(300))
                let (held, holding) = AsyncStream.makeStream(of: Void.self)
                let (release, releasing) = AsyncStream.makeStream(of: Void.self)
                let holder = Task {
                    try await database.withConnection { _ in
                        holding.yield()
                        for await _ in release { break }
                    }
                }
                for await _ in held { break }
                // Five requests wait at once while the only connection is held: each gets 503 after
                // the timeout (and not long after it), none gets a connection.
                let outcomes = try await withThrowingTaskGroup(of: (KolabError.Code?, Duration).self) { waits in
                    for _ in 0..<5 {
                        waits.addTask {
                            let started = ContinuousClock.now
                            do {
                                try await database.withConnection { _ in }
                                return (nil, ContinuousClock.now - started)
                            } catch let error as KolabError {
                                return (error.code, ContinuousClock.now - started)
                            }
                        }
                    }
                    return try await waits.reduce(into: []) { $0.append($1) }
                }
                for (code, waited) in outcomes {
                    #expect(code == .unavailable)
                    #expect(waited >= .milliseconds(300) && waited < .seconds(3), "waited \(waited)")
                }
                releasing.yield()
                try await holder.value
                let answer = try await database.withConnection { connection in
                    var values: [Int] = []
                    for try await value in try await connection.query("SELECT 41 + 1", logger: testLogger).decode(Int.self) {
                        values.append(value)
                    }
                    return values
                }
                #expect(answer == [42])
            }
        }
    }
}
