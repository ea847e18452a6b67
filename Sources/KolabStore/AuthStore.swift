import Crypto
import Foundation
import KolabDomain
import Logging
import PostgresNIO

/// Bearer tokens (stored as SHA-256 only) and the failed-login throttle.
public struct AuthStore: Sendable {
    let logger: Logger
    public static let failureWindowSeconds = 15 * 60
    public static let maximumFailures = 10

    public init(logger: Logger) {
        self.logger = logger
    }

    /// SHA-256 of the token, as bytea: the only form in which a token is stored or looked up.
    public static func hash(token: String) -> ByteBuffer {
        ByteBuffer(bytes: SHA256.hash(data: Data(token.utf8)))
    }

    public func storeToken(_ token: String, userID: UUID, lifetimeSeconds: Int, on connection: PostgresConnection) async throws -> Date {
        let rows = try await connection.run(
            """
            INSERT INTO auth_tokens (token_hash, user_id, expires_at)
            VALUES (\(Self.hash(token: token)), \(userID), now() + \(lifetimeSeconds) * interval '1 second')
            RETURNING expires_at
            """, logger: logger)
        for try await expiresAt in rows.decode(Date.self) { return expiresAt }
        throw KolabError(.internal, "token insert returned nothing")
    }

    /// The live (unexpired, unrevoked) token's user.
    public func actor(forToken token: String, on connection: PostgresConnection) async throws -> Actor? {
        let rows = try await connection.run(
            """
            SELECT u.id, u.role, u.brand_id FROM auth_tokens t JOIN users u ON u.id = t.user_id
            WHERE t.token_hash = \(Self.hash(token: token)) AND t.revoked_at IS NULL AND t.expires_at > now()
            """, logger: logger)
        for try await (id, role, brandID) in rows.decode((UUID, String, UUID?).self) {
            guard let role = Role(rawValue: role) else { return nil }
            return Actor(userID: id, role: role, brandID: brandID)
        }
        return nil
    }

    /// When the token was issued and when it expires, if it is still valid.
    public func tokenInfo(_ token: String, on connection: PostgresConnection) async throws -> (createdAt: Date, expiresAt: Date)? {
        let rows = try await connection.run(
            """
            SELECT created_at, expires_at FROM auth_tokens
            WHERE token_hash = \(Self.hash(token: token)) AND revoked_at IS NULL AND expires_at > now()
            """, logger: logger)
        for try await (created, expires) in rows.decode((Date, Date).self) { return (created, expires) }
        return nil
    }

    public func revoke(token: String, on connection: PostgresConnection) async throws {
        try await connection.run(
            "UPDATE auth_tokens SET revoked_at = now() WHERE token_hash = \(Self.hash(token: token)) AND revoked_at IS NULL",
            logger: logger)
    }

    /// Seconds until the oldest failure in the window ages out, when the e-mail has used up its attempts.
    public func lockedOutFor(email: String, on connection: PostgresConnection) async throws -> Int? {
        let rows = try await connection.run(
            """
            SELECT count(*)::int,
                   COALESCE(CEIL(EXTRACT(EPOCH FROM (min(failed_at) + \(Self.failureWindowSeconds) * interval '1 second' - now())))::int, 0)
            FROM (SELECT failed_at FROM login_failures
                  WHERE email = \(email) AND failed_at > now() - \(Self.failureWindowSeconds) * interval '1 second'
                  ORDER BY failed_at DESC LIMIT \(Self.maximumFailures)) recent
            """, logger: logger)
        for try await (count, retryAfter) in rows.decode((Int, Int).self) where count >= Self.maximumFailures {
            return max(1, retryAfter)
        }
        return nil
    }

    public func recordFailure(email: String, on connection: PostgresConnection) async throws {
        // Purging the e-mail's old rows here keeps the table at most a window deep per address.
        try await connection.run(
            """
            WITH purge AS (DELETE FROM login_failures
                           WHERE email = \(email) AND failed_at <= now() - \(Self.failureWindowSeconds) * interval '1 second')
            INSERT INTO login_failures (email) VALUES (\(email))
            """, logger: logger)
    }

    public func clearFailures(email: String, on connection: PostgresConnection) async throws {
        try await connection.run("DELETE FROM login_failures WHERE email = \(email)", logger: logger)
    }

    /// The secret a named signing key holds (created by the first migration).
    public func signingKey(_ name: String, on connection: PostgresConnection) async throws -> [UInt8] {
        for try await secret in try await connection.run(
            "SELECT secret FROM signing_keys WHERE name = \(name)", logger: logger
        ).decode(ByteBuffer.self) {
            return Array(secret.readableBytesView)
        }
        throw KolabError(.internal, "signing key \(name) is missing; run kolab migrate")
    }
}
