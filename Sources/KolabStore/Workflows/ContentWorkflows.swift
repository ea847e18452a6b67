import Foundation
import KolabDomain
import Logging
import PostgresNIO

// MARK: - Content review: drafts, reviews, post proof, cancellation

extension Workflows {
    /// The one way a deliverable moves: visible (404), locked, decided by the machine (403/409), updated
    /// with a guard on the state it was read in, and its event written, on the caller's transaction.
    /// `prepare` runs after the decision and before the update (to write a draft or a review).
    func move(
        _ id: UUID, _ action: DeliverableAction, actor: Actor, on connection: PostgresConnection,
        change: ContentStore.DeliverableChange = ContentStore.DeliverableChange(), data: [String: String] = [:],
        prepare: (DeliverableRecord, CampaignRecord, inout ContentStore.DeliverableChange, inout [String: String]) async throws -> Void = {
            _, _, _, _ in
        }
    ) async throws -> DeliverableRecord {
        let (deliverable, campaign) = try await visibleDeliverable(id, actor: actor, lock: true, on: connection)
        let rules = DeliverableRules(
            brandReviewRequired: campaign.brandReviewRequired, revisionRoundsUsed: deliverable.revisionRoundsUsed,
            revisionRoundsAllowed: campaign.maxRevisionRounds + deliverable.extraRounds)
        let next = try DeliverableMachine.transition(from: deliverable.status, action, by: actor.role, rules: rules)
        guard campaign.status != .cancelled || action == .cancel else {
            throw KolabError.conflict("The campaign is cancelled; its deliverables no longer move.")
        }
        var change = change
        var data = data
        try await prepare(deliverable, campaign, &change, &data)
        let updated = try await content.update(deliverableID: id, from: deliverable.status, to: next, change, on: connection)
        try await events.record(
            by: actor, campaignID: campaign.id, kolID: deliverable.kolID, entity: .deliverable, entityID: id,
            from: deliverable.status.rawValue, to: next.rawValue, data: data, on: connection)
        return updated
    }

    /// The KOL submits draft v1, or a revision v(n+1) after changes were requested (it uses a round).
    public func submitDraft(
        deliverable id: UUID, caption: String, media: [Media], notes: String, actor: Actor, on connection: PostgresConnection
    ) async throws -> DraftRecord {
        var draft: DraftRecord?
        _ = try await move(id, .submitDraft, actor: actor, on: connection) { deliverable, _, change, data in
            let version = deliverable.currentDraftVersion + 1
            draft = try await content.createDraft(
                deliverableID: id, version: version, caption: caption, media: media, notes: notes, submittedBy: actor.userID,
                on: connection)
            change.draftVersion = version
            change.usedRound = DeliverableMachine.isRevision(from: deliverable.status)
            data["draft_version"] = "\(version)"
        }
        guard let draft else { throw KolabError(.internal, "draft not written") }
        return draft
    }

    /// A draft the actor may see (the deliverable's), with the deliverable.
    public func visibleDraft(_ id: UUID, actor: Actor, on connection: PostgresConnection) async throws -> (DraftRecord, DeliverableRecord) {
        guard let draft = try await content.draft(id: id, on: connection) else { throw KolabError.notFound("draft") }
        do {
            let (deliverable, _) = try await visibleDeliverable(draft.deliverableID, actor: actor, on: connection)
            return (draft, deliverable)
        } catch let error as KolabError where error.code == .notFound {
            throw KolabError.notFound("draft")
        }
    }

    /// A review of the latest draft: forward, request changes, approve, relay (by role, per the machine).
    public func review(
        draft draftID: UUID, decision: ReviewDecision, message: String, actor: Actor, on connection: PostgresConnection
    ) async throws -> ReviewRecord {
        let (draft, _) = try await visibleDraft(draftID, actor: actor, on: connection)
        var review: ReviewRecord?
        _ = try await move(draft.deliverableID, decision.action, actor: actor, on: connection) { deliverable, _, _, data in
            // Checked under the deliverable's lock: a newer version may have arrived meanwhile.
            guard draft.version == deliverable.currentDraftVersion else {
                throw KolabError.conflict(
                    "Draft v\(draft.version) is not the latest (v\(deliverable.currentDraftVersion)); review the latest version.")
            }
            review = try await content.addReview(draftID: draftID, decision: decision, message: message, reviewer: actor, on: connection)
            data["draft_version"] = "\(draft.version)"
            data["decision"] = decision.rawValue
        }
        guard let review else { throw KolabError(.internal, "review not written") }
        return review
    }

    /// The officer grants one more revision round; the state does not move.
    public func grantExtraRound(deliverable id: UUID, actor: Actor, on connection: PostgresConnection) async throws -> DeliverableRecord {
        let (deliverable, campaign) = try await visibleDeliverable(id, actor: actor, lock: true, on: connection)
        try DeliverableMachine.checkExtraRound(status: deliverable.status, by: actor.role)
        guard campaign.status != .cancelled && campaign.status != .completed else {
            throw KolabError.conflict("The campaign is \(campaign.status.rawValue); its deliverables take no more rounds.")
        }
        var change = ContentStore.DeliverableChange()
        change.extraRound = true
        let updated = try await content.update(deliverableID: id, from: deliverable.status, to: deliverable.status, change, on: connection)
        try await events.record(
            by: actor, campaignID: campaign.id, kolID: deliverable.kolID, entity: .deliverable, entityID: id,
            from: deliverable.status.rawValue, to: deliverable.status.rawValue, data: ["extra_rounds": "\(deliverable.extraRounds + 1)"],
            on: connection)
        return updated
    }

    /// The KOL reports the live post on an approved deliverable.
    public func submitPost(deliverable id: UUID, url: String, postedAt: Date, actor: Actor, on connection: PostgresConnection)
        async throws -> DeliverableRecord
    {
        var change = ContentStore.DeliverableChange()
        change.post = (url, postedAt)
        return try await move(id, .submitPost, actor: actor, on: connection, change: change, data: ["post_url": url])
    }

    /// The officer checks the post is live: insights fall due `insights_after_days` after it was posted.
    public func verifyPost(deliverable id: UUID, actor: Actor, on connection: PostgresConnection) async throws -> DeliverableRecord {
        try await move(id, .verifyPost, actor: actor, on: connection) { _, campaign, change, _ in
            change.insightsAfterDays = campaign.insightsAfterDays
        }
    }

    /// The officer refuses the proof (wrong link, not the approved content): back to approved.
    public func rejectPost(deliverable id: UUID, reason: String, actor: Actor, on connection: PostgresConnection) async throws
        -> DeliverableRecord
    {
        var change = ContentStore.DeliverableChange()
        change.clearPost = true
        return try await move(id, .rejectPost, actor: actor, on: connection, change: change, data: ["reason": reason])
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
