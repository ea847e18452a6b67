import Foundation
import KolabDomain
import Logging
import PostgresNIO
import Synchronization

/// The service's one way into PostgreSQL: a pool, plus transactions whose errors come back unwrapped
/// (so a domain 409 thrown inside a transaction stays a 409 and never turns into a 500).
public struct Database: Sendable {
    public let client: PostgresClient
    public let logger: Logger
    public let maximumConnections: Int
    private let leases: LeaseCounter

    public init(client: PostgresClient, maximumConnections: Int, logger: Logger) {
        self.client = client
        self.logger = logger
        self.maximumConnections = maximumConnections
        self.leases = LeaseCounter()
    }

    /// Connections currently lent out, and callers waiting for one (for the pool gauges).
    public var poolUsage: (inUse: Int, waiting: Int) { leases.snapshot }

    /// Runs `body` on one pooled connection, outside a transaction (single statements).
    public func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        leases.startWaiting()
        var leased = false
        defer { leases.finish(leased: leased) }
        do {
            return try await client.withConnection { connection in
                leased = true
                leases.leased()
                return try await body(connection)
            }
        } catch {
            throw Self.unwrap(error)
        }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    public func withTransaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { connection in
            try await Self.transaction(on: connection, logger: logger, body)
        }
    }

    /// A transaction on a connection the caller already holds.
    public static func transaction<T: Sendable>(
        on connection: PostgresConnection, logger: Logger, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        do {
            return try await connection.withTransaction(logger: logger) { try await body($0) }
        } catch {
            throw unwrap(error)
        }
    }

    /// `withTransaction` wraps what the closure threw; callers want the original error.
    public static func unwrap(_ error: any Error) -> any Error {
        if let transactionError = error as? PostgresTransactionError {
            if let closureError = transactionError.closureError { return unwrap(closureError) }
            if let beginError = transactionError.beginError { return beginError }
            if let commitError = transactionError.commitError { return commitError }
        }
        return error
    }

    /// `SELECT 1` answers: the database is reachable.
    public func ping() async -> Bool {
        do {
            return try await withConnection { connection in
                try await connection.query("SELECT 1", logger: logger).collect().count == 1
            }
        } catch {
            return false
        }
    }
}

/// Counts pool leases without locks on the hot path.
final class LeaseCounter: Sendable {
    private let inUse = Atomic<Int>(0)
    private let waiting = Atomic<Int>(0)

    func startWaiting() { waiting.add(1, ordering: .relaxed) }
    func leased() {
        waiting.subtract(1, ordering: .relaxed)
        inUse.add(1, ordering: .relaxed)
    }
    func finish(leased: Bool) {
        if leased {
            inUse.subtract(1, ordering: .relaxed)
        } else {
            waiting.subtract(1, ordering: .relaxed)
        }
    }
    var snapshot: (inUse: Int, waiting: Int) {
        (inUse.load(ordering: .relaxed), waiting.load(ordering: .relaxed))
    }
}
