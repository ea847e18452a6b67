import Foundation

public enum RegistrationStatus: String, Sendable, Codable, CaseIterable {
    case applied, shortlisted, accepted, rejected, withdrawn
}

public enum RegistrationAction: String, Sendable, CaseIterable {
    case shortlist, accept, reject, withdraw
}

/// A KOL's registration for a campaign, decided here and nowhere else:
/// `applied -> shortlisted -> accepted | rejected` (officers may also decide straight from `applied`),
/// and `applied | shortlisted | accepted -> withdrawn` by the KOL.
public enum RegistrationMachine {
    /// Only KOLs register, for themselves.
    public static func checkRegister(by role: Role) throws(KolabError) {
        guard role == .kol else { throw KolabError.forbidden("Only KOLs register for campaigns.") }
    }

    /// Only the registration's own KOL acknowledges its brief.
    public static func checkAcknowledge(by actor: Actor, registrationKol: UUID) throws(KolabError) {
        guard actor.role == .kol && registrationKol == actor.userID else {
            throw KolabError.forbidden("Only the KOL of this registration acknowledges the brief.")
        }
    }

    /// `campaign`: the campaign's state; officers decide only while it recruits or runs (a KOL may
    /// withdraw whatever its state, before any of her content is approved: the workflow checks that).
    public static func transition(
        from status: RegistrationStatus, _ action: RegistrationAction, by role: Role, isOwner: Bool = false,
        campaign: CampaignStatus = .recruiting
    ) throws(KolabError) -> RegistrationStatus {
        switch action {
        case .shortlist, .accept, .reject:
            guard role == .officer || role == .admin else {
                throw KolabError.forbidden("Only the campaign's officer or an admin may \(action.rawValue) a registration.")
            }
        case .withdraw:
            guard role == .kol && isOwner else {
                throw KolabError.forbidden("Only the KOL who registered may withdraw.")
            }
        }
        if action != .withdraw, campaign != .recruiting && campaign != .running {
            throw KolabError.conflict(
                action == .accept
                    ? "The campaign is \(campaign.rawValue); KOLs can be accepted only while it recruits or runs."
                    : "The campaign is \(campaign.rawValue); its registrations are closed.")
        }
        switch (status, action) {
        case (.applied, .shortlist): return .shortlisted
        case (.applied, .accept), (.shortlisted, .accept): return .accepted
        case (.applied, .reject), (.shortlisted, .reject): return .rejected
        case (.applied, .withdraw), (.shortlisted, .withdraw), (.accepted, .withdraw): return .withdrawn
        default:
            throw KolabError.conflict("A registration that is \(status.rawValue) cannot be \(action.pastTense).")
        }
    }
}

extension RegistrationAction {
    var pastTense: String {
        switch self {
        case .shortlist: "shortlisted"
        case .accept: "accepted"
        case .reject: "rejected"
        case .withdraw: "withdrawn"
        }
    }
}

/// A deliverable's states (the machine that moves them lives with content review).
public enum DeliverableStatus: String, Sendable, Codable, CaseIterable {
    case awaitingDraft = "awaiting_draft"
    case draftSubmitted = "draft_submitted"
    case inBrandReview = "in_brand_review"
    case brandFeedback = "brand_feedback"
    case changesRequested = "changes_requested"
    case approved
    case posted
    case live
    case insightsSubmitted = "insights_submitted"
    case completed
    case cancelled

    /// From `approved` on, content has been signed off: the KOL can no longer withdraw.
    public static let signedOff: [DeliverableStatus] = [.approved, .posted, .live, .insightsSubmitted, .completed]
}

public enum DeliverableFormat: String, Sendable, Codable, CaseIterable {
    case feedPost = "feed_post"
    case story, reel, video, live
}

/// One line of a brief's deliverables: `quantity` pieces of `format` on `platform`.
public struct BriefDeliverable: Sendable, Codable, Equatable {
    public var key: String
    public var platform: Platform
    public var format: DeliverableFormat
    public var quantity: Int
    public var draftDueAt: Date
    public var postDueAt: Date

    public init(key: String, platform: Platform, format: DeliverableFormat, quantity: Int, draftDueAt: Date, postDueAt: Date) {
        self.key = key
        self.platform = platform
        self.format = format
        self.quantity = quantity
        self.draftDueAt = draftDueAt
        self.postDueAt = postDueAt
    }
}

public enum BriefStatus: String, Sendable, Codable, CaseIterable {
    case draft, published, superseded
}

/// The content of a brief version, validated.
public struct BriefContent: Sendable, Equatable {
    public var keyMessages: [String]
    public var dos: [String]
    public var donts: [String]
    public var hashtags: [String]
    public var mentions: [String]
    public var references: [String]
    public var deliverables: [BriefDeliverable]

    public init(
        keyMessages: [String], dos: [String], donts: [String], hashtags: [String], mentions: [String], references: [String],
        deliverables: [BriefDeliverable]
    ) {
        self.keyMessages = keyMessages
        self.dos = dos
        self.donts = donts
        self.hashtags = hashtags
        self.mentions = mentions
        self.references = references
        self.deliverables = deliverables
    }
}

public enum BriefRules {
    public static let maxItems = 50
    public static let maxQuantity = 50

    static func list(_ items: [String], _ field: String, into v: inout Validator) -> [String] {
        v.check(items.count <= maxItems, field, "at most \(maxItems) items")
        return items.enumerated().map { index, item in v.text(item, "\(field)[\(index)]", max: 1000) }
    }

    /// Validates a brief version for a campaign on `platforms`.
    public static func validate(
        keyMessages: [String], dos: [String], donts: [String], hashtags: [String], mentions: [String],
        references: [String], deliverables: [BriefDeliverable], platforms: [Platform], into v: inout Validator
    ) -> BriefContent {
        let hashtags = list(hashtags, "hashtags", into: &v).map { $0.hasPrefix("#") ? $0 : "#" + $0 }
        let mentions = list(mentions, "mentions", into: &v).map { $0.hasPrefix("@") ? $0 : "@" + $0 }
        let references = list(references, "references", into: &v)
        for (index, link) in references.enumerated() {
            v.check(isWebURL(link), "references[\(index)]", "must be an http or https URL")
        }
        v.check(!deliverables.isEmpty, "deliverables", "must list at least one deliverable")
        v.check(deliverables.count <= maxItems, "deliverables", "at most \(maxItems) deliverables")
        var keys = Set<String>()
        let cleaned = deliverables.enumerated().map { index, d in
            let field = "deliverables[\(index)]"
            let key = d.key.trimmingCharacters(in: .whitespaces).lowercased()
            v.check(
                !key.isEmpty && key.count <= 50 && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") },
                "\(field).key", "must be 1 to 50 letters, digits, '-' or '_'")
            v.check(keys.insert(key).inserted, "\(field).key", "is used twice")
            v.check(platforms.contains(d.platform), "\(field).platform", "must be one of the campaign's platforms")
            v.check((1...maxQuantity).contains(d.quantity), "\(field).quantity", "must be between 1 and \(maxQuantity)")
            v.check(d.postDueAt >= d.draftDueAt, "\(field).post_due_at", "must not be before draft_due_at")
            return BriefDeliverable(
                key: key, platform: d.platform, format: d.format, quantity: d.quantity, draftDueAt: d.draftDueAt, postDueAt: d.postDueAt)
        }
        return BriefContent(
            keyMessages: list(keyMessages, "key_messages", into: &v), dos: list(dos, "dos", into: &v),
            donts: list(donts, "donts", into: &v), hashtags: hashtags, mentions: mentions, references: references,
            deliverables: cleaned)
    }

    public static func isWebURL(_ string: String) -> Bool {
        guard let url = URL(string: string), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            return false
        }
        return scheme == "http" || scheme == "https"
    }
}
