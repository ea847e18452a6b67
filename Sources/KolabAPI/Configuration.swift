import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import Crypto
import NIOCore

/// Everything that configures one service instance. Flags override the environment; tests build it directly.
public struct Configuration: Sendable {
    /// The service's version (`kolab --version`, `GET /`).
    public static let version = "0.11.0"

    public var hostname: String = "127.0.0.1"
    public var port: Int = 8080
    public var databaseURL: DatabaseURL
    public var databasePoolSize: Int = 20
    /// bcrypt cost; 12 in production, never below 10 outside tests (the CLI refuses lower).
    public var bcryptCost: UInt8 = 12
    /// Request bodies above this answer 413.
    public var bodyLimitBytes: Int = 1 << 20
    public var tokenLifetimeSeconds: Int = 7 * 24 * 3600
    public var logLevel: Logger.Level = .info
    /// Addresses of reverse proxies whose `X-Forwarded-For` names the client (per-address login limits).
    public var trustedProxies: Set<String> = []
    /// Open client connections one instance keeps; past it, new ones are answered 503 and closed.
    public var maximumConnections: Int = 1_000
    /// A client connection with no request in progress (or a request head that never completes) is closed after this.
    public var idleTimeout: Duration = .seconds(30)
    /// How long a request waits for a pooled connection before answering 503 with `Retry-After`.
    public var leaseTimeout: Duration = .milliseconds(1_500)
    /// How often each instance tries a housekeeping round (one instance does it per round).
    public var housekeepingInterval: Duration = .seconds(600)
    /// The one browser origin allowed to call the API from scripts (CORS); nil: no CORS headers at all.
    public var corsAllowOrigin: String?
    /// Development mode relaxes rules meant for production (webhooks to http and private addresses).
    public var development: Bool = false
    /// When failed webhook deliveries are tried again (`KOLAB_WEBHOOK_RETRY_SCHEDULE`).
    public var webhookRetrySchedule: [Duration] = RetrySchedule.standard.delays
    /// A delivery claim older than this is taken over by another instance.
    public var webhookLease: Duration = .seconds(60)
    /// The webhook worker's fallback poll (LISTEN/NOTIFY wakes it at once).
    public var webhookPollInterval: Duration = .seconds(5)
    /// How long a receiver has to answer one delivery.
    public var webhookTimeout: Duration = .seconds(15)
    /// The folder holding `sql/`, `fixtures/` and `openapi.json`.
    public var home: URL
    /// The service key (`KOLAB_SECRET_KEY`) that seals stored answers and webhook secrets. Every
    /// instance on one database needs the same key; the CLI reads it or refuses to start, and a fresh
    /// random key here serves tests and single-instance embedding only.
    public var secretBox = SecretBox(key: .init(size: .bits256))

    /// Demo data for `kolab seed` and the first `serve` on an empty private cluster.
    public var fixturesFolder: URL

    public init(databaseURL: DatabaseURL, home: URL) {
        self.databaseURL = databaseURL
        self.home = home
        self.fixturesFolder = home.appendingPathComponent("fixtures")
    }

    public var migrationsFolder: URL { home.appendingPathComponent("sql") }
    public var openAPIFile: URL { home.appendingPathComponent("openapi.json") }

    /// Finds the project folder: `KOLAB_HOME`, else the working folder or one of its parents that holds
    /// `sql/`, else the folders above the executable (`.build/debug/kolab` sits three levels down).
    public static func locateHome(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let home = environment["KOLAB_HOME"] { return URL(fileURLWithPath: home) }
        let fm = FileManager.default
        var candidates: [URL] = []
        var dir = URL(fileURLWithPath: fm.currentDirectoryPath)
        for _ in 0..<4 {
            candidates.append(dir)
            dir.deleteLastPathComponent()
        }
        var exe = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(exe)
            exe.deleteLastPathComponent()
        }
        return candidates.first { fm.fileExists(atPath: $0.appendingPathComponent("sql").path) }
            ?? URL(fileURLWithPath: fm.currentDirectoryPath)
    }
}
