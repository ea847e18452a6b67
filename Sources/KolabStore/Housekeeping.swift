import Foundation
import KolabDomain
import Logging
import PostgresNIO
import ServiceLifecycle

/// Deletes what has outlived its purpose (DESIGN.md, "Housekeeping"): idempotency records older than
/// 24 hours (they hold sealed answers), tokens that expired or were revoked, login failures older
/// than the throttle's window, webhook messages delivered or failed more than 30 days ago (with
/// their attempts; the deliveries log keeps a month), and review links that expired or were revoked
/// more than 30 days ago (the list shows them for a month; a link a review names stays with it).
/// Every instance runs it; each round is one transaction that first takes
/// `pg_try_advisory_xact_lock`, so when several instances wake together one does the work and the
/// others skip the round.
public struct Housekeeping: Service {
    let database: Database
    let interval: Duration
    let logger: Logger

    public init(database: Database, interval: Duration = .seconds(600), logger: Logger) {
        self.database = database
        self.interval = interval
        self.logger = logger
    }

    public struct Report: Sendable, Equatable {
        public var ran: Bool
        public var idempotencyKeys = 0
        public var tokens = 0
        public var loginFailures = 0
        public var webhookMessages = 0
        public var reviewLinks = 0
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                let report = try await runOnce()
                if report.ran
                    && report.idempotencyKeys + report.tokens + report.loginFailures + report.webhookMessages + report.reviewLinks > 0
                {
                    logger.info(
                        "Housekeeping",
                        metadata: [
                            "idempotency_keys": "\(report.idempotencyKeys)", "tokens": "\(report.tokens)",
                            "login_failures": "\(report.loginFailures)", "webhook_messages": "\(report.webhookMessages)",
                            "review_links": "\(report.reviewLinks)",
                        ])
                }
            } catch {
                // An outage is reported by the requests and /ready; the next round tries again.
                logger.warning("Housekeeping round failed", metadata: ["error": "\(KolabError.loggable(Database.unwrap(error)))"])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }

    /// One round; `ran` is false when another instance holds the lock.
    @discardableResult
    public func runOnce() async throws -> Report {
        try await database.withTransaction { connection in
            var locked = false
            for try await value in try await connection.run("SELECT pg_try_advisory_xact_lock(7045)", logger: logger).decode(Bool.self) {
                locked = value
            }
            guard locked else { return Report(ran: false) }
            var report = Report(ran: true)
            report.idempotencyKeys = try await IdempotencyStore.purgeExpired(on: connection, logger: logger)
            let auth = AuthStore(logger: logger)
            report.tokens = try await auth.purgeDeadTokens(on: connection)
            report.loginFailures = try await auth.purgeOldFailures(on: connection)
            report.webhookMessages = try await WebhookStore(logger: logger).purgeFinished(olderThan: .seconds(30 * 86_400), on: connection)
            report.reviewLinks = try await ReviewLinkStore(logger: logger).purgeEnded(olderThan: .seconds(30 * 86_400), on: connection)
            return report
        }
    }
}
