import Foundation
import KolabDomain
import Logging
import PostgresNIO

// MARK: - Content review: drafts, reviews, post proof, cancellation

extension Workflows {
    /// A deliverable transition the machine has allowed, not yet applied: the deliverable and its
    /// campaign as read under their locks, and the state it moves to.
    struct DeliverableMove {
        let deliverable: DeliverableRecord
        let campaign: CampaignRecord
        let next: DeliverableStatus
        let actor: Actor
        /// Set when a guest holding a review link made the move (its event names the guest).
        var guest: GuestReviewer?
    }

    /// Step one of every deliverable transition: find it as the actor may see it (404), lock it in
    /// the documented order (campaign `FOR SHARE`, then the deliverable), and let the machine decide
    /// (403, 409). Nothing is written yet.
    func decide(
        _ id: UUID, _ action: DeliverableAction, actor: Actor, now: Date? = nil, on connection: PostgresConnection
    ) async throws -> DeliverableMove {
        let (deliverable, campaign) = try await visibleDeliverable(id, actor: actor, lock: true, on: connection)
        let next = try DeliverableMachine.transition(
            from: deliverable.status, action, by: actor.role, rules: Self.rules(deliverable, campaign, now: now))
        return DeliverableMove(deliverable: deliverable, campaign: campaign, next: next, actor: actor)
    }

    /// The facts the machine decides on, as read under the locks.
    static func rules(_ deliverable: DeliverableRecord, _ campaign: CampaignRecord, now: Date? = nil) -> DeliverableRules {
        DeliverableRules(
            brandReviewRequired: campaign.brandReviewRequired, revisionRoundsUsed: deliverable.revisionRoundsUsed,
            revisionRoundsAllowed: campaign.maxRevisionRounds + deliverable.extraRounds, campaignStatus: campaign.status,
            insightsDueAt: deliverable.insightsDueAt, now: now)
    }

    /// The last step: the guarded update (from the state it was decided in) and its event.
    func apply(
        _ move: DeliverableMove, _ change: ContentStore.DeliverableChange = ContentStore.DeliverableChange(), data: [String: String] = [:],
        on connection: PostgresConnection
    ) async throws -> DeliverableRecord {
        let deliverable = move.deliverable
        let updated = try await content.update(
            deliverableID: deliverable.id, from: deliverable.status, to: move.next, change, on: connection)
        try await events.record(
            by: move.actor, campaignID: move.campaign.id, kolID: deliverable.kolID, entity: .deliverable, entityID: deliverable.id,
            from: deliverable.status.rawValue, to: move.next.rawValue, data: data, guest: move.guest, on: connection)
        return updated
    }

    /// A transition with nothing else to write.
    func move(
        _ id: UUID, _ action: DeliverableAction, actor: Actor, on connection: PostgresConnection,
        change: ContentStore.DeliverableChange = ContentStore.DeliverableChange(), data: [String: String] = [:]
    ) async throws -> DeliverableRecord {
        let move = try await decide(id, action, actor: actor, on: connection)
        return try await apply(move, change, data: data, on: connection)
    }

    /// The KOL submits draft v1, or a revision v(n+1) after changes were requested (it uses a round).
    public func submitDraft(
        deliverable id: UUID, caption: String, media: [Media], notes: String, actor: Actor, on connection: PostgresConnection
    ) async throws -> DraftRecord {
        let move = try await decide(id, .submitDraft, actor: actor, on: connection)
        let version = move.deliverable.currentDraftVersion + 1
        let draft = try await content.createDraft(
            deliverableID: id, version: version, caption: caption, media: media, notes: notes, submittedBy: actor.userID, on: connection)
        var change = ContentStore.DeliverableChange()
        change.draftVersion = version
        change.usedRound = DeliverableMachine.isRevision(from: move.deliverable.status)
        _ = try await apply(move, change, data: ["draft_version": "\(version)"], on: connection)
        return draft
    }

    /// A draft the actor may see (the deliverable's), with the deliverable.
    public func visibleDraft(_ id: UUID, actor: Actor, on connection: PostgresConnection) async throws -> (DraftRecord, DeliverableRecord) {
        guard let (draft, deliverable, campaign) = try await content.draftWithDeliverable(id: id, kol: actor.ownKolID, on: connection),
            Self.maySee(deliverable, of: campaign, actor)
        else { throw KolabError.notFound("draft") }
        return (draft, deliverable)
    }

    /// A draft a guest holding a review link may see: the current version of a deliverable of the
    /// link's campaign that waits for brand review. Anything else answers 404, as a missing id.
    public func visibleDraft(_ id: UUID, guest: GuestReviewer, on connection: PostgresConnection) async throws -> (
        DraftRecord, DeliverableRecord
    ) {
        let (draft, deliverable) = try await visibleDraft(id, actor: guest.actor, on: connection)
        try Self.checkGuest(guest, sees: draft, of: deliverable)
        return (draft, deliverable)
    }

    /// A guest sees only the latest draft of a deliverable of the link's campaign waiting for brand review.
    public static func checkGuest(_ guest: GuestReviewer, sees draft: DraftRecord, of deliverable: DeliverableRecord) throws {
        guard
            DraftReviewMachine.guestMaySee(
                version: draft.version, currentVersion: deliverable.currentDraftVersion, status: deliverable.status,
                campaign: deliverable.campaignID, linkCampaign: guest.campaignID)
        else { throw KolabError.notFound("draft") }
    }

    /// A review of the latest draft: forward, request changes, approve, relay (by role, per the machine).
    public func review(
        draft draftID: UUID, decision: ReviewDecision, message: String, actor: Actor, on connection: PostgresConnection
    ) async throws -> ReviewRecord {
        try await review(draft: draftID, decision: decision, message: message, reviewer: .user(actor), on: connection)
    }

    /// A review by a user or by a guest. A guest's is a brand review (the machine decides it as for
    /// the role `brand`) of a draft of the link's campaign; it holds the link `FOR SHARE` first, so a
    /// revoke committed before it answers `ReviewLinkGone` and one coming after waits for it. Lock
    /// order: the link, then as every deliverable transition.
    public func review(
        draft draftID: UUID, decision: ReviewDecision, message: String, reviewer: Reviewer, on connection: PostgresConnection
    ) async throws -> ReviewRecord {
        let draft: DraftRecord
        switch reviewer {
        case .user(let actor):
            (draft, _) = try await visibleDraft(draftID, actor: actor, on: connection)
        case .guest(let guest):
            try await reviewLinks.lockLive(id: guest.linkID, on: connection)
            (draft, _) = try await visibleDraft(draftID, guest: guest, on: connection)
        }
        // Decided under the deliverable's lock: a newer version may have arrived meanwhile.
        let (deliverable, campaign) = try await visibleDeliverable(draft.deliverableID, actor: reviewer.actor, lock: true, on: connection)
        let next = try DraftReviewMachine.review(
            decision, version: draft.version, currentVersion: deliverable.currentDraftVersion, status: deliverable.status,
            by: reviewer.actor.role, rules: Self.rules(deliverable, campaign))
        let move = DeliverableMove(deliverable: deliverable, campaign: campaign, next: next, actor: reviewer.actor, guest: reviewer.guest)
        let review = try await content.addReview(draftID: draftID, decision: decision, message: message, reviewer: reviewer, on: connection)
        _ = try await apply(move, data: ["draft_version": "\(draft.version)", "decision": decision.rawValue], on: connection)
        return review
    }

    /// The officer grants one more revision round; the state does not move.
    public func grantExtraRound(deliverable id: UUID, actor: Actor, on connection: PostgresConnection) async throws -> DeliverableRecord {
        let (deliverable, campaign) = try await visibleDeliverable(id, actor: actor, lock: true, on: connection)
        try DeliverableMachine.checkExtraRound(status: deliverable.status, campaignStatus: campaign.status, by: actor.role)
        var change = ContentStore.DeliverableChange()
        change.extraRound = true
        let updated = try await content.update(deliverableID: id, from: deliverable.status, to: deliverable.status, change, on: connection)
        try await events.record(
            by: actor, campaignID: campaign.id, kolID: deliverable.kolID, entity: .deliverable, entityID: id,
            from: deliverable.status.rawValue, to: deliverable.status.rawValue, data: ["extra_rounds": "\(deliverable.extraRounds + 1)"],
            on: connection)
        return updated
    }

    /// A transition that writes nothing but the deliverable's own fields and its event: the action,
    /// what it changes (from the move the machine allowed) and the event's data.
    public struct Step: Sendable {
        let action: DeliverableAction
        let change: @Sendable (DeliverableMove) -> ContentStore.DeliverableChange
        let data: [String: String]

        /// The KOL reports the live post on an approved deliverable.
        public static func submitPost(url: String, postedAt: Date) -> Step {
            Step(
                action: .submitPost,
                change: { _ in
                    var change = ContentStore.DeliverableChange()
                    change.post = (url, postedAt)
                    return change
                }, data: ["post_url": url])
        }

        /// The officer checks the post is live: insights fall due `insights_after_days` after it was posted.
        public static let verifyPost = Step(
            action: .verifyPost,
            change: { move in
                var change = ContentStore.DeliverableChange()
                change.insightsAfterDays = move.campaign.insightsAfterDays
                return change
            }, data: [:])

        /// The officer refuses the proof (wrong link, not the approved content): back to approved.
        public static func rejectPost(reason: String) -> Step {
            Step(
                action: .rejectPost,
                change: { _ in
                    var change = ContentStore.DeliverableChange()
                    change.clearPost = true
                    return change
                }, data: ["reason": reason])
        }
    }

    /// A step in the caller's transaction, the locked way: `decide`, then `apply`.
    public func perform(_ step: Step, deliverable id: UUID, actor: Actor, on connection: PostgresConnection) async throws
        -> DeliverableRecord
    {
        let move = try await decide(id, step.action, actor: actor, on: connection)
        return try await apply(move, step.change(move), data: step.data, on: connection)
    }

    /// A step in two round trips instead of six (docs/architecture.md, "Transitions in one statement"):
    /// the deliverable and its campaign read without locks, the machine's decision on them (the same
    /// 404, 403 and 409), then the change and its event in one statement guarded by both rows'
    /// revisions, which commits on its own when `connection` is not in a transaction. When either row
    /// changed in between, nothing was written and the step runs the locked way, in the caller's
    /// transaction (`inTransaction`) or in a new one.
    public func perform(
        _ step: Step, deliverable id: UUID, actor: Actor, on connection: PostgresConnection, inTransaction: Bool
    ) async throws -> DeliverableRecord {
        let (deliverable, campaign) = try await visibleDeliverable(id, actor: actor, on: connection)
        let next = try DeliverableMachine.transition(
            from: deliverable.status, step.action, by: actor.role, rules: Self.rules(deliverable, campaign))
        let move = DeliverableMove(deliverable: deliverable, campaign: campaign, next: next, actor: actor)
        if let moved = try await content.moveAtOnce(
            deliverable, of: campaign, to: next, step.change(move), by: actor, data: step.data, on: connection)
        {
            return moved
        }
        if inTransaction { return try await perform(step, deliverable: id, actor: actor, on: connection) }
        return try await Database.transaction(on: connection, logger: logger) {
            try await perform(step, deliverable: id, actor: actor, on: $0)
        }
    }

    /// The KOL reports the live post on an approved deliverable.
    public func submitPost(deliverable id: UUID, url: String, postedAt: Date, actor: Actor, on connection: PostgresConnection)
        async throws -> DeliverableRecord
    {
        try await perform(.submitPost(url: url, postedAt: postedAt), deliverable: id, actor: actor, on: connection)
    }

    /// The officer checks the post is live.
    public func verifyPost(deliverable id: UUID, actor: Actor, on connection: PostgresConnection) async throws -> DeliverableRecord {
        try await perform(.verifyPost, deliverable: id, actor: actor, on: connection)
    }

    /// The officer refuses the proof.
    public func rejectPost(deliverable id: UUID, reason: String, actor: Actor, on connection: PostgresConnection) async throws
        -> DeliverableRecord
    {
        try await perform(.rejectPost(reason: reason), deliverable: id, actor: actor, on: connection)
    }

    /// Cancelling the last open deliverable of a registration whose others are completed makes its payout due.
    public func cancelDeliverable(deliverable id: UUID, reason: String, actor: Actor, on connection: PostgresConnection) async throws
        -> DeliverableRecord
    {
        try await withRegistrationLocked(deliverable: id, actor: actor, on: connection) {
            try await move(id, .cancel, actor: actor, on: connection, data: ["reason": reason])
        }
    }
}
