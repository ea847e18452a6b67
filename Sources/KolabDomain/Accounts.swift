import Foundation

/// Rules about users, brands and who may manage them.
public enum AccountRules {
    /// Users whose role needs a brand carry one; no other role may.
    public static func checkBrand(role: Role, brandID: UUID?, into v: inout Validator) {
        if role == .brand && brandID == nil {
            v.add("brand_id", "is required for a brand user")
        } else if role != .brand && brandID != nil {
            v.add("brand_id", "is only allowed for a brand user")
        }
    }

    /// Only admins create staff and brand users (KOLs sign up themselves).
    public static func mayManageUsers(_ actor: Actor) -> Bool { actor.role == .admin }

    /// Who may list users: admins see all of them.
    public static func mayListUsers(_ actor: Actor) -> Bool { actor.role == .admin }

    /// Brands: admins create them; staff and finance see all; a brand user sees its own.
    public static func mayCreateBrand(_ actor: Actor) -> Bool { actor.role == .admin }

    public static func maySeeBrand(_ actor: Actor, brandID: UUID) -> Bool {
        switch actor.role {
        case .admin, .officer, .finance: true
        case .brand: actor.brandID == brandID
        case .kol: false
        }
    }

    /// KOL search is for selection: officers, admins and finance (who pays them).
    public static func maySearchKols(_ actor: Actor) -> Bool {
        actor.role == .admin || actor.role == .officer || actor.role == .finance
    }

    /// Who sees a user's account: admins every one, anyone else only their own (others: 404).
    public static func maySeeUser(_ actor: Actor, userID: UUID) -> Bool { actor.role == .admin || actor.userID == userID }

    /// Which KOL profiles a role sees: staff and finance every one, a KOL its own, a brand those
    /// registered to one of its campaigns (the store answers that one).
    public enum KolVisibility: Sendable, Equatable {
        case all, none, own, registeredWithBrand(UUID)
    }

    public static func kolVisibility(_ actor: Actor, kolID: UUID) -> KolVisibility {
        switch actor.role {
        case .admin, .officer, .finance: .all
        case .kol: actor.userID == kolID ? .own : .none
        case .brand: actor.brandID.map { .registeredWithBrand($0) } ?? .none
        }
    }

    /// A brand user lists only its own brand; every other role that lists brands sees all.
    public static func brandScope(_ actor: Actor) -> UUID?? { actor.role == .brand ? .some(actor.brandID) : .none }

    /// A KOL edits its own profile; admins may correct any.
    public static func mayEditKol(_ actor: Actor, kolID: UUID) -> Bool {
        actor.role == .admin || (actor.role == .kol && actor.userID == kolID)
    }
}

/// Lists answer pages of `limit` rows: 50 unless asked, never more than 200.
public struct PageSize: Sendable, Equatable {
    public static let defaultLimit = 50
    public static let maximumLimit = 200

    public let limit: Int

    /// Reads `?limit=`; over the maximum is capped, not refused; below 1 or not a number is a 422.
    public init(_ raw: String?) throws(KolabError) {
        guard let raw else {
            limit = Self.defaultLimit
            return
        }
        guard let value = Int(raw), value >= 1 else {
            throw KolabError.invalid(field: "limit", "must be a whole number of at least 1")
        }
        limit = min(value, Self.maximumLimit)
    }
}
