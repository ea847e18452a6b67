import Foundation
import KolabDomain
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import ServiceLifecycle

/// Runs the service's pool and watches PostgreSQL, so that an outage answers 503 at once and ends by
/// itself. While PostgreSQL answers, it probes through the pool every 2 seconds; when a probe fails, a
/// direct connection (not the pool, whose retries back off for up to a minute) confirms the outage,
/// which is logged once with PostgreSQL's reason, and requests answer 503 with `Retry-After` without
/// waiting. It then probes directly every half second; on the first answer it starts a fresh pool
/// (no back-off inherited from the outage), swaps it in, stops the old one, and logs the recovery.
public struct DatabaseSupervisor: Service {
    let database: Database
    let url: DatabaseURL
    let configuration: PostgresClient.Configuration
    let logger: Logger

    public init(database: Database, url: DatabaseURL, configuration: PostgresClient.Configuration, logger: Logger) {
        self.database = database
        self.url = url
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        var pools: [Task<Void, Never>] = []
        let first = database.client
        pools.append(Task { await first.run() })
        var downSince: ContinuousClock.Instant?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if downSince == nil {
                if await database.ping() == false, let reason = await directProbe() {
                    database.health.set(down: true)
                    downSince = .now
                    logger.error("PostgreSQL cannot be reached; requests answer 503 until it returns", metadata: ["reason": "\(reason)"])
                }
            } else if let since = downSince, await directProbe() == nil {
                let fresh = PostgresClient(configuration: configuration, backgroundLogger: logger)
                pools.append(Task { await fresh.run() })
                database.pools.replace(with: fresh)
                pools.removeFirst().cancel()
                database.health.set(down: false)
                downSince = nil
                logger.notice(
                    "PostgreSQL is reachable again", metadata: ["outage_seconds": "\((ContinuousClock.now - since).components.seconds)"])
            }
            let pause: Duration = downSince == nil ? .seconds(2) : .milliseconds(500)
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            } catch {
                break
            }
        }
        for pool in pools { pool.cancel() }
        for pool in pools { await pool.value }
    }

    /// Connects outside the pool and runs `SELECT 1` within a second; nil when it answered, else why not.
    func directProbe() async -> String? {
        await Self.probe(url, connectTimeout: .seconds(1), logger: logger)
    }

    /// Connects to `url` directly and runs `SELECT 1`; nil when it answered, else PostgreSQL's reason.
    public static func probe(_ url: DatabaseURL, connectTimeout: TimeAmount, logger: Logger) async -> String? {
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch url.sslMode {
            case "disable": tls = .disable
            case "require", "verify-ca", "verify-full": tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            default: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        } catch {
            return "TLS cannot be set up: \(error)"
        }
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.username, password: url.password, database: url.database, tls: tls)
        configuration.options.connectTimeout = connectTimeout
        var quiet = logger
        quiet.logLevel = .critical
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: quiet)
            defer { Task { try? await connection.close() } }
            _ = try await connection.query("SELECT 1", logger: quiet).collect()
            return nil
        } catch {
            return DatabaseSupervisor.reason(error)
        }
    }

    /// PostgreSQL's own words for a connection failure (no bind values exist at this stage).
    public static func reason(_ error: any Error) -> String {
        if let psql = error as? PSQLError {
            if let message = psql.serverInfo?[.message] { return message }
            if let underlying = psql.underlying { return String(describing: underlying) }
            return "\(psql.code)"
        }
        return String(describing: error)
    }
}
