import Foundation
import KolabDomain
import Logging
import PostgresNIO

public struct KolRecord: Sendable, Equatable {
    public var id: UUID
    public var email: String
    public var fullName: String
    public var city: String
    public var region: String
    public var niches: [String]
    public var socialAccounts: [SocialAccount]
    public var bank: BankDetails?
    public var version: Int
    public var createdAt: Date
    public var updatedAt: Date
    public var position: PagePosition
}

/// Filters of the KOL search; nil means any.
public struct KolSearch: Sendable {
    public var niche: String?
    public var platform: Platform?
    public var minFollowers: Int64?
    public var region: String?

    public init(niche: String? = nil, platform: Platform? = nil, minFollowers: Int64? = nil, region: String? = nil) {
        self.niche = niche
        self.platform = platform
        self.minFollowers = minFollowers
        self.region = region
    }
}

/// KOL profiles with their social accounts and bank details.
public struct KolStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    // Social accounts come along in the same query (one round trip per page, no N+1).
    static let columns = """
        k.kol_id, (SELECT u.email FROM users u WHERE u.id = k.kol_id), k.full_name, k.city, k.region, k.niches,
        COALESCE((SELECT json_agg(json_build_object('platform', s.platform, 'handle', s.handle, 'followers', s.followers)
                  ORDER BY s.position) FROM kol_social_accounts s WHERE s.kol_id = k.kol_id), '[]')::text,
        k.bank_name, k.bank_code, k.account_number, k.account_holder, k.version, k.created_at, k.updated_at,
        \(Keyset.micros("k.created_at"))
        """

    private func kols(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [KolRecord] {
        var result: [KolRecord] = []
        let decoder = JSONDecoder()
        for try await row in try await connection.run(query, logger: logger) {
            let columns = try row.decode(
                (UUID, String, String, String, String, [String], String, String?, String?, String?, String?, Int, Date, Date, Int64)
                    .self)
            let bank: BankDetails? =
                if let name = columns.7, let code = columns.8, let number = columns.9, let holder = columns.10 {
                    BankDetails(bankName: name, bankCode: code, accountNumber: number, accountHolder: holder)
                } else { nil }
            result.append(
                KolRecord(
                    id: columns.0, email: columns.1, fullName: columns.2, city: columns.3, region: columns.4,
                    niches: columns.5, socialAccounts: try decoder.decode([SocialAccount].self, from: Data(columns.6.utf8)),
                    bank: bank, version: columns.11, createdAt: columns.12, updatedAt: columns.13,
                    position: PagePosition(micros: columns.14, id: columns.0)))
        }
        return result
    }

    public func kol(id: UUID, on connection: PostgresConnection) async throws -> KolRecord? {
        try await kols(Self.profileQuery(id: id), on: connection).first
    }

    /// A KOL's name alone: pages that name an author read nothing else of the profile (no bank
    /// details, no e-mail).
    public func fullName(ofKol id: UUID, on connection: PostgresConnection) async throws -> String? {
        for try await name in try await connection.run(Self.nameQuery(id: id), logger: logger).decode(String.self) { return name }
        return nil
    }

    static func nameQuery(id: UUID) -> PostgresQuery {
        "SELECT k.full_name FROM kol_profiles k WHERE k.kol_id = \(id)"
    }

    static func profileQuery(id: UUID) -> PostgresQuery {
        "SELECT \(unescaped: columns) FROM kol_profiles k WHERE k.kol_id = \(id)"
    }

    /// Creates the profile of a KOL user created in the same transaction.
    public func createProfile(kolID: UUID, _ profile: KolProfileInput, on connection: PostgresConnection) async throws {
        try await connection.run(
            """
            INSERT INTO kol_profiles (kol_id, full_name, city, region, niches, bank_name, bank_code, account_number, account_holder)
            VALUES (\(kolID), \(profile.fullName), \(profile.city), \(profile.region), \(profile.niches),
                    \(profile.bank?.bankName)::text, \(profile.bank?.bankCode)::text, \(profile.bank?.accountNumber)::text,
                    \(profile.bank?.accountHolder)::text)
            """, logger: logger)
        try await replaceSocialAccounts(kolID: kolID, profile.socialAccounts, on: connection)
    }

    private func replaceSocialAccounts(kolID: UUID, _ accounts: [SocialAccount], on connection: PostgresConnection) async throws {
        try await connection.run("DELETE FROM kol_social_accounts WHERE kol_id = \(kolID)", logger: logger)
        guard !accounts.isEmpty else { return }
        // One statement for all accounts: arrays bind directly and unnest into rows.
        try await connection.run(
            """
            INSERT INTO kol_social_accounts (kol_id, position, platform, handle, followers)
            SELECT \(kolID), a.ord - 1, a.platform, a.handle, a.followers
            FROM unnest(\(accounts.map(\.platform.rawValue))::text[], \(accounts.map(\.handle))::text[],
                        \(accounts.map(\.followers))::bigint[]) WITH ORDINALITY AS a(platform, handle, followers, ord)
            """, logger: logger)
    }

    /// Changes of a profile; nil fields stay as they are.
    public struct Changes: Sendable {
        public var fullName: String?
        public var city: String?
        public var region: String?
        public var niches: [String]?
        public var socialAccounts: [SocialAccount]?
        public var bank: BankDetails?

        public init(
            fullName: String? = nil, city: String? = nil, region: String? = nil, niches: [String]? = nil,
            socialAccounts: [SocialAccount]? = nil, bank: BankDetails? = nil
        ) {
            self.fullName = fullName
            self.city = city
            self.region = region
            self.niches = niches
            self.socialAccounts = socialAccounts
            self.bank = bank
        }
    }

    /// Applies `changes` if the profile is still at `expectedVersion`; nil when it moved on (412) or is gone.
    public func update(
        kolID: UUID, expectedVersion: Int, _ changes: Changes, on connection: PostgresConnection
    ) async throws -> Bool {
        let rows = try await connection.run(
            """
            UPDATE kol_profiles SET
                full_name = COALESCE(\(changes.fullName)::text, full_name),
                city = COALESCE(\(changes.city)::text, city),
                region = COALESCE(\(changes.region)::text, region),
                niches = COALESCE(\(changes.niches)::text[], niches),
                bank_name = COALESCE(\(changes.bank?.bankName)::text, bank_name),
                bank_code = COALESCE(\(changes.bank?.bankCode)::text, bank_code),
                account_number = COALESCE(\(changes.bank?.accountNumber)::text, account_number),
                account_holder = COALESCE(\(changes.bank?.accountHolder)::text, account_holder),
                version = version + 1,
                updated_at = now()
            WHERE kol_id = \(kolID) AND version = \(expectedVersion)
            RETURNING kol_id
            """, logger: logger
        ).collect()
        guard !rows.isEmpty else { return false }
        if let accounts = changes.socialAccounts {
            try await replaceSocialAccounts(kolID: kolID, accounts, on: connection)
        }
        return true
    }

    /// Whether the KOL registered for any campaign of the brand (then the brand sees the profile).
    public func isRegistered(kolID: UUID, withBrand brandID: UUID, on connection: PostgresConnection) async throws -> Bool {
        !(try await connection.run(
            """
            SELECT 1 FROM registrations r JOIN campaigns c ON c.id = r.campaign_id
            WHERE r.kol_id = \(kolID) AND c.brand_id = \(brandID) LIMIT 1
            """, logger: logger
        ).collect()).isEmpty
    }

    /// Searches profiles for selection. Only the filters given become SQL, so each search has a plan of
    /// its own: the page walks `kol_profiles` in keyset order and probes each KOL's social accounts by
    /// its key (a lateral lookup), instead of reading every account to build a hash table.
    public func search(
        _ search: KolSearch, after position: PagePosition?, limit: Int, on connection: PostgresConnection
    ) async throws -> Page<KolRecord> {
        var query = PostgresQuery(unsafeSQL: "SELECT \(Self.columns) FROM kol_profiles k")
        if search.platform != nil || search.minFollowers != nil {
            query.sql += " JOIN LATERAL (SELECT 1 FROM kol_social_accounts s WHERE s.kol_id = k.kol_id"
            if let platform = search.platform {
                let p = query.bind(platform.rawValue)
                query.sql += " AND s.platform = \(p)"
            }
            if let minFollowers = search.minFollowers {
                let p = query.bind(minFollowers)
                query.sql += " AND s.followers >= \(p)"
            }
            query.sql += " LIMIT 1) account ON true"
        }
        query.sql += " WHERE true"
        if let niche = search.niche {
            let p = query.bind([niche])
            query.sql += " AND k.niches @> \(p)::text[]"
        }
        if let region = search.region {
            let p = query.bind(region)
            query.sql += " AND lower(k.region) = lower(\(p))"
        }
        Keyset.after(position, createdAt: "k.created_at", id: "k.kol_id", into: &query)
        query.sql += " ORDER BY k.created_at, k.kol_id LIMIT \(query.bind(limit + 1))"
        return Page(fetched: try await kols(query, on: connection), limit: limit) { $0.position }
    }
}
