import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import Testing

let testPassword = "correct-horse-battery"

/// Builders for the accounts tests need, made through the API (the first admin through the store,
/// as `kolab user create` does).
extension TestApp {
    struct Account: Sendable {
        let id: String
        let email: String
        let token: String
        let role: Role
    }

    /// The first admin, created like `kolab user create`, then logged in through the API.
    func admin() async throws -> Account {
        let email = "admin-\(UUID().uuidString.prefix(8).lowercased())@kolab.test"
        try await sql { database in
            let hash = try await PasswordHasher(cost: 4).hash(testPassword)
            _ = try await database.withTransaction {
                try await AccountStore(logger: testLogger).createUser(
                    email: EmailAddress(email)!, passwordHash: hash, role: .admin, brandID: nil, displayName: "Admin", on: $0)
            }
        }
        return try await login(email, role: .admin)
    }

    func login(_ email: String, password: String = testPassword, role: Role) async throws -> Account {
        let response = try await post("/v1/auth/tokens", LoginBody(email: email, password: password))
        #expect(response.status == .created, "login of \(email): \(response.text)")
        let user = response.json["user"] as? [String: any Sendable] ?? [:]
        return Account(id: user["id"] as? String ?? "", email: email, token: response["token"] ?? "", role: role)
    }

    func brand(_ name: String = "Brand \(UUID().uuidString.prefix(6))", by admin: Account) async throws -> String {
        let response = try await post("/v1/brands", token: admin.token, BrandBody(name: name))
        #expect(response.status == .created, "create brand: \(response.text)")
        return response["id"] ?? ""
    }

    /// A user of `role` (not kol) created by `admin`, logged in.
    func user(_ role: Role, brandID: String? = nil, by admin: Account) async throws -> Account {
        let email = "\(role.rawValue)-\(UUID().uuidString.prefix(8).lowercased())@kolab.test"
        let body = UserBody(email: email, role: role.rawValue, displayName: "Test \(role.rawValue)", brandID: brandID)
        let response = try await post("/v1/users", token: admin.token, body)
        #expect(response.status == .created, "create \(role.rawValue): \(response.text)")
        return try await login(email, role: role)
    }

    /// A KOL who signed up through the public endpoint, logged in.
    func kol(niches: [String] = ["parenting"], followers: Int = 25_000, region: String = "Jawa Barat", bank: Bool = true) async throws
        -> Account
    {
        let email = "kol-\(UUID().uuidString.prefix(8).lowercased())@example.id"
        let response = try await post(
            "/v1/kols", KolSignUpBody(email: email, niches: niches, followers: followers, region: region, bank: bank))
        #expect(response.status == .created, "kol sign-up: \(response.text)")
        return try await login(email, role: .kol)
    }

    /// One account of every role: the cast most access tests need.
    struct Cast: Sendable {
        let admin: Account
        let officer: Account
        let finance: Account
        let brand: Account
        let brandID: String
        let kol: Account

        func account(_ role: Role) -> Account {
            switch role {
            case .admin: admin
            case .officer: officer
            case .finance: finance
            case .brand: brand
            case .kol: kol
            }
        }
    }

    func cast() async throws -> Cast {
        let admin = try await admin()
        let brandID = try await brand(by: admin)
        return Cast(
            admin: admin, officer: try await user(.officer, by: admin), finance: try await user(.finance, by: admin),
            brand: try await user(.brand, brandID: brandID, by: admin), brandID: brandID, kol: try await kol())
    }
}

extension HTTPFields {
    static func idempotencyKey(_ key: String) -> HTTPFields {
        [HTTPField.Name("Idempotency-Key")!: key]
    }
}
