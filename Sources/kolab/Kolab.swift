import ArgumentParser
import Foundation
import Hummingbird
import KolabAPI
import KolabDomain
import KolabFixtures
import KolabStore
import Logging
import NIOCore
import PostgresNIO

@main
struct Kolab: AsyncParsableCommand {

    static let configuration = CommandConfiguration(
        abstract: "Kolab: influencer campaigns between brands and KOLs, with a project officer in the middle.",
        version: Configuration.version,
        subcommands: [Serve.self, Migrate.self, Seed.self, UserCommand.self, SecretKey.self, SQLCommand.self])
}

/// Options every command shares: which database, and how loud.
struct CommonOptions: ParsableArguments {
    @Option(help: "PostgreSQL URL (postgres://user:pass@host:port/db). Default: $DATABASE_URL, else the private cluster under .kolab/.")
    var databaseURL: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "info"

    func logger() -> Logger {
        var logger = Logger(label: "kolab")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        return logger
    }

    /// The configured database, or nil when the private cluster should be used.
    func explicitDatabase() throws -> DatabaseURL? {
        guard let raw = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !raw.isEmpty else { return nil }
        guard let url = DatabaseURL(raw) else {
            throw ValidationError("DATABASE_URL must look like postgres://user:password@host:5432/database")
        }
        return url
    }
}

/// A failure the command reports in one line and exits.
struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Fails within seconds, in one line naming the server and PostgreSQL's reason, when `url` cannot be
/// used (nothing listening, no such database or user, a wrong password), instead of letting the pool
/// retry for a minute.
func checkReachable(_ url: DatabaseURL, logger: Logger) async throws {
    guard let reason = await DatabaseSupervisor.probe(url, connectTimeout: .seconds(5), logger: logger) else { return }
    let why =
        if reason.contains("Connection refused") {
            "nothing is listening there (connection refused)"
        } else if reason.contains("connectTimeout") || reason.contains("timed out") {
            "no answer within 5 seconds"
        } else {
            reason
        }
    throw CLIFailure(
        "Cannot use PostgreSQL at \(url.host):\(url.port), database \(url.database), user \(url.username): \(why). "
            + "Check DATABASE_URL (postgres://user:password@host:port/database).")
}

/// Whether the demo accounts are in the database (the banner names them only then).
func hasDemoAccounts(_ url: DatabaseURL, logger: Logger) async throws -> Bool {
    try await Database.withTemporary(url, maximumConnections: 1, logger: logger) { database in
        try await database.withConnection { connection in
            for try await count in try await connection.query(
                "SELECT count(*)::int FROM users WHERE email = \(DemoData.adminEmail)", logger: logger
            ).decode(Int.self) { return count > 0 }
            return false
        }
    }
}

/// PSQLError hides its details from `description`; the operator needs PostgreSQL's reason to act, so
/// commands show its SQLSTATE, constraint and message, never the statement's bind values (e-mails,
/// password hashes, bank numbers).
struct DatabaseFailure: Error, CustomStringConvertible {
    let description: String
}

func explainingDatabaseErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as PSQLError {
        let message = error.serverInfo?[.message].map { ": \($0)" } ?? ""
        throw DatabaseFailure(description: "The database refused (\(KolabError.loggable(error)))\(message)")
    }
}

/// The private cluster under `.kolab/` that `serve` runs when no database is configured.
enum PrivateCluster {
    static func cluster(home: URL) -> EmbeddedPostgres {
        let port = ProcessInfo.processInfo.environment["KOLAB_PG_PORT"].flatMap(Int.init) ?? 54329
        return EmbeddedPostgres(folder: home.appendingPathComponent(".kolab"), port: port)
    }

    /// Starts the cluster (if needed) and makes sure the `kolab` database exists.
    static func start(home: URL, logger: Logger) async throws -> (EmbeddedPostgres, DatabaseURL, Bool) {
        let cluster = cluster(home: home)
        let started = try cluster.start(logger: logger)
        try await Database.withTemporary(cluster.url, logger: logger) { try await $0.createDatabase("kolab") }
        return (cluster, cluster.url.with(database: "kolab"), started)
    }
}

/// Applies migrations to `url`.
func migrate(_ url: DatabaseURL, home: URL, logger: Logger) async throws -> [Int] {
    let migrator = try Migrator(folder: home.appendingPathComponent("sql"))
    return try await Database.withTemporary(url, logger: logger) { try await migrator.migrate($0, logger: logger) }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP service. Without DATABASE_URL it starts a private PostgreSQL under .kolab/ and loads demo data.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Address to listen on.") var hostname: String = ProcessInfo.processInfo.environment["KOLAB_HOST"] ?? "127.0.0.1"
    @Option(help: "Port to listen on.") var port: Int = ProcessInfo.processInfo.environment["KOLAB_PORT"].flatMap(Int.init) ?? 8080
    @Option(help: "bcrypt cost for new passwords (10 to 16).")
    var bcryptCost: Int = ProcessInfo.processInfo.environment["KOLAB_BCRYPT_COST"].flatMap(Int.init) ?? 12
    @Option(help: "Largest request body in bytes.")
    var bodyLimit: Int = ProcessInfo.processInfo.environment["KOLAB_BODY_LIMIT"].flatMap(Int.init) ?? 1 << 20
    @Option(help: "Database connections per instance.")
    var poolSize: Int = ProcessInfo.processInfo.environment["KOLAB_POOL_SIZE"].flatMap(Int.init) ?? 20
    @Option(help: "Open client connections kept at most; past it new ones get 503 and are closed.")
    var maxConnections: Int = ProcessInfo.processInfo.environment["KOLAB_MAX_CONNECTIONS"].flatMap(Int.init) ?? 1_000
    @Option(help: "Seconds an idle client connection (or an unfinished request head) is kept open.")
    var idleTimeout: Int = ProcessInfo.processInfo.environment["KOLAB_IDLE_TIMEOUT"].flatMap(Int.init) ?? 30
    @Flag(
        name: .customLong("development"),
        help: "Development mode (allows webhooks to http and private addresses). Also KOLAB_DEVELOPMENT=1.")
    var developmentFlag = false
    /// A flag's default must be false (ArgumentParser), so the environment is read here.
    var development: Bool { developmentFlag || ProcessInfo.processInfo.environment["KOLAB_DEVELOPMENT"] == "1" }
    @Option(help: "When failed webhook deliveries are retried, e.g. 1s,2s,4s (default 5s,5m,30m,2h,5h,10h,10h).")
    var webhookRetrySchedule: String = ProcessInfo.processInfo.environment["KOLAB_WEBHOOK_RETRY_SCHEDULE"] ?? ""

    func validate() throws {
        guard (10...16).contains(bcryptCost) else { throw ValidationError("--bcrypt-cost must be between 10 and 16.") }
        guard bodyLimit >= 1024 else { throw ValidationError("--body-limit must be at least 1024 bytes.") }
        guard poolSize >= 1 else { throw ValidationError("--pool-size must be at least 1.") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1.") }
        guard (1...3600).contains(idleTimeout) else { throw ValidationError("--idle-timeout must be 1 to 3600 seconds.") }
        if !webhookRetrySchedule.isEmpty, RetrySchedule(parsing: webhookRetrySchedule) == nil {
            throw ValidationError(
                "--webhook-retry-schedule (KOLAB_WEBHOOK_RETRY_SCHEDULE) must list delays like 5s,5m,2h (units ms, s, m, h, d).")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap(LogOutput.handler)
        defer { LogOutput.standardError.flush() }
        try await explainingDatabaseErrors { try await serve() }
    }

    func serve() async throws {
        let logger = common.logger()
        let home = Configuration.locateHome()
        var cluster: EmbeddedPostgres?
        let url: DatabaseURL
        var seedIfEmpty = false
        if let explicit = try common.explicitDatabase() {
            url = explicit
        } else {
            let (privateCluster, privateURL, started) = try await PrivateCluster.start(home: home, logger: logger)
            if started { cluster = privateCluster }
            url = privateURL
            seedIfEmpty = true
        }
        defer {
            if let cluster {
                do { try cluster.stop() } catch { logger.error("Could not stop the private PostgreSQL: \(error)") }
            }
        }

        var configuration = Configuration(databaseURL: url, home: home)
        configuration.hostname = hostname
        configuration.port = port
        configuration.bcryptCost = UInt8(bcryptCost)
        configuration.bodyLimitBytes = bodyLimit
        configuration.databasePoolSize = poolSize
        configuration.logLevel = logger.logLevel
        configuration.development = development
        if !webhookRetrySchedule.isEmpty, let schedule = RetrySchedule(parsing: webhookRetrySchedule) {
            configuration.webhookRetrySchedule = schedule.delays
        }
        if development {
            logger.warning("Development mode: webhooks may go to http and private addresses. Never run production like this.")
        }
        configuration.maximumConnections = maxConnections
        configuration.idleTimeout = .seconds(idleTimeout)
        configuration.trustedProxies = Set(
            (ProcessInfo.processInfo.environment["KOLAB_TRUSTED_PROXIES"] ?? "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty })
        configuration.corsAllowOrigin = ProcessInfo.processInfo.environment["KOLAB_CORS_ORIGIN"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.secretBox = try ServiceKey.load(home: home, embedded: seedIfEmpty, logger: logger)

        try await checkReachable(url, logger: logger)
        let applied = try await migrate(url, home: home, logger: logger)
        if !applied.isEmpty { logger.info("Migrations applied", metadata: ["versions": "\(applied)"]) }
        if seedIfEmpty || ProcessInfo.processInfo.environment["KOLAB_DEMO"] == "1" {
            try await seedDemoData(configuration, logger: logger, onlyIfEmpty: true)
        }
        let demo = try await hasDemoAccounts(url, logger: logger)
        let banner = """

            Kolab is listening on http://\(hostname):\(port)   (API under /v1, document at /v1/openapi.json)
            Database: \(url)\(cluster != nil || seedIfEmpty ? "  (private cluster under .kolab/)" : "")
            \(demo ? "Demo accounts (password \(DemoData.password)): \(DemoData.accounts.joined(separator: ", "))\n" : "")\
            Stop with Ctrl-C.

            """
        // The banner is printed once the port is bound: "listening" is then true.
        let app = try buildApplication(configuration, logger: logger) { _ in say(banner) }
        do {
            try await app.runService()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw CLIFailure("Port \(port) on \(hostname) is already in use; choose another with --port or KOLAB_PORT.")
        } catch let error as IOError where error.errnoCode == EADDRNOTAVAIL {
            throw CLIFailure("\(hostname) is not an address of this machine; choose another with --hostname or KOLAB_HOST.")
        }
    }
}

/// The service key `KOLAB_SECRET_KEY` (DESIGN.md, "Running it"): from the environment; for the
/// private cluster, made once under `.kolab/secret-key`; with `DATABASE_URL` and no key, a refusal
/// that says how to make one.
enum ServiceKey {
    static func load(home: URL, embedded: Bool, logger: Logger) throws -> SecretBox {
        if let raw = ProcessInfo.processInfo.environment["KOLAB_SECRET_KEY"], !raw.isEmpty {
            guard let box = SecretBox(base64: raw) else {
                throw ValidationError("KOLAB_SECRET_KEY must be base64 of 32 bytes; make one with `kolab secret-key`.")
            }
            return box
        }
        guard embedded else {
            throw ValidationError(
                "KOLAB_SECRET_KEY is not set. With DATABASE_URL every instance needs the same service key: "
                    + "run `kolab secret-key` once and set its output as KOLAB_SECRET_KEY for every instance.")
        }
        let file = home.appendingPathComponent(".kolab/secret-key")
        if let stored = try? String(contentsOf: file, encoding: .utf8), let box = SecretBox(base64: stored) { return box }
        let key = SecretBox.newKeyBase64()
        _ = FileManager.default.createFile(atPath: file.path, contents: Data((key + "\n").utf8), attributes: [.posixPermissions: 0o600])
        logger.info("Created a service key for the private cluster", metadata: ["file": "\(file.path)"])
        guard let box = SecretBox(base64: key) else { throw ValidationError("Could not create a service key.") }
        return box
    }
}

struct SecretKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret-key", abstract: "Print a new service key for KOLAB_SECRET_KEY (base64 of 32 random bytes).")

    func run() async throws { say(SecretBox.newKeyBase64()) }
}

struct SQLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sql",
        abstract: "Print a statement exactly as the service sends it (for pgbench and EXPLAIN).",
        discussion: """
            Each placeholder is described first, one comment line per parameter ("-- $1 token_hash bytea"), then \
            the statement on one line. Statements built per request print the shape the benchmark measures.
            """)

    @Flag(name: .long, help: "List the statements: name, a tab, what it is for.")
    var list = false

    @Argument(help: "The statement's name (see --list).")
    var name: String?

    func validate() throws {
        if !list && name == nil { throw ValidationError("Give a statement's name, or --list to see them.") }
    }

    func run() throws {
        if list {
            for entry in StatementCatalogue.entries { say("\(entry.name)\t\(entry.summary)") }
            return
        }
        guard let name, let entry = StatementCatalogue.entry(named: name) else {
            throw CLIFailure("No statement named '\(name ?? "")'. `kolab sql --list` shows them.")
        }
        for (offset, parameter) in entry.parameters.enumerated() { say("-- $\(offset + 1) \(parameter.name) \(parameter.type)") }
        say(entry.sql.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " "))
    }
}

enum DemoData {
    static let password = "kolab-demo-2026"
    static let adminEmail = "admin@kolab.id"
    static let accounts = [
        "admin@kolab.id", "officer.sari@kolab.id", "officer.budi@kolab.id", "finance@kolab.id",
        "brand@susubunda.id", "brand@batikkecil.id", "kol: ayu.lestari@example.id (and 11 more)",
    ]
}

func seedDemoData(_ configuration: Configuration, logger: Logger, onlyIfEmpty: Bool) async throws {
    let fixtures = try Seeder.load(from: configuration.fixturesFolder)
    try await Database.withTemporary(configuration.databaseURL, logger: logger) { database in
        let seeder = Seeder(services: Services(configuration: configuration, database: database, logger: logger))
        if onlyIfEmpty, try await !seeder.databaseIsEmpty() { return }
        say("Loading demo data from \(configuration.fixturesFolder.path)")
        let summary = try await seeder.seed(fixtures) { say("  \($0)") }
        say("Demo data: \(summary.created) created, \(summary.existing) already there.")
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply the migrations of sql/ that the database lacks.")
    @OptionGroup var common: CommonOptions

    func run() async throws {
        let logger = common.logger()
        let home = Configuration.locateHome()
        try await withDatabase(common, home: home, logger: logger) { url in
            let applied = try await migrate(url, home: home, logger: logger)
            say(applied.isEmpty ? "The database is up to date." : "Applied migrations \(applied.map(String.init).joined(separator: ", ")).")
        }
    }
}

struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load the demo data of fixtures/ (safe to run twice).")
    @OptionGroup var common: CommonOptions
    @Option(help: "Folder holding the fixtures.") var path: String?

    func run() async throws {
        let logger = common.logger()
        let home = Configuration.locateHome()
        try await withDatabase(common, home: home, logger: logger) { url in
            _ = try await migrate(url, home: home, logger: logger)
            var configuration = Configuration(databaseURL: url, home: home)
            if let path { configuration.fixturesFolder = URL(fileURLWithPath: path) }
            try await seedDemoData(configuration, logger: logger, onlyIfEmpty: false)
        }
    }
}

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user (the first admin, say).")
        @OptionGroup var common: CommonOptions
        @Option var email: String
        @Option(help: "At least 10 characters.") var password: String
        @Option(help: "admin, officer, brand or finance.") var role: String
        @Option(help: "The brand of a brand user.") var brandId: String?
        @Option(help: "Name shown in the API (default: the e-mail).") var displayName: String?

        /// Checked before anything runs, so a mistake prints this command's usage, with the flags as typed.
        func validate() throws {
            guard let role = Role(rawValue: role), role != .kol else {
                throw ValidationError("--role must be admin, officer, brand or finance (KOLs sign up at POST /v1/kols).")
            }
            var v = Validator()
            _ = v.email(email)
            PasswordPolicy.check(password, into: &v)
            let brandID = brandId.flatMap(UUID.init(uuidString:))
            if brandId != nil && brandID == nil { v.add("brand_id", "must be a UUID") }
            AccountRules.checkBrand(role: role, brandID: brandID, into: &v)
            if !v.errors.isEmpty {
                throw ValidationError(
                    v.errors.map { "--\($0.field.replacingOccurrences(of: "_", with: "-")) \($0.message)" }.joined(separator: "; "))
            }
        }

        func run() async throws {
            let logger = common.logger()
            let home = Configuration.locateHome()
            guard let role = Role(rawValue: role), let email = EmailAddress(email) else { throw ValidationError("invalid input") }
            let brandID = brandId.flatMap(UUID.init(uuidString:))
            try await withDatabase(common, home: home, logger: logger) { url in
                _ = try await migrate(url, home: home, logger: logger)
                let configuration = Configuration(databaseURL: url, home: home)
                let user = try await Database.withTemporary(url, logger: logger) { database in
                    let services = Services(configuration: configuration, database: database, logger: logger)
                    let hash = try await services.passwords.hash(password)
                    return try await database.withTransaction {
                        try await services.accounts.createUser(
                            email: email, passwordHash: hash, role: role, brandID: brandID,
                            displayName: displayName ?? email.value, on: $0)
                    }
                }
                say("Created \(user.role.rawValue) \(user.email) with id \(user.id).")
            }
        }
    }
}

/// Runs `body` against the configured database, or the private cluster (started for the command and stopped after).
func withDatabase(_ common: CommonOptions, home: URL, logger: Logger, _ body: (DatabaseURL) async throws -> Void) async throws {
    try await explainingDatabaseErrors { try await withDatabaseUnexplained(common, home: home, logger: logger, body) }
}

func withDatabaseUnexplained(
    _ common: CommonOptions, home: URL, logger: Logger, _ body: (DatabaseURL) async throws -> Void
) async throws {
    if let url = try common.explicitDatabase() {
        try await checkReachable(url, logger: logger)
        try await body(url)
        return
    }
    let (cluster, url, started) = try await PrivateCluster.start(home: home, logger: logger)
    do {
        try await body(url)
    } catch {
        if started { try? cluster.stop() }
        throw error
    }
    if started { try cluster.stop() }
}

/// Writes a line to standard output at once (print buffers when the output is a file or a pipe,
/// and progress should show as it happens).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
