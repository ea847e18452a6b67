import Foundation
import KolabDomain
import Logging
import PostgresNIO

// MARK: - Guest review links

extension Workflows {
    public var reviewLinks: ReviewLinkStore { ReviewLinkStore(logger: events.logger) }

    /// The campaign of a link operation, as the actor may see it (404), and theirs to manage (403).
    public func manageableCampaign(_ id: UUID, actor: Actor, on connection: PostgresConnection) async throws -> CampaignRecord {
        let campaign = try await visibleCampaign(id, actor: actor, on: connection)
        guard ReviewLinkRules.mayManage(actor.role) else {
            throw KolabError.forbidden("Only the campaign's officer or an admin may manage its review links.")
        }
        return campaign
    }

    /// Makes a link for a reviewer without an account; answers it with its token, which is stored
    /// nowhere (only its hash): the caller shows it once.
    public func createReviewLink(
        campaign id: UUID, reviewerName: String, reviewerEmail: EmailAddress, expiresAt: Date, now: Date, actor: Actor,
        on connection: PostgresConnection
    ) async throws -> (link: ReviewLinkRecord, token: String) {
        let campaign = try await manageableCampaign(id, actor: actor, on: connection)
        guard campaign.status != .cancelled else {
            throw KolabError.conflict("The campaign is cancelled; nothing of it waits for review.")
        }
        let token = ReviewLinkStore.newToken()
        let link = try await reviewLinks.create(
            token: token, campaignID: id, reviewerName: reviewerName, reviewerEmail: reviewerEmail.value, expiresAt: expiresAt, now: now,
            createdBy: actor.userID, on: connection)
        return (link, token)
    }

    /// A campaign's links, newest first, for those who manage them.
    public func reviewLinks(
        campaign id: UUID, actor: Actor, after position: PagePosition?, limit: Int, on connection: PostgresConnection
    ) async throws -> Page<ReviewLinkRecord> {
        _ = try await manageableCampaign(id, actor: actor, on: connection)
        return try await reviewLinks.list(campaignID: id, after: position, limit: limit, on: connection)
    }

    /// Revokes a link: its pages answer 410 from now on. A link of a campaign the actor does not
    /// see answers 404, as one that does not exist.
    public func revokeReviewLink(_ id: UUID, actor: Actor, on connection: PostgresConnection) async throws {
        guard let link = try await reviewLinks.link(id: id, lock: true, on: connection) else { throw KolabError.notFound("review link") }
        do {
            _ = try await manageableCampaign(link.campaignID, actor: actor, on: connection)
        } catch let error as KolabError where error.code == .notFound {
            throw KolabError.notFound("review link")
        }
        try await reviewLinks.revoke(id: id, on: connection)
    }
}
