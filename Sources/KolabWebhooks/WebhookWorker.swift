import AsyncHTTPClient
import Crypto
import Foundation
import KolabDomain
import KolabStore
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Delivers the webhook outbox (DESIGN.md, "Webhooks"). Every `kolab serve` runs one in its
/// ServiceGroup; instances share the queue through `WebhookStore.claim` (`FOR UPDATE SKIP LOCKED`
/// and a lease), so a message goes out once unless a worker dies holding it, and then its lease
/// expires and another worker sends it (at least once; receivers drop duplicates by `webhook-id`).
///
/// The loop: claim what is due (at most `perEndpoint` leased per endpoint, at most `concurrency` in
/// flight here), send each in a child task, and sleep until the doorbell rings: a NOTIFY from a
/// commit that wrote messages, a finished delivery (its endpoint has a free slot again), the next
/// retry falling due, or the slow poll. On graceful shutdown it stops claiming and lets the attempts
/// in flight finish (each is bounded by the 15 s timeout).
public struct WebhookWorker: Service {
    public struct Settings: Sendable {
        public var development = false
        public var schedule = RetrySchedule.standard
        /// A claim older than this is taken over by another worker (DESIGN.md: within 60 seconds).
        public var lease: Duration = .seconds(60)
        /// The fallback when no NOTIFY arrives (a lost listen connection, a retry falling due).
        public var pollInterval: Duration = .seconds(5)
        public var timeout: Duration = .seconds(15)
        public var perEndpoint = 4
        public var concurrency = 64
        public init() {}
    }

    let database: Database
    let box: SecretBox
    let settings: Settings
    let logger: Logger
    let store: WebhookStore
    let guardrail: WebhookAddressGuard
    /// This worker's name in `leased_by`.
    public let name: String

    public init(database: Database, box: SecretBox, settings: Settings, logger: Logger) {
        self.database = database
        self.box = box
        self.settings = settings
        self.logger = logger
        self.store = WebhookStore(logger: logger)
        self.guardrail = WebhookAddressGuard(development: settings.development)
        self.name = "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)/\(UUID().uuidString.prefix(8))"
    }

    enum Metric {
        static let delivered = Counter(label: "kolab_webhook_deliveries_total", dimensions: [("outcome", "delivered")])
        static let retrying = Counter(label: "kolab_webhook_deliveries_total", dimensions: [("outcome", "retrying")])
        static let failed = Counter(label: "kolab_webhook_deliveries_total", dimensions: [("outcome", "failed")])
        static let queueDepth = Gauge(label: "kolab_webhook_queue_depth")
        static let latency = Timer(label: "kolab_webhook_delivery_seconds")
    }

    public func run() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(15))
        // The per-endpoint cap is the claim's (4 across instances); many customers' endpoints can share one
        // host (a CRM's or a gateway's), so the client's per-host limit must not be that cap.
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: settings.concurrency)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let doorbell = Doorbell()
        let inFlight = InFlightCount()
        if settings.development {
            logger.warning("Webhooks: development mode; endpoints may use http and private addresses")
        }
        await withDiscardingTaskGroup { group in
            group.addTask { await listen(doorbell) }
            group.addTask { await poll(doorbell) }
            await withGracefulShutdownHandler {
                while !Task.isShuttingDownGracefully && !Task.isCancelled {
                    let free = settings.concurrency - inFlight.value
                    var claimed: [ClaimedWebhookMessage] = []
                    if free > 0 {
                        do {
                            claimed = try await database.withConnection { connection in
                                try await store.claim(
                                    worker: name, limit: free, perEndpoint: settings.perEndpoint, lease: settings.lease, on: connection)
                            }
                        } catch {
                            logger.warning(
                                "Webhooks: claiming failed", metadata: ["error": "\(KolabError.loggable(Database.unwrap(error)))"])
                        }
                    }
                    for message in claimed {
                        inFlight.add(1)
                        group.addTask {
                            await deliver(message, client: client)
                            inFlight.add(-1)
                            doorbell.ring()
                        }
                    }
                    if !claimed.isEmpty && claimed.count == free { continue }
                    await doorbell.wait(upTo: claimed.isEmpty && inFlight.value == 0 ? await untilNextDue() : settings.pollInterval)
                }
            } onGracefulShutdown: {
                doorbell.ring()
            }
            // In-flight deliveries finish (each within its timeout); then the listener and poller stop.
            while inFlight.value > 0 {
                try? await Task.sleep(for: .milliseconds(20))
            }
            group.cancelAll()
        }
        try? await client.shutdown()
    }

    /// How long to sleep when nothing was due: until the next retry, at most the poll interval.
    func untilNextDue() async -> Duration {
        guard let due = try? await database.withConnection({ try await store.nextDue(on: $0) }) else { return settings.pollInterval }
        // At least 50 ms: what is due but was not claimed is held by another instance's claim, which
        // ends within milliseconds; asking again at once would only spin.
        let seconds = max(0.05, due.timeIntervalSinceNow + 0.005)
        return min(settings.pollInterval, .milliseconds(Int64(seconds * 1_000)))
    }

    /// LISTEN on a connection of its own; a lost connection is replaced after a pause (the poll covers the gap).
    func listen(_ doorbell: Doorbell) async {
        while !Task.isCancelled {
            do {
                try await database.client.withConnection { connection in
                    try await connection.listen(on: WebhookStore.channel) { notifications in
                        doorbell.ring()  // messages may have been written before the LISTEN took effect
                        for try await _ in notifications { doorbell.ring() }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.debug("Webhooks: listen connection lost", metadata: ["error": "\(KolabError.loggable(Database.unwrap(error)))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// The slow poll, and the queue depth gauge.
    func poll(_ doorbell: Doorbell) async {
        while !Task.isCancelled {
            if let depth = try? await database.withConnection({ try await store.queueDepth(on: $0) }) {
                Metric.queueDepth.record(depth)
            }
            doorbell.ring()
            try? await Task.sleep(for: settings.pollInterval)
        }
    }

    /// One attempt: check the address, sign, send, record the outcome.
    func deliver(_ message: ClaimedWebhookMessage, client: HTTPClient) async {
        let clock = ContinuousClock()
        let started = clock.now
        var statusCode: Int?
        var response = ""
        var failure: String?
        var retryAfter: Duration?
        if let refusal = await guardrail.refusalBeforeSending(message.url) {
            failure = "Refused: \(refusal)"
        } else {
            do {
                var keys = [try key(message.sealedSecret)]
                if let previous = message.sealedPreviousSecret { keys.append(try key(previous)) }
                let id = message.id.uuidString.lowercased()
                let timestamp = Int(Date().timeIntervalSince1970)
                let body = ByteBuffer(string: message.body)
                var request = HTTPClientRequest(url: message.url)
                request.method = .POST
                request.headers.add(name: "content-type", value: "application/json")
                request.headers.add(name: "user-agent", value: "Kolab-Webhooks/1")
                request.headers.add(name: "webhook-id", value: id)
                request.headers.add(name: "webhook-timestamp", value: String(timestamp))
                request.headers.add(
                    name: "webhook-signature",
                    value: WebhookSignature.header(keys: keys, id: id, timestamp: timestamp, body: body.readableBytesView))
                request.body = .bytes(body)
                let answer = try await client.execute(request, timeout: .init(settings.timeout))
                statusCode = Int(answer.status.code)
                retryAfter = Self.retryAfter(answer.headers.first(name: "retry-after"))
                var collected: [UInt8] = []
                for try await chunk in answer.body {
                    collected.append(contentsOf: chunk.readableBytesView.prefix(1_024 - collected.count))
                    if collected.count >= 1_024 { break }
                }
                response = Self.excerpt(collected)
            } catch {
                failure = Self.describe(error)
            }
        }
        let duration = clock.now - started
        let next: WebhookAttemptOutcome.Next
        switch statusCode {
        case .some(200..<300):
            next = .delivered
        case .some(410):
            next = .failed(disable: "The endpoint answered 410 Gone; PATCH {\"enabled\": true} once it accepts messages again.")
        default:
            let honoured = statusCode == 429 || statusCode == 503 ? retryAfter : nil
            if let delay = settings.schedule.delay(
                afterAttempts: message.attempts + 1, jitter: Double.random(in: -1...1), retryAfter: honoured)
            {
                next = .retry(after: delay)
            } else {
                next = .failed(disable: nil)
            }
            if failure == nil, let statusCode {
                failure =
                    (300..<400).contains(statusCode) ? "Redirects are not followed; answered \(statusCode)." : "Answered \(statusCode)."
            }
        }
        let outcome = WebhookAttemptOutcome(statusCode: statusCode, duration: duration, response: response, error: failure, next: next)
        do {
            let delivered = try await database.withConnection { connection in
                try await store.finish(message, worker: name, outcome: outcome, on: connection)
            }
            switch next {
            case .delivered:
                Metric.delivered.increment()
                if let delivered { Metric.latency.recordSeconds(max(0, Date().timeIntervalSince(delivered))) }
            case .retry: Metric.retrying.increment()
            case .failed: Metric.failed.increment()
            }
        } catch {
            // The lease expires and another attempt follows; the receiver drops the duplicate by `webhook-id`.
            logger.warning(
                "Webhooks: recording an attempt failed",
                metadata: ["message_id": "\(message.id)", "error": "\(KolabError.loggable(Database.unwrap(error)))"])
        }
        logger.debug(
            "Webhook attempt",
            metadata: [
                "message_id": "\(message.id)", "endpoint_id": "\(message.endpointID)", "type": "\(message.type)",
                "status": "\(statusCode.map(String.init) ?? "none")",
            ])
    }

    func key(_ sealed: [UInt8]) throws -> SymmetricKey {
        guard let opened = try? box.open(sealed) else {
            throw KolabError(
                .internal,
                "The endpoint's secret cannot be opened with this instance's service key; every instance needs the same KOLAB_SECRET_KEY.")
        }
        let secret = String(decoding: opened, as: UTF8.self)
        guard let key = WebhookSignature.key(ofSecret: secret) else { throw KolabError(.internal, "A stored webhook secret is malformed.") }
        return key
    }

    /// `Retry-After` as seconds or an HTTP date.
    static func retryAfter(_ value: String?) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int64(value), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .seconds(Int64(max(0, date.timeIntervalSinceNow)))
    }

    /// The answer's first KiB as text PostgreSQL can store (no NUL, at most 1024 UTF-8 bytes).
    static func excerpt(_ bytes: [UInt8]) -> String {
        var text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\u{0}", with: "")
        while text.utf8.count > 1_024 { text.removeLast() }
        return text
    }

    /// An error as a receiver's owner can act on it; never the URL (it may hold a token) or a secret.
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout: return "No answer within the timeout."
            case .connectTimeout: return "Could not connect within the timeout."
            case .remoteConnectionClosed: return "The endpoint closed the connection."
            default: return "The request failed: \(String(describing: error).prefix(200))"
            }
        }
        if error is NIOConnectionError || error is ChannelError { return "Could not connect to the endpoint." }
        if let error = error as? KolabError { return error.detail }
        return "The request failed: \(String(describing: type(of: error)))"
    }
}

/// The deliveries this worker has in flight.
final class InFlightCount: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .relaxed) }
    func add(_ delta: Int) { count.add(delta, ordering: .relaxed) }
}

/// Wakes the worker's loop: one waiter, rings are not counted (one wake covers any number of rings).
final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.rung = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns when rung (now, if it rang since the last wait) or after `timeout`.
    func wait(upTo timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForRing() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForRing() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    if state.rung || Task.isCancelled {
                        state.rung = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
