import Foundation
import KolabStore
import PostgresNIO
import Testing

/// `kolab sql NAME` prints what the service sends; the benchmark builds its pgbench scripts from it. The
/// catalogue must therefore describe every placeholder of every text, and every text must be valid SQL
/// against the migrated schema (PostgreSQL parses and plans it on `PREPARE`).
@Suite("The statement catalogue (kolab sql)")
struct StatementCatalogueTests {
    @Test func everyPlaceholderIsDescribedOnceAndNamesAreUnique() {
        let entries = StatementCatalogue.entries
        #expect(entries.count >= 10)
        #expect(Set(entries.map(\.name)).count == entries.count)
        for entry in entries {
            var highest = 0
            var index = entry.sql.startIndex
            while let dollar = entry.sql[index...].firstIndex(of: "$") {
                let digits = entry.sql[entry.sql.index(after: dollar)...].prefix { $0.isNumber }
                highest = max(highest, Int(digits) ?? 0)
                index = entry.sql.index(after: dollar)
            }
            #expect(highest == entry.parameters.count, "\(entry.name): $\(highest) in the text, \(entry.parameters.count) described")
            #expect(entry.bindCount == entry.parameters.count, "\(entry.name): \(entry.bindCount) values bound")
            #expect(Set(entry.parameters.map(\.name)).count == entry.parameters.count, "\(entry.name): a parameter named twice")
        }
    }

    @Test func everyStatementPreparesOnTheMigratedSchema() async throws {
        try await TestApp.run { app in
            try await app.sql { database in
                try await database.withConnection { connection in
                    for (offset, entry) in StatementCatalogue.entries.enumerated() {
                        let types = entry.parameters.map(\.type).joined(separator: ", ")
                        _ = try await connection.query(
                            PostgresQuery(unsafeSQL: "PREPARE catalogue_\(offset) (\(types)) AS \(entry.sql)"), logger: testLogger
                        ).collect()
                    }
                }
            }
        }
    }
}
