import Foundation

/// What can happen to a deliverable. Reviews of drafts arrive as decisions and map to these.
public enum DeliverableAction: String, Sendable, CaseIterable {
    case submitDraft = "submit_draft"
    case forward
    case requestChanges = "request_changes"
    case approve
    case relay
    case submitPost = "submit_post"
    case verifyPost = "verify_post"
    case rejectPost = "reject_post"
    case submitInsights = "submit_insights"
    case verifyInsights = "verify_insights"
    case rejectInsights = "reject_insights"
    case cancel
}

/// What the deliverable machine needs to know beyond the state: the campaign's review rule and state,
/// whether a revision still has a round left, and when insights fall due.
public struct DeliverableRules: Sendable, Equatable {
    public var brandReviewRequired: Bool
    /// Revisions submitted after a change request so far.
    public var revisionRoundsUsed: Int
    /// `max_revision_rounds + extra_rounds`.
    public var revisionRoundsAllowed: Int
    /// A cancelled campaign's deliverables no longer move (but for their own cancel).
    public var campaignStatus: CampaignStatus
    /// Insights may be submitted from this time on (nil: not set yet).
    public var insightsDueAt: Date?
    /// The time of the request (for the insights' due time).
    public var now: Date?

    public init(
        brandReviewRequired: Bool, revisionRoundsUsed: Int = 0, revisionRoundsAllowed: Int = 2, campaignStatus: CampaignStatus = .running,
        insightsDueAt: Date? = nil, now: Date? = nil
    ) {
        self.brandReviewRequired = brandReviewRequired
        self.revisionRoundsUsed = revisionRoundsUsed
        self.revisionRoundsAllowed = revisionRoundsAllowed
        self.campaignStatus = campaignStatus
        self.insightsDueAt = insightsDueAt
        self.now = now
    }
}

/// The deliverable state machine of the contract, decided here and nowhere else. The project officer
/// is in the middle: the brand's feedback reaches the KOL only through the officer's relay.
public enum DeliverableMachine {
    /// Who performs each action. Admins may do what officers do.
    public static func actors(of action: DeliverableAction) -> Set<Role> {
        switch action {
        case .submitDraft, .submitPost, .submitInsights: [.kol]
        case .forward, .relay, .verifyPost, .rejectPost, .verifyInsights, .rejectInsights, .cancel: [.officer, .admin]
        case .requestChanges, .approve: [.officer, .admin, .brand]
        }
    }

    /// 403 when `role` never takes `action` (checked before a request's body is read).
    public static func checkActor(_ role: Role, _ action: DeliverableAction) throws(KolabError) {
        guard actors(of: action).contains(role) else {
            throw KolabError.forbidden(
                action == .requestChanges || action == .approve
                    ? "Your role (\(role.rawValue)) may not review drafts." : "Your role (\(role.rawValue)) may not \(action.phrase).")
        }
    }

    /// The state after `action` by `role`, or why not: 403 when the role never does this, 409 when the
    /// state (or the campaign's rules and state, or the insights' due time) does not allow it now.
    public static func transition(
        from status: DeliverableStatus, _ action: DeliverableAction, by role: Role, rules: DeliverableRules
    ) throws(KolabError) -> DeliverableStatus {
        let next = try nextState(from: status, action, by: role, rules: rules)
        guard rules.campaignStatus != .cancelled || action == .cancel else {
            throw KolabError.conflict("The campaign is cancelled; its deliverables no longer move.")
        }
        if action == .submitInsights, let due = rules.insightsDueAt, let now = rules.now, now < due {
            throw KolabError.conflict("Insights are due from \(due.formatted(.iso8601)); the numbers are not final before then.")
        }
        return next
    }

    private static func nextState(
        from status: DeliverableStatus, _ action: DeliverableAction, by role: Role, rules: DeliverableRules
    ) throws(KolabError) -> DeliverableStatus {
        guard actors(of: action).contains(role) else {
            throw KolabError.forbidden("Your role (\(role.rawValue)) may not \(action.phrase).")
        }
        let staff = role == .officer || role == .admin
        switch (status, action) {
        case (.awaitingDraft, .submitDraft):
            return .draftSubmitted
        case (.changesRequested, .submitDraft):
            guard rules.revisionRoundsUsed < rules.revisionRoundsAllowed else {
                throw KolabError.conflict(
                    "All \(rules.revisionRoundsAllowed) revision rounds are used; the officer can grant an extra round.")
            }
            return .draftSubmitted
        case (.draftSubmitted, .forward) where staff:
            return .inBrandReview
        case (.draftSubmitted, .requestChanges) where staff:
            return .changesRequested
        case (.draftSubmitted, .approve) where staff:
            guard !rules.brandReviewRequired else {
                throw KolabError.conflict("This campaign needs the brand's approval: forward the draft to the brand.")
            }
            return .approved
        case (.inBrandReview, .approve) where role == .brand:
            return .approved
        case (.inBrandReview, .requestChanges) where role == .brand:
            return .brandFeedback
        case (.brandFeedback, .relay):
            return .changesRequested
        case (.approved, .submitPost):
            return .posted
        case (.posted, .verifyPost):
            return .live
        case (.posted, .rejectPost):
            return .approved
        case (.live, .submitInsights):
            return .insightsSubmitted
        case (.insightsSubmitted, .verifyInsights):
            return .completed
        case (.insightsSubmitted, .rejectInsights):
            return .live
        case (let from, .cancel) where from != .completed && from != .cancelled:
            return .cancelled
        default:
            throw KolabError.conflict("A deliverable that is \(status.rawValue) cannot \(action.phrase) now.")
        }
    }

    /// Whether a submission from `status` is a revision (it uses a round) rather than the first draft.
    public static func isRevision(from status: DeliverableStatus) -> Bool { status == .changesRequested }

    /// The officer grants one more revision round while the content is still being made, in a campaign
    /// that still runs.
    public static func checkExtraRound(status: DeliverableStatus, campaignStatus: CampaignStatus, by role: Role) throws(KolabError) {
        guard role == .officer || role == .admin else {
            throw KolabError.forbidden("Only the campaign's officer or an admin grants extra revision rounds.")
        }
        guard [.awaitingDraft, .draftSubmitted, .inBrandReview, .brandFeedback, .changesRequested].contains(status) else {
            throw KolabError.conflict("A deliverable that is \(status.rawValue) needs no more revision rounds.")
        }
        guard campaignStatus != .cancelled && campaignStatus != .completed else {
            throw KolabError.conflict("The campaign is \(campaignStatus.rawValue); its deliverables take no more rounds.")
        }
    }
}

/// A review of a draft: a decision on one version, which moves its deliverable (through
/// `DeliverableMachine`) only when that version is still the latest. A guest holding a review link
/// decides as the role `brand`, and sees only what waits for the brand in the link's campaign.
public enum DraftReviewMachine {
    /// The deliverable's next state when `role` decides `decision` on draft `version`.
    public static func review(
        _ decision: ReviewDecision, version: Int, currentVersion: Int, status: DeliverableStatus, by role: Role, rules: DeliverableRules
    ) throws(KolabError) -> DeliverableStatus {
        let next = try DeliverableMachine.transition(from: status, decision.action, by: role, rules: rules)
        guard version == currentVersion else {
            throw KolabError.conflict("Draft v\(version) is not the latest (v\(currentVersion)); review the latest version.")
        }
        return next
    }

    /// Whether a guest of a link to `linkCampaign` may see draft `version` of a deliverable of
    /// `campaign` that is `status` with `currentVersion` as its latest: only the latest draft, waiting
    /// for the brand, in the link's campaign.
    public static func guestMaySee(
        version: Int, currentVersion: Int, status: DeliverableStatus, campaign: UUID, linkCampaign: UUID
    ) -> Bool {
        campaign == linkCampaign && status == .inBrandReview && version == currentVersion
    }
}

extension DeliverableAction {
    public var phrase: String {
        switch self {
        case .submitDraft: "submit a draft"
        case .forward: "forward a draft to the brand"
        case .requestChanges: "request changes"
        case .approve: "approve a draft"
        case .relay: "relay brand feedback"
        case .submitPost: "submit post proof"
        case .verifyPost: "verify a post"
        case .rejectPost: "reject a post"
        case .submitInsights: "submit insights"
        case .verifyInsights: "verify insights"
        case .rejectInsights: "reject insights"
        case .cancel: "cancel a deliverable"
        }
    }
}

/// A review's decision, as `POST /v1/drafts/{id}/reviews` names it.
public enum ReviewDecision: String, Sendable, Codable, CaseIterable {
    case forward
    case requestChanges = "request_changes"
    case approve
    case relay

    public var action: DeliverableAction {
        switch self {
        case .forward: .forward
        case .requestChanges: .requestChanges
        case .approve: .approve
        case .relay: .relay
        }
    }

    /// Review messages the KOL may read: the officer's own words to her, never the brand's feedback
    /// nor the officer's note forwarding the draft to the brand.
    public static func kolMayRead(decision: ReviewDecision, reviewerRole: Role) -> Bool {
        (reviewerRole == .officer || reviewerRole == .admin) && decision != .forward
    }
}

public enum MediaKind: String, Sendable, Codable, CaseIterable {
    case image, video
}

public struct Media: Sendable, Codable, Equatable {
    public var url: String
    public var kind: MediaKind

    public init(url: String, kind: MediaKind) {
        self.url = url
        self.kind = kind
    }
}

public enum DraftRules {
    public static let maxCaption = 5000
    public static let maxMedia = 20

    /// Validates a draft: something to review (a caption or media), web links, sane sizes.
    public static func validate(caption: String, media: [Media], notes: String, into v: inout Validator) -> (String, [Media], String) {
        let caption = caption.trimmingCharacters(in: .whitespacesAndNewlines)
        let notes = notes.trimmingCharacters(in: .whitespacesAndNewlines)
        v.check(!caption.isEmpty || !media.isEmpty, "caption", "a draft needs a caption or at least one media link")
        v.check(caption.count <= maxCaption, "caption", "must be at most \(maxCaption) characters")
        v.check(notes.count <= 2000, "notes", "must be at most 2000 characters")
        v.check(media.count <= maxMedia, "media", "at most \(maxMedia) media links")
        for (index, item) in media.enumerated() {
            v.check(BriefRules.isWebURL(item.url) && item.url.count <= 2000, "media[\(index)].url", "must be an http or https URL")
        }
        return (caption, media, notes)
    }

    /// Reviews carry a message, except approvals where it is optional.
    public static func validateMessage(_ message: String, decision: ReviewDecision, into v: inout Validator) -> String {
        let message = message.trimmingCharacters(in: .whitespacesAndNewlines)
        if decision != .approve && decision != .forward {
            v.check(!message.isEmpty, "message", "is required when asking for changes or relaying feedback")
        }
        v.check(message.count <= 5000, "message", "must be at most 5000 characters")
        return message
    }

    /// Post proof: a web link and a time that has already happened.
    public static func validatePost(url: String, postedAt: Date, now: Date, into v: inout Validator) {
        v.check(BriefRules.isWebURL(url) && url.count <= 2000, "url", "must be an http or https URL")
        v.check(postedAt <= now.addingTimeInterval(60), "posted_at", "must not be in the future")
    }
}
