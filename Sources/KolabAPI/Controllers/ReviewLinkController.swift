import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import NIOCore
import PostgresNIO

/// Guest review links (DESIGN.md, "Web console", "Guest review links"): an officer gives a reviewer
/// without an account a link to the campaign's drafts waiting for brand review. The link's pages are
/// `GuestReviewController`'s; the rules are `ReviewLinkRules`.
struct ReviewLinkController {
    let services: Services

    struct CreateLink: Decodable {
        var reviewerName: String
        var reviewerEmail: String
        var expiresAt: Date
    }

    func register(_ routes: RouteTable) {
        routes.on(.post, "/v1/campaigns/{id}/review-links", create)
        routes.on(.get, "/v1/campaigns/{id}/review-links", list)
        routes.on(.delete, "/v1/review-links/{id}", revoke)
    }

    @Sendable func create(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "campaign")
        let now = Date()
        let (body, name, email) = try await services.input(
            context, access: { _ = try await services.workflows.manageableCampaign(id, actor: actor, on: $0) }
        ) {
            let body = try await request.decodeBody(CreateLink.self, context: context)
            let (name, email) = try ReviewLinkRules.validate(
                reviewerName: body.reviewerName, reviewerEmail: body.reviewerEmail, expiresAt: body.expiresAt, now: now)
            return (body, name, email)
        }
        let (link, token) = try await services.write(context) {
            try await services.workflows.createReviewLink(
                campaign: id, reviewerName: name, reviewerEmail: email, expiresAt: body.expiresAt, now: now, actor: actor, on: $0)
        }
        return Response.created(ReviewLinkResponse(link, url: "/review/\(token)"), location: "/v1/review-links/\(link.id)")
    }

    /// Newest first; never the token or its URL.
    @Sendable func list(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "campaign")
        let list = try await services.listRequest(request, context, scope: "review-links:\(id)")
        let page = try await services.read(context) {
            try await services.workflows.reviewLinks(campaign: id, actor: actor, after: list.after, limit: list.limit, on: $0)
        }
        return Response.json(try await services.listResponse(page, list) { ReviewLinkResponse($0) })
    }

    /// Its pages answer 410 from now on; revoking a revoked link changes nothing and answers 204 too.
    @Sendable func revoke(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "review link")
        try await services.write(context) { try await services.workflows.revokeReviewLink(id, actor: actor, on: $0) }
        return Response(status: .noContent)
    }
}

/// A review link. `url` (`/review/{token}`, on the service's own origin) only in the answer that
/// made it: the token is stored nowhere, only its SHA-256.
struct ReviewLinkResponse: JSONWritable, Sendable {
    var link: ReviewLinkRecord
    var url: String?

    init(_ link: ReviewLinkRecord, url: String? = nil) {
        self.link = link
        self.url = url
    }

    func writeJSON(to writer: JSONStreamWriter) {
        writer.writeObject { object in
            object.field("id", link.id)
            object.field("campaign_id", link.campaignID)
            object.field("reviewer_name", link.reviewerName)
            object.field("reviewer_email", link.reviewerEmail)
            object.field("expires_at", link.expiresAt)
            object.field("revoked_at", link.revokedAt)
            object.field("created_by", link.createdBy)
            object.field("created_at", link.createdAt)
            if let url { object.field("url", url) }
        }
    }
}
