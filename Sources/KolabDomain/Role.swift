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
}
