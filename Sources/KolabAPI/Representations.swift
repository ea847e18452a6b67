import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import NIOCore

/// What the API shows of a user.
struct UserResponse: Encodable, Sendable {
    var id: UUID
    var email: String
    var role: Role
    var brandId: UUID?
    var displayName: String
    var createdAt: Date

    init(_ user: UserRecord) {
        id = user.id
        email = user.email
        role = user.role
        brandId = user.brandID
        displayName = user.displayName
        createdAt = user.createdAt
    }
}

struct BrandResponse: Encodable, Sendable {
    var id: UUID
    var name: String
    var createdAt: Date

    init(_ brand: BrandRecord) {
        id = brand.id
        name = brand.name
        createdAt = brand.createdAt
    }
}

/// A KOL profile; `bank` only for those who may see it (the KOL, admins, finance).
struct KolResponse: Encodable, Sendable {
    var id: UUID
    var email: String
    var fullName: String
    var city: String
    var region: String
    var niches: [String]
    var socialAccounts: [SocialAccount]
    var bank: BankDetails?
    /// Whether bank details are on file, shown to everyone who sees the profile (a payout waits for them).
    var hasBankDetails: Bool
    var createdAt: Date
    var updatedAt: Date

    init(_ kol: KolRecord, for actor: Actor?) {
        id = kol.id
        email = kol.email
        fullName = kol.fullName
        city = kol.city
        region = kol.region
        niches = kol.niches
        socialAccounts = kol.socialAccounts
        hasBankDetails = kol.bank != nil
        bank = actor.map { KolRules.maySeeBank($0, kolID: kol.id) } == true ? kol.bank : nil
        createdAt = kol.createdAt
        updatedAt = kol.updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, email, fullName, city, region, niches, socialAccounts, bank, hasBankDetails, createdAt, updatedAt
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(email, forKey: .email)
        try c.encode(fullName, forKey: .fullName)
        try c.encode(city, forKey: .city)
        try c.encode(region, forKey: .region)
        try c.encode(niches, forKey: .niches)
        try c.encode(socialAccounts, forKey: .socialAccounts)
        try c.encodeIfPresent(bank, forKey: .bank)
        try c.encode(hasBankDetails, forKey: .hasBankDetails)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
    }
}
