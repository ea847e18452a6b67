import Foundation
import KolabDomain
import KolabStore
import Logging

/// Loads the demo data of `fixtures/` through the same rules the API applies. Running it twice
/// changes nothing: brands are matched by name, users and KOLs by e-mail.
public struct Seeder: Sendable {
    public struct Fixtures: Decodable, Sendable {
        public struct Brand: Decodable, Sendable {
            var name: String
        }
        public struct User: Decodable, Sendable {
            var email: String
            var password: String
            var role: Role
            var displayName: String
            var brand: String?
        }
        public struct Kol: Decodable, Sendable {
            var email: String
            var password: String
            var fullName: String
            var city: String
            var region: String
            var niches: [String]
            var socialAccounts: [SocialAccount]
            var bank: BankDetails?
        }
        var brands: [Brand]
        var users: [User]
        var kols: [Kol]
    }

    public struct Summary: Sendable, Equatable {
        public var created = 0
        public var existing = 0
    }

    let services: Services

    public init(services: Services) {
        self.services = services
    }

    public static func load(from folder: URL) throws -> Fixtures {
        let file = folder.appendingPathComponent("accounts.json")
        do {
            return try KolabJSON.makeDecoder().decode(Fixtures.self, from: Data(contentsOf: file))
        } catch {
            throw KolabError(.invalid, "Cannot read \(file.path): \(error)")
        }
    }

    /// Seeds everything; `progress` gets one line per record.
    @discardableResult
    public func seed(_ fixtures: Fixtures, progress: @Sendable (String) -> Void = { _ in }) async throws -> Summary {
        var summary = Summary()
        let db = services.database
        var brandIDs: [String: UUID] = [:]
        let total = fixtures.brands.count + fixtures.users.count + fixtures.kols.count
        var done = 0
        func step(_ what: String, created: Bool) {
            done += 1
            if created { summary.created += 1 } else { summary.existing += 1 }
            progress("[\(done)/\(total)] \(created ? "created" : "exists ") \(what)")
        }

        for brand in fixtures.brands {
            let (record, created) = try await db.withTransaction { connection in
                if let existing = try await services.accounts.brand(named: brand.name, on: connection) { return (existing, false) }
                return (try await services.accounts.createBrand(name: brand.name, on: connection), true)
            }
            brandIDs[brand.name] = record.id
            step("brand \(brand.name)", created: created)
        }

        for user in fixtures.users {
            guard let email = EmailAddress(user.email) else { throw KolabError.invalid(field: "email", "bad fixture e-mail \(user.email)") }
            var brandID: UUID?
            if let name = user.brand {
                guard let id = brandIDs[name] else { throw KolabError.invalid(field: "brand", "fixture user \(user.email) names unknown brand \(name)") }
                brandID = id
            }
            let exists = try await db.withConnection { try await services.accounts.user(email: email, on: $0) } != nil
            if !exists {
                let hash = try await services.passwords.hash(user.password)
                try await db.withTransaction { connection in
                    _ = try await services.accounts.createUser(
                        email: email, passwordHash: hash, role: user.role, brandID: brandID, displayName: user.displayName,
                        on: connection)
                }
            }
            step("\(user.role.rawValue) \(email)", created: !exists)
        }

        for kol in fixtures.kols {
            guard let email = EmailAddress(kol.email) else { throw KolabError.invalid(field: "email", "bad fixture e-mail \(kol.email)") }
            var v = Validator()
            let profile = KolRules.validate(
                fullName: kol.fullName, city: kol.city, region: kol.region, niches: kol.niches,
                socialAccounts: kol.socialAccounts, bank: kol.bank, into: &v)
            try v.validate()
            let exists = try await db.withConnection { try await services.accounts.user(email: email, on: $0) } != nil
            if !exists {
                let hash = try await services.passwords.hash(kol.password)
                try await db.withTransaction { connection in
                    let user = try await services.accounts.createUser(
                        email: email, passwordHash: hash, role: .kol, brandID: nil, displayName: profile.fullName, on: connection)
                    try await services.kols.createProfile(kolID: user.id, profile, on: connection)
                }
            }
            step("kol \(email)", created: !exists)
        }
        return summary
    }

    /// Whether the database holds no users yet (then `serve` seeds it).
    public func databaseIsEmpty() async throws -> Bool {
        try await services.database.withConnection { try await services.accounts.userCount(on: $0) } == 0
    }
}
