import Foundation
import KolabDomain
import Logging
import PostgresNIO

extension Database {
    /// Runs `body` with a short-lived pool against `url` (start-up work: migrations, seeding, admin).
    public static func withTemporary<T: Sendable>(
        _ url: DatabaseURL, maximumConnections: Int = 4, logger: Logger, _ body: @Sendable (Database) async throws -> T
    ) async throws -> T {
        // The pool may be asked for a connection a moment before its run loop has started, which it
        // handles but warns about; that warning is noise for a short-lived pool.
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .error)
        let client = PostgresClient(configuration: url.clientConfiguration(maximumConnections: maximumConnections), backgroundLogger: quiet)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(Database(client: client, maximumConnections: maximumConnections, logger: logger))
        }
    }

    /// Database names cannot be bound parameters, so only plain identifiers are accepted.
    static func checkIdentifier(_ name: String) throws {
        guard !name.isEmpty, name.count <= 63,
            name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
        else { throw KolabError(.invalid, "\(name) is not a plain database name ([a-z0-9_]).") }
    }

    /// Creates `name` (from `template` when given) unless it exists. Run on the cluster's `postgres` database.
    public func createDatabase(_ name: String, template: String? = nil) async throws {
        try Self.checkIdentifier(name)
        if let template { try Self.checkIdentifier(template) }
        try await withConnection { connection in
            let exists = try await connection.query("SELECT 1 FROM pg_database WHERE datname = \(name)", logger: logger).collect()
            guard exists.isEmpty else { return }
            let sql = "CREATE DATABASE \(name)" + (template.map { " TEMPLATE \($0)" } ?? "")
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
    }

    public func dropDatabase(_ name: String) async throws {
        try Self.checkIdentifier(name)
        try await withConnection { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
        }
    }
}
