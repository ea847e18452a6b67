import Foundation

/// Who a user is on the platform; decides what they see and what they may do.
public enum Role: String, Sendable, Codable, CaseIterable {
    case admin
    case officer
    case brand
    case kol
    case finance
}

/// The authenticated caller, as every rule about visibility and permission sees it.
public struct Actor: Sendable, Equatable {
    public var userID: UUID
    public var role: Role
    /// Set for brand users only: the brand whose data they see.
    public var brandID: UUID?

    public init(userID: UUID, role: Role, brandID: UUID?) {
        self.userID = userID
        self.role = role
        self.brandID = brandID
    }

    public var isStaff: Bool { role == .admin || role == .officer }

    /// A KOL reads only her own rows of what she may see (registrations, report lines): her id; nil
    /// for every other role.
    public var ownKolID: UUID? { role == .kol ? userID : nil }

    /// An officer's worklist covers her campaigns; an admin's every campaign (nil).
    public var worklistOfficerID: UUID? { role == .officer ? userID : nil }
}

/// Who reads which events of a campaign's timeline.
public enum TimelineAudience: Sendable, Equatable {
    /// Admin, officer, finance: every event of the campaign.
    case everything
    /// A brand: everything but payouts and payout batches (a brand never reads payouts).
    case brand
    /// A KOL: the campaign's and the brief's own events, and those about that KOL, without the
    /// name and address of a guest who reviewed her work (the brand reaches her only through the officer).
    case kol(UUID)

    public init(_ actor: Actor) {
        switch actor.role {
        case .kol: self = .kol(actor.userID)
        case .brand: self = .brand
        case .admin, .officer, .finance: self = .everything
        }
    }
}
