import Foundation
import KolabDomain
import Logging
import PostgresNIO

/// A stored answer to replay for a repeated `Idempotency-Key`.
public struct StoredResponse: Sendable, Equatable {
    public var requestHash: [UInt8]
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(requestHash: [UInt8], status: Int, headers: [String: String], body: [UInt8]) {
        self.requestHash = requestHash
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Idempotency keys, scoped to the caller and kept 24 hours. The caller runs `claim` and `save`
/// in the transaction of the change they guard, so the key and the change commit together.
/// Answers are stored sealed (`SecretBox`): a sign-up's answer holds a bank account, and the table
/// is readable by whoever reads backups. Anonymous requests (sign-up) are scoped to `anonymous`.
public struct IdempotencyStore: Sendable {
    let logger: Logger
    let box: SecretBox
    public static let retentionSeconds = 24 * 60 * 60
    /// The scope of keys sent without a token (KOL sign-up; logins are never stored).
    public static let anonymous = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    public init(logger: Logger, box: SecretBox) {
        self.logger = logger
        self.box = box
    }

    public enum Claim: Sendable {
        /// First use: go ahead, then `save`.
        case proceed
        /// Used before: replay (or refuse, if the body differs).
        case stored(StoredResponse)
        /// Another request with this key is running right now.
        case inFlight
    }

    /// Takes a transaction-scoped advisory lock on (user, key) without waiting: a second request
    /// with the key while the first runs gets `.inFlight` (409) instead of queueing behind it.
    public func claim(userID: UUID, key: String, on connection: PostgresConnection) async throws -> Claim {
        let lockName = "\(userID.uuidString)/\(key)"
        let lockQuery: PostgresQuery = "SELECT pg_try_advisory_xact_lock(hashtextextended(\(lockName), 7041))"
        var locked = false
        for try await value in try await connection.run(lockQuery, logger: logger).decode(Bool.self) { locked = value }
        guard locked else { return .inFlight }
        let rows = try await connection.run(
            """
            SELECT request_hash, status_code, headers::text, body FROM idempotency_keys
            WHERE user_id = \(userID) AND key = \(key)
              AND created_at > now() - \(Self.retentionSeconds) * interval '1 second'
            """, logger: logger)
        for try await (hash, status, headers, body) in rows.decode((ByteBuffer, Int16, String, ByteBuffer).self) {
            let headerMap = try JSONDecoder().decode([String: String].self, from: Data(headers.utf8))
            return .stored(
                StoredResponse(
                    requestHash: Array(hash.readableBytesView), status: Int(status), headers: headerMap,
                    body: try box.open(body.readableBytesView)))
        }
        return .proceed
    }

    public func save(userID: UUID, key: String, response: StoredResponse, on connection: PostgresConnection) async throws {
        let headers = String(decoding: try JSONEncoder().encode(response.headers), as: UTF8.self)
        // An expired record of the same key is replaced: keys are only kept 24 hours.
        try await connection.run(
            """
            INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, headers, body)
            VALUES (\(userID), \(key), \(ByteBuffer(bytes: response.requestHash)), \(Int16(response.status)), \(headers)::jsonb,
                    \(ByteBuffer(bytes: try box.seal(response.body))))
            ON CONFLICT (user_id, key) DO UPDATE SET
                request_hash = EXCLUDED.request_hash, status_code = EXCLUDED.status_code,
                headers = EXCLUDED.headers, body = EXCLUDED.body, created_at = now()
            """, logger: logger)
    }

    /// Deletes records past their 24 hours; returns how many.
    @discardableResult
    public static func purgeExpired(on connection: PostgresConnection, logger: Logger) async throws -> Int {
        let rows = try await connection.run(
            """
            WITH gone AS (DELETE FROM idempotency_keys
                          WHERE created_at <= now() - \(Self.retentionSeconds) * interval '1 second' RETURNING 1)
            SELECT count(*)::int FROM gone
            """, logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }
}
