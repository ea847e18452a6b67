import Foundation
import KolabDomain
import KolabStore
import PostgresNIO
import Testing

/// Issue 12, item 3: a client choosing `limit` must not grow PostgreSQL's memory. Every value is a
/// bound parameter, so a thousand distinct limits are one prepared statement; and a connection never
/// keeps more than `PreparedNames.capPerConnection` statements, whatever text reaches it.
@Suite("Prepared statements stay bounded")
struct StatementCacheTests {
    static func preparedCount(_ connection: PostgresConnection) async throws -> Int {
        for try await count in try await connection.query(
            "SELECT count(*)::int FROM pg_prepared_statements WHERE name LIKE 'kolab_%'", logger: testLogger
        ).decode(Int.self) { return count }
        return 0
    }

    @Test func aThousandDistinctLimitsPrepareOneStatement() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            _ = try await app.draftCampaign(by: cast.officer, brandID: cast.brandID)
            let admin = Actor(userID: UUID(uuidString: cast.admin.id)!, role: .admin, brandID: nil)
            let prepared = try await app.sql { database in
                try await database.withConnection { connection in
                    let campaigns = CampaignStore(logger: testLogger)
                    for limit in 1...1000 {
                        let page = try await campaigns.list(visibleTo: admin, CampaignFilter(), after: nil, limit: limit, on: connection)
                        #expect(page.items.count == 1)
                    }
                    return try await Self.preparedCount(connection)
                }
            }
            #expect(prepared == 1)
        }
    }

    @Test func aConnectionKeepsAtMostTheCapAndStillAnswersPastIt() async throws {
        try await TestApp.run { app in
            let (prepared, answers) = try await app.sql { database in
                try await database.withConnection { connection in
                    var answers = 0
                    for n in 0..<(PreparedNamesCap.value + 40) {
                        for try await value in try await connection.run(PostgresQuery(unsafeSQL: "SELECT \(n)::int"), logger: testLogger)
                            .decode(Int.self) where value == n
                        { answers += 1 }
                    }
                    return (try await Self.preparedCount(connection), answers)
                }
            }
            #expect(answers == PreparedNamesCap.value + 40)
            #expect(prepared == PreparedNamesCap.value)
        }
    }
}
