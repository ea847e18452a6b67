import Foundation
import KolabDomain
import Logging
import NIOCore
import PostgresNIO

public struct WebhookEndpointRecord: Sendable, Equatable {
    public var id: UUID
    public var scope: WebhookScope
    public var brandID: UUID?
    public var url: String
    public var description: String
    public var eventTypes: [String]
    public var enabled: Bool
    public var disabledReason: String?
    public var previousSecretExpiresAt: Date?
    public var version: Int
    public var createdBy: UUID
    public var createdAt: Date
    public var updatedAt: Date
    public var position: PagePosition
}

public struct WebhookAttemptRecord: Sendable, Equatable {
    public var at: Date
    public var statusCode: Int?
    public var durationMilliseconds: Int
    public var response: String
    public var error: String?
}

public enum WebhookMessageStatus: String, Sendable {
    case pending, delivered, failed
}

public struct WebhookDeliveryRecord: Sendable, Equatable {
    public var id: UUID
    public var endpointID: UUID
    public var eventID: UUID?
    public var type: String
    /// The exact JSON text that is signed and sent.
    public var body: String
    public var status: WebhookMessageStatus
    public var attemptCount: Int
    public var nextAttemptAt: Date?
    public var createdAt: Date
    public var deliveredAt: Date?
    public var attempts: [WebhookAttemptRecord]
    public var position: PagePosition
}

/// A message a worker has claimed, with what it needs to sign and send it.
public struct ClaimedWebhookMessage: Sendable {
    public var id: UUID
    public var endpointID: UUID
    public var type: String
    public var body: String
    /// Attempts made before this one.
    public var attempts: Int
    public var createdAt: Date
    public var url: String
    /// Sealed with the service key (`SecretBox`).
    public var sealedSecret: [UInt8]
    public var sealedPreviousSecret: [UInt8]?
}

/// What one attempt came to, as the worker decided it (see `WebhookWorker`).
public struct WebhookAttemptOutcome: Sendable {
    public enum Next: Sendable {
        case delivered
        /// Try again after this long.
        case retry(after: Duration)
        /// No more tries; `disable` also disables the endpoint (410 Gone) with that reason.
        case failed(disable: String?)
    }
    public var statusCode: Int?
    public var duration: Duration
    public var response: String
    public var error: String?
    public var next: Next

    public init(statusCode: Int?, duration: Duration, response: String, error: String?, next: Next) {
        self.statusCode = statusCode
        self.duration = duration
        self.response = response
        self.error = error
        self.next = next
    }
}

/// Webhook endpoints, their outbox of messages and every attempt (sql/0012_webhooks.sql).
///
/// Messages for audit events are written by the `events` trigger, in the transaction of the change;
/// this store writes only test messages and the state of delivery. Lock order for the workers: the
/// endpoint rows first (`FOR NO KEY UPDATE SKIP LOCKED`, so that two instances never count one
/// endpoint's free slots at once), then its messages (`FOR UPDATE SKIP LOCKED`).
public struct WebhookStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// The channel the outbox trigger notifies at commit.
    public static let channel = "kolab_webhooks"

    static let endpointColumns = """
        e.id, e.scope, e.brand_id, e.url, e.description, e.event_types, e.enabled, e.disabled_reason,
        e.previous_secret_expires_at, e.version, e.created_by, e.created_at, e.updated_at, \(Keyset.micros("e.created_at"))
        """

    private func endpoints(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [WebhookEndpointRecord] {
        var result: [WebhookEndpointRecord] = []
        let rows = try await connection.run(query, logger: logger)
        for try await row in rows.decode(
            (UUID, String, UUID?, String, String, [String], Bool, String?, Date?, Int, UUID, Date, Date, Int64).self)
        {
            guard let scope = WebhookScope(rawValue: row.1) else { throw KolabError(.internal, "unknown webhook scope \(row.1)") }
            result.append(
                WebhookEndpointRecord(
                    id: row.0, scope: scope, brandID: row.2, url: row.3, description: row.4, eventTypes: row.5, enabled: row.6,
                    disabledReason: row.7, previousSecretExpiresAt: row.8, version: row.9, createdBy: row.10, createdAt: row.11,
                    updatedAt: row.12, position: PagePosition(micros: row.13, id: row.0)))
        }
        return result
    }

    public func create(
        scope: WebhookScope, brandID: UUID?, url: String, description: String, eventTypes: [String], sealedSecret: [UInt8],
        by actor: Actor, on connection: PostgresConnection
    ) async throws -> WebhookEndpointRecord {
        try await endpoints(
            """
            INSERT INTO webhook_endpoints AS e (scope, brand_id, url, description, event_types, secret, created_by)
            VALUES (\(scope.rawValue), \(brandID)::uuid, \(url), \(description), \(eventTypes), \(ByteBuffer(bytes: sealedSecret)), \(actor.userID))
            RETURNING \(unescaped: Self.endpointColumns)
            """, on: connection)[0]
    }

    /// One endpoint; `lock` takes its row (`FOR NO KEY UPDATE`) for a change that reads it first.
    public func endpoint(id: UUID, lock: Bool = false, on connection: PostgresConnection) async throws -> WebhookEndpointRecord? {
        try await endpoints(
            "SELECT \(unescaped: Self.endpointColumns) FROM webhook_endpoints e WHERE e.id = \(id)\(unescaped: lock ? " FOR NO KEY UPDATE" : "")",
            on: connection
        ).first
    }

    /// Newest first. `scope`/`brandID` narrow the list to what the caller sees (nil: everything).
    public func list(
        scope: WebhookScope?, brandID: UUID?, after position: PagePosition?, limit: Int, on connection: PostgresConnection
    ) async throws -> Page<WebhookEndpointRecord> {
        var query = PostgresQuery(unsafeSQL: "SELECT \(Self.endpointColumns) FROM webhook_endpoints e WHERE true")
        if let scope { query.sql += " AND e.scope = \(query.bind(scope.rawValue))" }
        if let brandID { query.sql += " AND e.brand_id = \(query.bind(brandID))" }
        Keyset.before(position, createdAt: "e.created_at", id: "e.id", into: &query)
        query.sql += " ORDER BY e.created_at DESC, e.id DESC LIMIT \(query.bind(limit + 1))"
        return Page(fetched: try await endpoints(query, on: connection), limit: limit) { $0.position }
    }

    public struct EndpointChange: Sendable {
        public var url: String?
        public var description: String?
        public var eventTypes: [String]?
        public var enabled: Bool?
        public init() {}
    }

    /// Applies a `PATCH` made to `version` (nil when the endpoint changed since: 412); enabling clears
    /// the reason it was disabled and its failure streak.
    public func update(id: UUID, version: Int, _ change: EndpointChange, on connection: PostgresConnection) async throws
        -> WebhookEndpointRecord?
    {
        try await endpoints(
            """
            UPDATE webhook_endpoints e SET
                url = coalesce(\(change.url)::text, e.url),
                description = coalesce(\(change.description)::text, e.description),
                event_types = coalesce(\(change.eventTypes)::text[], e.event_types),
                enabled = coalesce(\(change.enabled)::boolean, e.enabled),
                disabled_reason = CASE WHEN \(change.enabled)::boolean IS TRUE THEN NULL
                                       WHEN \(change.enabled)::boolean IS FALSE THEN coalesce(e.disabled_reason, 'Disabled by a user.')
                                       ELSE e.disabled_reason END,
                failing_since = CASE WHEN \(change.enabled)::boolean IS TRUE THEN NULL ELSE e.failing_since END,
                version = e.version + 1, updated_at = now()
            WHERE e.id = \(id) AND e.version = \(version)
            RETURNING \(unescaped: Self.endpointColumns)
            """, on: connection
        ).first
    }

    /// Deletes an endpoint with its messages and their attempts.
    public func delete(id: UUID, on connection: PostgresConnection) async throws {
        try await connection.run("DELETE FROM webhook_endpoints WHERE id = \(id)", logger: logger)
    }

    /// A new secret; the current one keeps signing beside it for `overlap`.
    public func rotate(id: UUID, sealedSecret: [UInt8], overlap: Duration, on connection: PostgresConnection) async throws
        -> WebhookEndpointRecord
    {
        try await endpoints(
            """
            UPDATE webhook_endpoints e SET previous_secret = e.secret, secret = \(ByteBuffer(bytes: sealedSecret)),
                previous_secret_expires_at = now() + \(Int(overlap.components.seconds)) * interval '1 second',
                version = e.version + 1, updated_at = now()
            WHERE e.id = \(id)
            RETURNING \(unescaped: Self.endpointColumns)
            """, on: connection)[0]
    }

    // MARK: Messages

    static let messageColumns = """
        m.id, m.endpoint_id, m.event_id, m.type, m.body, m.status, m.attempts,
        CASE WHEN m.status = 'pending' THEN greatest(m.next_attempt_at, m.lease_until) END, m.created_at, m.delivered_at,
        \(Keyset.micros("m.created_at"))
        """

    private func messages(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [WebhookDeliveryRecord] {
        var result: [WebhookDeliveryRecord] = []
        let rows = try await connection.run(query, logger: logger)
        for try await row in rows.decode((UUID, UUID, UUID?, String, String, String, Int, Date?, Date, Date?, Int64).self) {
            result.append(
                WebhookDeliveryRecord(
                    id: row.0, endpointID: row.1, eventID: row.2, type: row.3, body: row.4,
                    status: WebhookMessageStatus(rawValue: row.5) ?? .pending, attemptCount: row.6, nextAttemptAt: row.7,
                    createdAt: row.8, deliveredAt: row.9, attempts: [], position: PagePosition(micros: row.10, id: row.0)))
        }
        guard !result.isEmpty else { return result }
        var attempts: [UUID: [WebhookAttemptRecord]] = [:]
        let ids = result.map(\.id)
        let attemptRows = try await connection.run(
            """
            SELECT message_id, at, status_code, duration_ms, response, error FROM webhook_attempts
            WHERE message_id = ANY(\(ids)) ORDER BY message_id, id
            """, logger: logger)
        for try await row in attemptRows.decode((UUID, Date, Int?, Int, String, String?).self) {
            attempts[row.0, default: []].append(
                WebhookAttemptRecord(at: row.1, statusCode: row.2, durationMilliseconds: row.3, response: row.4, error: row.5))
        }
        for index in result.indices { result[index].attempts = attempts[result[index].id] ?? [] }
        return result
    }

    /// A message with the endpoint it belongs to (for visibility checks).
    public func delivery(id: UUID, on connection: PostgresConnection) async throws -> WebhookDeliveryRecord? {
        try await messages("SELECT \(unescaped: Self.messageColumns) FROM webhook_messages m WHERE m.id = \(id)", on: connection).first
    }

    /// An endpoint's messages, newest first, with their attempts.
    public func deliveries(endpointID: UUID, after position: PagePosition?, limit: Int, on connection: PostgresConnection) async throws
        -> Page<WebhookDeliveryRecord>
    {
        var query = PostgresQuery(unsafeSQL: "SELECT \(Self.messageColumns) FROM webhook_messages m WHERE m.endpoint_id = ")
        query.sql += query.bind(endpointID)
        Keyset.before(position, createdAt: "m.created_at", id: "m.id", into: &query)
        query.sql += " ORDER BY m.created_at DESC, m.id DESC LIMIT \(query.bind(limit + 1))"
        return Page(fetched: try await messages(query, on: connection), limit: limit) { $0.position }
    }

    /// Queues a `webhook.test` message for one endpoint, whatever its event types.
    public func enqueueTest(endpointID: UUID, on connection: PostgresConnection) async throws -> WebhookDeliveryRecord {
        let rows = try await messages(
            """
            WITH m AS (
                INSERT INTO webhook_messages (endpoint_id, type, body)
                SELECT \(endpointID), 'webhook.test', jsonb_build_object(
                    'type', 'webhook.test', 'timestamp', webhook_time(now()),
                    'data', jsonb_build_object('endpoint_id', \(endpointID)::uuid, 'message', 'A test message from Kolab.'))::text
                RETURNING *),
            notified AS (SELECT pg_notify(\(Self.channel), ''))
            SELECT \(unescaped: Self.messageColumns) FROM m, notified
            """, on: connection)
        return rows[0]
    }

    /// Sends a message again now (same id); its attempt schedule starts over.
    public func retry(id: UUID, on connection: PostgresConnection) async throws -> WebhookDeliveryRecord {
        let rows = try await messages(
            """
            WITH m AS (
                UPDATE webhook_messages SET status = 'pending', attempts = 0, next_attempt_at = clock_timestamp(), delivered_at = NULL
                WHERE id = \(id) RETURNING *),
            notified AS (SELECT pg_notify(\(Self.channel), ''))
            SELECT \(unescaped: Self.messageColumns) FROM m, notified
            """, on: connection)
        return rows[0]
    }

    /// Queues an endpoint's failed messages created at or after `since` once more; answers how many.
    public func recover(endpointID: UUID, since: Date, on connection: PostgresConnection) async throws -> Int {
        let rows = try await connection.run(
            """
            WITH m AS (
                UPDATE webhook_messages SET status = 'pending', attempts = 0, next_attempt_at = clock_timestamp()
                WHERE endpoint_id = \(endpointID) AND status = 'failed' AND created_at >= \(since) RETURNING 1),
            notified AS (SELECT pg_notify(\(Self.channel), '') WHERE EXISTS (SELECT 1 FROM m))
            SELECT count(*)::int FROM m LEFT JOIN notified ON true
            """, logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    // MARK: The worker's side

    /// Claims up to `limit` due messages for `worker` until `lease` from now, at most `perEndpoint`
    /// leased per endpoint across all instances. Two statements in one transaction: the endpoints are
    /// locked first, so the second statement's snapshot counts every lease another instance committed.
    public func claim(
        worker: String, limit: Int, perEndpoint: Int, lease: Duration, on connection: PostgresConnection
    ) async throws -> [ClaimedWebhookMessage] {
        try await Database.transaction(on: connection, logger: logger) { connection in
            var endpointIDs: [UUID] = []
            let locked = try await connection.run(
                """
                SELECT e.id FROM webhook_endpoints e
                CROSS JOIN LATERAL (
                    SELECT 1 FROM webhook_messages d WHERE d.endpoint_id = e.id AND d.status = 'pending'
                      AND d.next_attempt_at <= now() AND (d.lease_until IS NULL OR d.lease_until <= now())
                    LIMIT 1) due
                WHERE e.enabled
                ORDER BY e.id LIMIT \(limit) FOR NO KEY UPDATE OF e SKIP LOCKED
                """, logger: logger)
            for try await id in locked.decode(UUID.self) { endpointIDs.append(id) }
            guard !endpointIDs.isEmpty else { return [] }
            let rows = try await connection.run(
                """
                WITH free AS (
                    SELECT e.id, \(perEndpoint) - (
                        SELECT count(*) FROM webhook_messages a
                        WHERE a.endpoint_id = e.id AND a.status = 'pending' AND a.lease_until IS NOT NULL
                          AND a.lease_until > now())::int AS slots
                    FROM webhook_endpoints e WHERE e.id = ANY(\(endpointIDs))),
                picked AS (
                    SELECT d.id FROM free CROSS JOIN LATERAL (
                        SELECT d.id FROM webhook_messages d
                        WHERE d.endpoint_id = free.id AND d.status = 'pending' AND d.next_attempt_at <= now()
                          AND (d.lease_until IS NULL OR d.lease_until <= now())
                        ORDER BY d.next_attempt_at, d.id LIMIT greatest(free.slots, 0) FOR UPDATE SKIP LOCKED) d
                    LIMIT \(limit))
                UPDATE webhook_messages m SET lease_until = now() + \(Int(lease.components.seconds)) * interval '1 second',
                    leased_by = \(worker)
                FROM picked, webhook_endpoints w WHERE m.id = picked.id AND w.id = m.endpoint_id
                RETURNING m.id, m.endpoint_id, m.type, m.body, m.attempts, m.created_at, w.url, w.secret,
                    CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END
                """, logger: logger)
            var claimed: [ClaimedWebhookMessage] = []
            for try await row in rows.decode((UUID, UUID, String, String, Int, Date, String, ByteBuffer, ByteBuffer?).self) {
                claimed.append(
                    ClaimedWebhookMessage(
                        id: row.0, endpointID: row.1, type: row.2, body: row.3, attempts: row.4, createdAt: row.5, url: row.6,
                        sealedSecret: Array(buffer: row.7), sealedPreviousSecret: row.8.map { Array(buffer: $0) }))
            }
            return claimed
        }
    }

    /// Records an attempt and its consequence in one statement: the message's state (only while
    /// `worker` still holds its lease), and the endpoint's failure streak (five days of failures, or a
    /// 410, disable it). Answers the message's `created_at` when it was delivered now.
    @discardableResult
    public func finish(
        _ message: ClaimedWebhookMessage, worker: String, outcome: WebhookAttemptOutcome, on connection: PostgresConnection
    ) async throws -> Date? {
        var status = "pending"
        var retryMicros: Int64 = 0
        var disable: String?
        var success = false
        switch outcome.next {
        case .delivered:
            status = "delivered"
            success = true
        case .retry(let after):
            retryMicros = after.components.seconds * 1_000_000 + after.components.attoseconds / 1_000_000_000_000
        case .failed(let reason):
            status = "failed"
            disable = reason
        }
        let durationMs = Int(outcome.duration.components.seconds * 1_000 + outcome.duration.components.attoseconds / 1_000_000_000_000_000)
        let rows = try await connection.run(
            """
            WITH msg AS (
                UPDATE webhook_messages SET status = \(status), attempts = attempts + 1,
                    next_attempt_at = clock_timestamp() + \(retryMicros) * interval '1 microsecond',
                    delivered_at = CASE WHEN \(status) = 'delivered' THEN clock_timestamp() END,
                    lease_until = NULL, leased_by = NULL
                WHERE id = \(message.id) AND leased_by = \(worker) AND status = 'pending'
                RETURNING endpoint_id, created_at, status),
            attempt AS (
                INSERT INTO webhook_attempts (message_id, status_code, duration_ms, response, error)
                SELECT id, \(outcome.statusCode.map(Int32.init))::int, \(max(0, durationMs)), \(outcome.response), \(outcome.error)::text
                FROM webhook_messages WHERE id = \(message.id)),
            streak AS (
                UPDATE webhook_endpoints e SET
                    failing_since = CASE WHEN \(success) THEN NULL ELSE coalesce(e.failing_since, now()) END,
                    enabled = CASE WHEN \(disable)::text IS NOT NULL OR (NOT \(success) AND e.failing_since < now() - interval '5 days')
                                   THEN false ELSE e.enabled END,
                    disabled_reason = CASE
                        WHEN \(disable)::text IS NOT NULL THEN \(disable)::text
                        WHEN NOT \(success) AND e.failing_since < now() - interval '5 days'
                            THEN 'Every delivery failed for 5 days; PATCH {"enabled": true} to try again.'
                        ELSE e.disabled_reason END,
                    version = CASE WHEN \(disable)::text IS NOT NULL OR (NOT \(success) AND e.failing_since < now() - interval '5 days')
                                   THEN e.version + 1 ELSE e.version END,
                    updated_at = CASE WHEN \(disable)::text IS NOT NULL OR (NOT \(success) AND e.failing_since < now() - interval '5 days')
                                      THEN now() ELSE e.updated_at END
                WHERE e.id = \(message.endpointID) AND e.enabled
                  AND ((\(success) AND e.failing_since IS NOT NULL)
                       OR (NOT \(success) AND (e.failing_since IS NULL OR e.failing_since < now() - interval '5 days'
                                               OR \(disable)::text IS NOT NULL))))
            SELECT created_at FROM msg WHERE status = 'delivered'
            """, logger: logger)
        for try await createdAt in rows.decode(Date.self) { return createdAt }
        return nil
    }

    /// Gives back a claim without an attempt (a worker stopping before it sent).
    public func release(_ id: UUID, worker: String, on connection: PostgresConnection) async throws {
        try await connection.run(
            "UPDATE webhook_messages SET lease_until = NULL, leased_by = NULL WHERE id = \(id) AND leased_by = \(worker)", logger: logger)
    }

    /// When the next pending message falls due, or the next claim expires (nil when none is pending); two
    /// index walks (`sql/0015_webhook_claims.sql`); messages of disabled endpoints wait for no one.
    public func nextDue(on connection: PostgresConnection) async throws -> Date? {
        let rows = try await connection.run(
            """
            SELECT least(
                (SELECT m.next_attempt_at FROM webhook_messages m
                 WHERE m.status = 'pending' AND m.lease_until IS NULL
                   AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = m.endpoint_id AND e.enabled)
                 ORDER BY m.next_attempt_at LIMIT 1),
                (SELECT min(lease_until) FROM webhook_messages WHERE status = 'pending' AND lease_until IS NOT NULL))
            """, logger: logger)
        for try await due in rows.decode(Date?.self) { return due }
        return nil
    }

    /// Messages waiting to be delivered (for `kolab_webhook_queue_depth`).
    public func queueDepth(on connection: PostgresConnection) async throws -> Int {
        let rows = try await connection.run("SELECT count(*)::int FROM webhook_messages WHERE status = 'pending'", logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    /// Deletes messages that are done (delivered or failed) and older than `age`, with their attempts.
    public func purgeFinished(olderThan age: Duration, on connection: PostgresConnection) async throws -> Int {
        let rows = try await connection.run(
            """
            WITH gone AS (
                DELETE FROM webhook_messages
                WHERE status <> 'pending' AND created_at < now() - \(Int(age.components.seconds)) * interval '1 second' RETURNING 1)
            SELECT count(*)::int FROM gone
            """, logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }
}
