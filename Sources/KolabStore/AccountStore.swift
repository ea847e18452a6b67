import Foundation
import KolabDomain
import Logging
import PostgresNIO

public struct UserRecord: Sendable, Equatable {
    public var id: UUID
    public var email: String
    public var role: Role
    public var brandID: UUID?
    public var displayName: String
    public var createdAt: Date
    public var position: PagePosition
}

public struct BrandRecord: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var createdAt: Date
    public var position: PagePosition
}

/// Users and brands: creation, lookup, lists.
public struct AccountStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    static let userColumns = "u.id, u.email, u.role, u.brand_id, u.display_name, u.created_at, \(Keyset.micros("u.created_at"))"

    private func users(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [UserRecord] {
        var result: [UserRecord] = []
        let rows = try await connection.run(query, logger: logger)
        for try await (id, email, role, brandID, name, createdAt, micros) in rows.decode(
            (UUID, String, String, UUID?, String, Date, Int64).self)
        {
            guard let role = Role(rawValue: role) else { throw KolabError(.internal, "unknown role \(role) in users") }
            result.append(
                UserRecord(
                    id: id, email: email, role: role, brandID: brandID, displayName: name, createdAt: createdAt,
                    position: PagePosition(micros: micros, id: id)))
        }
        return result
    }

    /// Creates a user; a taken e-mail answers 409 through the unique constraint.
    public func createUser(
        email: EmailAddress, passwordHash: String, role: Role, brandID: UUID?, displayName: String,
        on connection: PostgresConnection
    ) async throws -> UserRecord {
        let rows = try await users(
            """
            INSERT INTO users AS u (email, password_hash, role, brand_id, display_name)
            VALUES (\(email.value), \(passwordHash), \(role.rawValue), \(brandID)::uuid, \(displayName))
            RETURNING \(unescaped: Self.userColumns)
            """, on: connection)
        return rows[0]
    }

    public func user(id: UUID, on connection: PostgresConnection) async throws -> UserRecord? {
        try await users("SELECT \(unescaped: Self.userColumns) FROM users u WHERE u.id = \(id)", on: connection).first
    }

    public func user(email: EmailAddress, on connection: PostgresConnection) async throws -> UserRecord? {
        try await users("SELECT \(unescaped: Self.userColumns) FROM users u WHERE u.email = \(email.value)", on: connection).first
    }

    /// The stored bcrypt hash of a user, for login only.
    public func passwordHash(email: EmailAddress, on connection: PostgresConnection) async throws -> (UUID, String)? {
        let rows = try await connection.run(
            "SELECT id, password_hash FROM users WHERE email = \(email.value)", logger: logger)
        for try await row in rows.decode((UUID, String).self) { return row }
        return nil
    }

    public func listUsers(
        role: Role?, brandID: UUID?, after position: PagePosition?, limit: Int, on connection: PostgresConnection
    ) async throws -> Page<UserRecord> {
        // Only the filters given become SQL, so that a prepared statement's generic plan keeps its index.
        var query = PostgresQuery(unsafeSQL: "SELECT \(Self.userColumns) FROM users u WHERE true")
        if let role {
            let p = query.bind(role.rawValue)
            query.sql += " AND u.role = \(p)"
        }
        if let brandID {
            let p = query.bind(brandID)
            query.sql += " AND u.brand_id = \(p)"
        }
        Keyset.after(position, createdAt: "u.created_at", id: "u.id", into: &query)
        query.sql += " ORDER BY u.created_at, u.id LIMIT \(query.bind(limit + 1))"
        return Page(fetched: try await users(query, on: connection), limit: limit) { $0.position }
    }

    public func userCount(on connection: PostgresConnection) async throws -> Int {
        for try await count in try await connection.run("SELECT count(*)::int FROM users", logger: logger).decode(Int.self) {
            return count
        }
        return 0
    }

    // MARK: Brands

    static let brandColumns = "b.id, b.name, b.created_at, \(Keyset.micros("b.created_at"))"

    private func brands(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [BrandRecord] {
        var result: [BrandRecord] = []
        for try await (id, name, createdAt, micros) in try await connection.run(query, logger: logger).decode(
            (UUID, String, Date, Int64).self)
        {
            result.append(BrandRecord(id: id, name: name, createdAt: createdAt, position: PagePosition(micros: micros, id: id)))
        }
        return result
    }

    public func createBrand(name: String, on connection: PostgresConnection) async throws -> BrandRecord {
        try await brands(
            "INSERT INTO brands AS b (name) VALUES (\(name)) RETURNING \(unescaped: Self.brandColumns)", on: connection)[0]
    }

    public func brand(id: UUID, on connection: PostgresConnection) async throws -> BrandRecord? {
        try await brands("SELECT \(unescaped: Self.brandColumns) FROM brands b WHERE b.id = \(id)", on: connection).first
    }

    public func brand(named name: String, on connection: PostgresConnection) async throws -> BrandRecord? {
        try await brands("SELECT \(unescaped: Self.brandColumns) FROM brands b WHERE lower(b.name) = lower(\(name))", on: connection).first
    }

    /// Lists brands; `only` restricts a brand user to its own brand.
    public func listBrands(
        only: UUID?, after position: PagePosition?, limit: Int, on connection: PostgresConnection
    ) async throws -> Page<BrandRecord> {
        var query: PostgresQuery = """
            SELECT \(unescaped: Self.brandColumns) FROM brands b WHERE (\(only)::uuid IS NULL OR b.id = \(only)::uuid)
            """
        Keyset.after(position, createdAt: "b.created_at", id: "b.id", into: &query)
        query.sql += " ORDER BY b.created_at, b.id LIMIT \(query.bind(limit + 1))"
        return Page(fetched: try await brands(query, on: connection), limit: limit) { $0.position }
    }
}
