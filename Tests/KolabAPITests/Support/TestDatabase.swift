import Foundation
import KolabAPI
import KolabStore
import Logging

/// The repository's root, found from this file's path (Tests/KolabAPITests/Support/…).
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Where this test process keeps its throwaway cluster; removed when the process exits.
let testClusterFolder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("kolab-test-\(getpid())")

let testLogger: Logger = {
    var logger = Logger(label: "kolab-test")
    logger.logLevel = ProcessInfo.processInfo.environment["KOLAB_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
    return logger
}()

/// One PostgreSQL for the whole test run: a private cluster started once (or the server named by
/// `KOLAB_TEST_DATABASE_URL`), a template database migrated once, and a fresh clone of it per test,
/// so tests run in parallel without seeing each other's rows.
actor TestDatabase {
    static let shared = TestDatabase()

    private var server: Task<DatabaseURL, any Error>?
    private static let template = "kolab_template_\(getpid())"

    /// The cluster's maintenance database, with the template ready.
    func prepared() async throws -> DatabaseURL {
        if let server { return try await server.value }
        let task = Task { try await Self.start() }
        server = task
        return try await task.value
    }

    private static func start() async throws -> DatabaseURL {
        let admin: DatabaseURL
        if let raw = ProcessInfo.processInfo.environment["KOLAB_TEST_DATABASE_URL"] {
            guard let url = DatabaseURL(raw) else { fatalError("KOLAB_TEST_DATABASE_URL is not a postgres:// URL") }
            // Tests create and drop databases: refuse anything that is not on this machine.
            guard ["localhost", "127.0.0.1", "::1"].contains(url.host) else {
                fatalError("KOLAB_TEST_DATABASE_URL must point at a local server, not \(url.host)")
            }
            admin = url
        } else {
            admin = try startCluster()
        }
        let migrator = try Migrator(folder: repositoryRoot.appendingPathComponent("sql"))
        try await Database.withTemporary(admin, logger: testLogger) { database in
            try await database.dropDatabase(template)
            try await database.createDatabase(template)
        }
        _ = try await Database.withTemporary(admin.with(database: template), logger: testLogger) { database in
            try await migrator.migrate(database, logger: testLogger)
        }
        return admin
    }

    private static func startCluster() throws -> DatabaseURL {
        var lastError: (any Error)?
        for attempt in 0..<5 {
            let port = 40000 + Int(getpid() % 20000) + attempt * 97
            let cluster = EmbeddedPostgres(
                folder: testClusterFolder, port: port,
                extraSettings: ["fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=1500"])
            do {
                try cluster.start(logger: testLogger)
                atexit {
                    let folder = testClusterFolder
                    try? EmbeddedPostgres(folder: folder, port: 0).stop()
                    try? FileManager.default.removeItem(at: folder)
                }
                return cluster.url
            } catch {
                lastError = error
            }
        }
        throw lastError!
    }

    /// A new database cloned from the migrated template.
    func makeDatabase() async throws -> DatabaseURL {
        let admin = try await prepared()
        let name = "kolab_t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await Database.withTemporary(admin, logger: testLogger) { try await $0.createDatabase(name, template: Self.template) }
        return admin.with(database: name)
    }

    func dropDatabase(_ url: DatabaseURL) async throws {
        let admin = try await prepared()
        try await Database.withTemporary(admin, logger: testLogger) { try await $0.dropDatabase(url.database) }
    }
}
