import Crypto
import Foundation
import KolabDomain
import Logging
import PostgresNIO

/// One numbered `.sql` file of `sql/`.
public struct Migration: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// SHA-256 of the file's bytes, hex: an applied migration whose file changed is refused.
    public var checksum: String {
        SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

public enum MigrationError: Error, CustomStringConvertible {
    case folderMissing(String)
    case badName(String)
    case duplicateVersion(Int)
    case changed(version: Int, name: String)
    case unknownApplied(version: Int, name: String)

    public var description: String {
        switch self {
        case .folderMissing(let path):
            "No migrations folder at \(path). Run kolab from the project folder or set KOLAB_HOME to it."
        case .badName(let name):
            "Migration file \(name) must be named NNNN_description.sql (e.g. 0002_campaigns.sql)."
        case .duplicateVersion(let version):
            "Two migration files share the number \(version); renumber one."
        case .changed(let version, let name):
            "Migration \(version) (\(name)) was applied but its file has changed since. Applied migrations are "
                + "never edited: restore the file and add a new numbered migration for the change."
        case .unknownApplied(let version, let name):
            "The database has migration \(version) (\(name)) applied, which is not in sql/. "
                + "This build is older than the database; run a newer kolab."
        }
    }
}

/// Applies `sql/NNNN_name.sql` in order, each in its own transaction, recorded with its checksum.
/// An advisory lock lets several instances start at once: one migrates, the others wait and find
/// nothing left to do.
public struct Migrator: Sendable {
    public let migrations: [Migration]

    public init(migrations: [Migration]) {
        self.migrations = migrations
    }

    /// Lists the folder; files sort by their number.
    public init(folder: URL) throws {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw MigrationError.folderMissing(folder.path)
        }
        var migrations: [Migration] = []
        for file in files where file.hasSuffix(".sql") {
            let stem = file.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]) else {
                throw MigrationError.badName(file)
            }
            let sql = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            migrations.append(Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (a, b) in zip(migrations, migrations.dropFirst()) where a.version == b.version {
            throw MigrationError.duplicateVersion(a.version)
        }
        self.migrations = migrations
    }

    /// Applies what is missing; returns the versions applied now.
    @discardableResult
    public func migrate(_ database: Database, logger: Logger) async throws -> [Int] {
        try await database.withConnection { connection in
            // Session lock: held across the per-migration transactions, released below.
            try await connection.query("SELECT pg_advisory_lock(70412026)", logger: logger)
            do {
                let applied = try await migrateLocked(connection, logger: logger)
                try await connection.query("SELECT pg_advisory_unlock(70412026)", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(70412026)", logger: logger)
                throw error
            }
        }
    }

    private func migrateLocked(_ connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version     integer PRIMARY KEY,
                name        text NOT NULL,
                checksum    text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
        var recorded: [Int: (name: String, checksum: String)] = [:]
        for try await (version, name, checksum) in try await connection.query(
            "SELECT version, name, checksum FROM schema_migrations ORDER BY version", logger: logger
        ).decode((Int, String, String).self) {
            recorded[version] = (name, checksum)
        }
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for (version, row) in recorded.sorted(by: { $0.key < $1.key }) {
            guard let migration = known[version] else {
                throw MigrationError.unknownApplied(version: version, name: row.name)
            }
            guard migration.checksum == row.checksum else {
                throw MigrationError.changed(version: version, name: row.name)
            }
        }
        var applied: [Int] = []
        for migration in migrations where recorded[migration.version] == nil {
            logger.info("Applying migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            try await Database.transaction(on: connection, logger: logger) { tx in
                // PostgresNIO speaks the extended protocol only: one statement per query.
                for statement in SQLScript.statements(in: migration.sql) {
                    try await tx.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await tx.query(
                    """
                    INSERT INTO schema_migrations (version, name, checksum)
                    VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                    """, logger: logger)
            }
            applied.append(migration.version)
        }
        return applied
    }
}
