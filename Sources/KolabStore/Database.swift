import Foundation
import KolabDomain
import Logging
import PostgresNIO
import Synchronization

/// The service's one way into PostgreSQL: a pool, plus transactions whose errors come back unwrapped
/// (so a domain 409 thrown inside a transaction stays a 409 and never turns into a 500).
public struct Database: Sendable {
    /// The pool in use; `DatabaseSupervisor` swaps in a fresh one when PostgreSQL returns after an outage.
    public var client: PostgresClient { pools.current }
    public let logger: Logger
    public let maximumConnections: Int
    private let leases: LeaseCounter
    let pools: PoolBox
    /// Up or down, as the supervisor's probes last saw PostgreSQL (always up when unsupervised).
    public let health: DatabaseHealth
    /// How long a request waits for a pooled connection before answering 503 (nil: as long as the pool takes).
    let leaseTimeout: Duration?

    public init(client: PostgresClient, maximumConnections: Int, logger: Logger, leaseTimeout: Duration? = nil) {
        self.pools = PoolBox(client)
        self.logger = logger
        self.maximumConnections = maximumConnections
        self.leases = LeaseCounter()
        self.health = DatabaseHealth()
        self.leaseTimeout = leaseTimeout
    }

    /// Connections currently lent out, and callers waiting for one (for the pool gauges).
    public var poolUsage: (inUse: Int, waiting: Int) { leases.snapshot }

    /// What a request answers while PostgreSQL cannot be reached: 503, and when to try again.
    static func unavailable() -> KolabError {
        KolabError(.unavailable, "The database cannot be reached right now; try again in a few seconds.", retryAfterSeconds: 2)
    }

    /// Runs `body` on one pooled connection, outside a transaction (single statements). While the
    /// supervisor sees PostgreSQL down, answers 503 at once; otherwise waits at most `leaseTimeout`
    /// for a connection (the pool alone would queue a request for as long as its circuit breaker
    /// takes to trip, about a minute).
    public func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        if health.isDown { throw Self.unavailable() }
        leases.startWaiting()
        var leased = false
        defer { leases.finish(leased: leased) }
        do {
            guard let leaseTimeout else {
                return try await client.withConnection { connection in
                    leased = true
                    leases.leased()
                    return try await body(connection)
                }
            }
            return try await Self.lease(from: client, timeout: leaseTimeout) { connection in
                leased = true
                leases.leased()
                return try await body(connection)
            }
        } catch {
            throw Self.unwrap(error)
        }
    }

    /// The deadlines of every wait for a connection in this process.
    static let deadlines = LeaseDeadlines()

    /// Leases a connection in a child task that hands it over and holds the lease until `body` is
    /// done; the wait is bounded by `deadlines`, and on timeout the child's lease request is cancelled
    /// (the pool withdraws it).
    static func lease<T: Sendable>(
        from client: PostgresClient, timeout: Duration, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let handoff = LeaseHandoff()
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask {
                do {
                    try await client.withConnection { connection in
                        if handoff.deliver(connection) { await handoff.heldUntilReleased() }
                    }
                } catch {
                    handoff.fail(error)
                }
            }
            let deadline = deadlines.add(handoff, timeout: timeout)
            let connection: PostgresConnection
            do {
                connection = try await handoff.connection()
            } catch {
                deadlines.remove(deadline)
                group.cancelAll()
                throw error
            }
            deadlines.remove(deadline)
            defer { handoff.release() }
            return try await body(connection)
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

    /// `SELECT 1` answers: the database is reachable (within the lease timeout).
    public func ping() async -> Bool {
        if health.isDown { return false }
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

/// The pool currently in use.
final class PoolBox: Sendable {
    private let client: Mutex<PostgresClient>

    init(_ client: PostgresClient) { self.client = Mutex(client) }

    var current: PostgresClient { client.withLock { $0 } }

    func replace(with new: PostgresClient) { client.withLock { $0 = new } }
}

/// Whether PostgreSQL answered the supervisor's last probe.
public final class DatabaseHealth: Sendable {
    private let down = Atomic<Bool>(false)

    public var isDown: Bool { down.load(ordering: .relaxed) }

    func set(down value: Bool) { down.store(value, ordering: .relaxed) }
}

/// A connection passed from the child task that holds its lease to the request that uses it.
/// Bounds every wait for a pooled connection with one clock: a task ticks every 50 ms while any wait
/// is registered and fails those past their deadline (the pool then withdraws their requests). It
/// replaced a timer task per request, which cost the deliverable read 12% of its throughput
/// (`wrk` on the bench's small dataset: 3,665 req/s with a timer per lease, 4,150 without).
final class LeaseDeadlines: Sendable {
    static let tick: Duration = .milliseconds(50)

    private struct State {
        var waiting: [UInt64: (deadline: ContinuousClock.Instant, handoff: LeaseHandoff)] = [:]
        var nextID: UInt64 = 0
        var ticking = false
    }

    private let state = Mutex(State())

    /// Registers a wait; fails `handoff` with 503 once `timeout` has passed, unless removed first.
    func add(_ handoff: LeaseHandoff, timeout: Duration) -> UInt64 {
        let deadline = ContinuousClock.now + timeout
        let (id, start) = state.withLock { state in
            let id = state.nextID
            state.nextID &+= 1
            state.waiting[id] = (deadline, handoff)
            let start = !state.ticking
            state.ticking = true
            return (id, start)
        }
        if start { Task { await self.tickWhileWaiting() } }
        return id
    }

    func remove(_ id: UInt64) {
        _ = state.withLock { $0.waiting.removeValue(forKey: id) }
    }

    private func tickWhileWaiting() async {
        while true {
            try? await Task.sleep(for: Self.tick)
            let now = ContinuousClock.now
            let expired: [LeaseHandoff]? = state.withLock { state in
                if state.waiting.isEmpty {
                    state.ticking = false
                    return nil
                }
                let late = state.waiting.filter { $0.value.deadline <= now }
                for id in late.keys { state.waiting.removeValue(forKey: id) }
                return late.values.map(\.handoff)
            }
            guard let expired else { return }
            for handoff in expired { handoff.fail(Database.unavailable()) }
        }
    }
}

final class LeaseHandoff: Sendable {
    private enum Outcome {
        case pending(CheckedContinuation<PostgresConnection, any Error>?)
        case delivered(PostgresConnection)
        case failed(any Error)
    }

    private struct State {
        var outcome = Outcome.pending(nil)
        var released = false
        var holder: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// The child has a connection: true when the request still wants it (the child then holds it).
    func deliver(_ connection: PostgresConnection) -> Bool {
        let waiter: CheckedContinuation<PostgresConnection, any Error>?? = state.withLock { state in
            guard case .pending(let waiter) = state.outcome else { return .none }
            state.outcome = .delivered(connection)
            return .some(waiter)
        }
        guard let waiter else { return false }
        waiter?.resume(returning: connection)
        return true
    }

    /// No connection: the pool failed, or the timer ran out first.
    func fail(_ error: any Error) {
        let waiter: CheckedContinuation<PostgresConnection, any Error>? = state.withLock { state in
            guard case .pending(let waiter) = state.outcome else { return nil }
            state.outcome = .failed(error)
            return waiter
        }
        waiter?.resume(throwing: error)
    }

    func connection() async throws -> PostgresConnection {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<PostgresConnection, any Error>? = state.withLock { state in
                switch state.outcome {
                case .pending:
                    state.outcome = .pending(continuation)
                    return nil
                case .delivered(let connection): return .success(connection)
                case .failed(let error): return .failure(error)
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    func heldUntilReleased() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if state.released { return true }
                state.holder = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }

    func release() {
        let holder = state.withLock { state in
            state.released = true
            defer { state.holder = nil }
            return state.holder
        }
        holder?.resume()
    }
}
