import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import NIOCore
import PostgresNIO
import Testing

@Suite("Migrations")
struct MigrationTests {
    @Test func migrationsAreFoundByListingTheFolderInOrder() throws {
        let migrator = try Migrator(folder: repositoryRoot.appendingPathComponent("sql"))
        #expect(migrator.migrations.first?.version == 1)
        #expect(migrator.migrations.map(\.version) == migrator.migrations.map(\.version).sorted())
    }

    @Test func migratingTwiceAppliesNothingTheSecondTime() async throws {
        try await TestApp.run { app in
            let migrator = try Migrator(folder: repositoryRoot.appendingPathComponent("sql"))
            let applied = try await app.sql { try await migrator.migrate($0, logger: testLogger) }
            #expect(applied.isEmpty)
        }
    }

    @Test func aChangedAppliedMigrationIsRefused() async throws {
        try await TestApp.run { app in
            var migrations = try Migrator(folder: repositoryRoot.appendingPathComponent("sql")).migrations
            migrations[0].sql += "\n-- edited after it was applied\n"
            let edited = Migrator(migrations: migrations)
            await #expect(throws: MigrationError.self) {
                try await app.sql { try await edited.migrate($0, logger: testLogger) }
            }
        }
    }

    @Test func aNewMigrationIsAppliedAndRecorded() async throws {
        try await TestApp.run { app in
            var migrations = try Migrator(folder: repositoryRoot.appendingPathComponent("sql")).migrations
            migrations.append(Migration(version: 9999, name: "probe", sql: "CREATE TABLE probe (id int); INSERT INTO probe VALUES (1);"))
            let migrator = Migrator(migrations: migrations)
            let applied = try await app.sql { try await migrator.migrate($0, logger: testLogger) }
            #expect(applied == [9999])
            #expect(try await app.count("SELECT count(*)::int FROM probe") == 1)
            #expect(try await app.count("SELECT count(*)::int FROM schema_migrations WHERE version = 9999") == 1)
        }
    }

    @Test func scriptsSplitOnlyAtTopLevelSemicolons() {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE a (t text DEFAULT 'x;y');
            /* block; comment */
            CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;
            INSERT INTO a VALUES ('it''s; fine')
            """
        let statements = SQLScript.statements(in: script)
        #expect(statements.count == 3)
        #expect(statements[1].contains("$$ SELECT 1; $$"))
        #expect(statements[2].hasSuffix("('it''s; fine')"))
    }
}
