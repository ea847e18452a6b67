import Crypto
import Foundation
import KolabDomain
import Logging
import PostgresNIO

/// Bearer tokens (stored as SHA-256 only) and the failed-login throttle.
public struct AuthStore: Sendable {
    let logger: Logger
    /// The users of API tokens looked up lately; off (answers nothing) unless an
    /// `ActorCacheListener` keeps it told of changes.
    public let actors: ActorCache
    public static let failureWindowSeconds = 15 * 60
    public static let maximumFailures = 10

    public init(logger: Logger, actors: ActorCache = ActorCache()) {
        self.logger = logger
        self.actors = actors
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

    /// The live (unexpired, unrevoked) token's user: from `actors` when it is kept there.
    public func actor(forToken token: String, on connection: PostgresConnection) async throws -> Actor? {
        let hash = Self.hash(token: token)
        if let actor = actors.actor(forTokenHash: hash, now: Date()) { return actor }
        let generation = actors.generation()
        let rows = try await connection.run(ActorForToken(tokenHash: hash), logger: logger)
        for try await (id, role, brandID, expiresAt) in rows.decode((UUID, String, UUID?, Date).self) {
            guard let role = Role(rawValue: role) else { return nil }
            let actor = Actor(userID: id, role: role, brandID: brandID)
            if let generation { actors.keep(actor, expiresAt: expiresAt, forTokenHash: hash, generation: generation) }
            return actor
        }
        return nil
    }

    /// Stores a console session (hashed), valid for `idleSeconds` after each use.
    public func storeSession(_ token: String, userID: UUID, idleSeconds: Int, on connection: PostgresConnection) async throws {
        try await connection.run(
            """
            INSERT INTO auth_tokens (token_hash, user_id, expires_at, kind)
            VALUES (\(Self.hash(token: token)), \(userID), now() + \(idleSeconds) * interval '1 second', 'session')
            """, logger: logger)
    }

    /// The user of a live console session; each use moves its end to `idleSeconds` from now (written at
    /// most once a minute, so that reading pages does not write a row each time).
    public func actor(forSession token: String, idleSeconds: Int, on connection: PostgresConnection) async throws
        -> (actor: Actor, displayName: String)?
    {
        let rows = try await connection.run(SessionActor(tokenHash: Self.hash(token: token), idleSeconds: idleSeconds), logger: logger)
        for try await (id, role, brandID, name) in rows.decode((UUID, String, UUID?, String).self) {
            guard let role = Role(rawValue: role) else { return nil }
            return (Actor(userID: id, role: role, brandID: brandID), name)
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

    /// Revokes the token; this instance forgets it at once (others when the trigger's notice reaches them).
    public func revoke(token: String, on connection: PostgresConnection) async throws {
        let hash = Self.hash(token: token)
        try await connection.run(
            "UPDATE auth_tokens SET revoked_at = now() WHERE token_hash = \(hash) AND revoked_at IS NULL", logger: logger)
        actors.forget(tokenHash: hash)
    }

    /// A hundred failed logins from one client address within the window lock that address.
    public static let maximumFailuresPerAddress = 100

    /// One login attempt, counted before the password is checked: `admit` records it as a failure,
    /// `succeeded` withdraws it.
    public struct Attempt: Sendable {
        public let email: String
        let addressAttemptID: Int64
    }

    /// Counts and records a login attempt atomically, before any bcrypt work: under advisory locks on
    /// the client address and then the e-mail (always in that order), it counts the failures in the
    /// window and, when neither limit is reached, records this attempt as one. A burst of concurrent
    /// attempts is therefore counted one by one: the eleventh for an e-mail, or the hundred-and-first
    /// from an address, answers 429 whatever its password. Run it in its own transaction, committed
    /// before the password is checked.
    public func admit(email: String, address: String, on connection: PostgresConnection) async throws -> Attempt {
        try await connection.run("SELECT pg_advisory_xact_lock(7043, hashtext(\(address)))", logger: logger)
        try await connection.run("SELECT pg_advisory_xact_lock(7044, hashtext(\(email)))", logger: logger)
        if let wait = try await lockedOut(table: "login_failures", column: "email", key: email, limit: Self.maximumFailures, on: connection)
        {
            throw KolabError(
                .tooManyRequests, "Too many failed logins for this e-mail; try again in \(wait) seconds.", retryAfterSeconds: wait)
        }
        if let wait = try await lockedOut(
            table: "login_address_failures", column: "address", key: address, limit: Self.maximumFailuresPerAddress, on: connection)
        {
            throw KolabError(
                .tooManyRequests, "Too many failed logins from your address; try again in \(wait) seconds.", retryAfterSeconds: wait)
        }
        try await connection.run("INSERT INTO login_failures (email) VALUES (\(email))", logger: logger)
        var id: Int64 = 0
        for try await value in try await connection.run(
            "INSERT INTO login_address_failures (address) VALUES (\(address)) RETURNING id", logger: logger
        ).decode(Int64.self) { id = value }
        return Attempt(email: email, addressAttemptID: id)
    }

    /// The password was right: the e-mail's failures are forgiven and this attempt is not one.
    public func succeeded(_ attempt: Attempt, on connection: PostgresConnection) async throws {
        try await clearFailures(email: attempt.email, on: connection)
        try await connection.run("DELETE FROM login_address_failures WHERE id = \(attempt.addressAttemptID)", logger: logger)
    }

    /// Seconds until the oldest failure in the window ages out, when `key` has used up `limit` attempts.
    private func lockedOut(table: String, column: String, key: String, limit: Int, on connection: PostgresConnection) async throws -> Int? {
        let rows = try await connection.run(
            """
            SELECT count(*)::int,
                   COALESCE(CEIL(EXTRACT(EPOCH FROM (min(failed_at) + \(Self.failureWindowSeconds) * interval '1 second' - now())))::int, 0)
            FROM (SELECT failed_at FROM \(unescaped: table)
                  WHERE \(unescaped: column) = \(key) AND failed_at > now() - \(Self.failureWindowSeconds) * interval '1 second'
                  ORDER BY failed_at DESC LIMIT \(limit)) recent
            """, logger: logger)
        for try await (count, retryAfter) in rows.decode((Int, Int).self) where count >= limit {
            return max(1, retryAfter)
        }
        return nil
    }

    /// Deletes failures older than the window (housekeeping); returns how many.
    public func purgeOldFailures(on connection: PostgresConnection) async throws -> Int {
        var deleted = 0
        for table in ["login_failures", "login_address_failures"] {
            for try await count in try await connection.run(
                """
                WITH gone AS (DELETE FROM \(unescaped: table) WHERE failed_at <= now() - \(Self.failureWindowSeconds) * interval '1 second'
                              RETURNING 1)
                SELECT count(*)::int FROM gone
                """, logger: logger
            ).decode(Int.self) { deleted += count }
        }
        return deleted
    }

    /// Deletes tokens that expired or were revoked (housekeeping); returns how many.
    public func purgeDeadTokens(on connection: PostgresConnection) async throws -> Int {
        for try await count in try await connection.run(
            """
            WITH gone AS (DELETE FROM auth_tokens WHERE expires_at <= now() OR revoked_at IS NOT NULL RETURNING 1)
            SELECT count(*)::int FROM gone
            """, logger: logger
        ).decode(Int.self) { return count }
        return 0
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
