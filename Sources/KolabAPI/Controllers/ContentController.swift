import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import NIOCore
import PostgresNIO

/// Content review: drafts and their reviews, extra rounds, post proof, cancellation.
struct ContentController {
    let services: Services

    struct SubmitDraft: Decodable {
        var caption: String?
        var media: [Media]?
        var notes: String?
    }

    struct SubmitReview: Decodable {
        var decision: ReviewDecision
        var message: String?
    }

    struct SubmitPost: Decodable {
        var url: String
        var postedAt: Date
    }

    struct Reason: Decodable {
        var reason: String
    }

    func register(_ routes: RouteTable) {
        routes.on(.post, "/v1/deliverables/{id}/drafts", submitDraft)
        routes.on(.get, "/v1/deliverables/{id}/drafts", listDrafts)
        routes.on(.get, "/v1/drafts/{id}", showDraft)
        routes.on(.post, "/v1/drafts/{id}/reviews", review)
        routes.on(.post, "/v1/deliverables/{id}/extra-round", extraRound)
        routes.on(.post, "/v1/deliverables/{id}/post", submitPost)
        routes.on(.post, "/v1/deliverables/{id}/post/verify", verifyPost)
        routes.on(.post, "/v1/deliverables/{id}/post/reject", rejectPost)
        routes.on(.post, "/v1/deliverables/{id}/cancel", cancel)
    }

    @Sendable func submitDraft(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "deliverable")
        let (caption, media, notes) = try await services.input(context, access: access(id, .submitDraft, actor)) {
            let body = try await request.decodeBody(SubmitDraft.self, context: context)
            var v = Validator()
            let valid = DraftRules.validate(caption: body.caption ?? "", media: body.media ?? [], notes: body.notes ?? "", into: &v)
            try v.validate()
            return valid
        }
        let draft = try await services.write(context) {
            try await services.workflows.submitDraft(deliverable: id, caption: caption, media: media, notes: notes, actor: actor, on: $0)
        }
        return Response.created(DraftResponse(draft, for: actor), location: "/v1/drafts/\(draft.id)")
    }

    /// Every version of the deliverable's draft, oldest first, each with its reviews, paged by version.
    @Sendable func listDrafts(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "deliverable")
        let list = try await services.listRequest(request, context, scope: "drafts:\(id)")
        let drafts = try await services.read(context) { connection in
            _ = try await services.workflows.visibleDeliverable(id, actor: actor, on: connection)
            return try await services.workflows.content.drafts(deliverableID: id, on: connection)
        }
        let page = services.page(drafts, list) { draft, _ in Int64(draft.version) }
        return Response.json(try await services.listResponse(page, list) { DraftResponse($0, for: actor) })
    }

    @Sendable func showDraft(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "draft")
        let (draft, _) = try await services.read(context) { try await services.workflows.visibleDraft(id, actor: actor, on: $0) }
        return Response.json(DraftResponse(draft, for: actor))
    }

    @Sendable func review(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "draft")
        let (body, message) = try await services.input(
            context,
            access: { connection in
                _ = try await services.workflows.visibleDraft(id, actor: actor, on: connection)
                try DeliverableMachine.checkActor(actor.role, .requestChanges)
            }
        ) {
            let body = try await request.decodeBody(SubmitReview.self, context: context)
            var v = Validator()
            let message = DraftRules.validateMessage(body.message ?? "", decision: body.decision, into: &v)
            try v.validate()
            return (body, message)
        }
        let review = try await services.write(context) {
            try await services.workflows.review(draft: id, decision: body.decision, message: message, actor: actor, on: $0)
        }
        return try Response.created(ReviewResponse(review), location: "/v1/drafts/\(id)")
    }

    @Sendable func extraRound(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "deliverable")
        let deliverable = try await services.write(context) {
            try await services.workflows.grantExtraRound(deliverable: id, actor: actor, on: $0)
        }
        return Response.json(DeliverableResponse(deliverable))
    }

    @Sendable func submitPost(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "deliverable")
        let (body, url) = try await services.input(context, access: access(id, .submitPost, actor)) {
            let body = try await request.decodeBody(SubmitPost.self, context: context)
            var v = Validator()
            let url = body.url.trimmingCharacters(in: .whitespaces)
            DraftRules.validatePost(url: url, postedAt: body.postedAt, now: Date(), into: &v)
            try v.validate()
            return (body, url)
        }
        let deliverable = try await services.perform(.submitPost(url: url, postedAt: body.postedAt), deliverable: id, actor: actor, context)
        return Response.json(DeliverableResponse(deliverable))
    }

    @Sendable func verifyPost(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "deliverable")
        let deliverable = try await services.perform(.verifyPost, deliverable: id, actor: actor, context)
        return Response.json(DeliverableResponse(deliverable))
    }

    @Sendable func rejectPost(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "deliverable")
        let reason = try await services.input(context, access: access(id, .rejectPost, actor)) {
            try await Self.reason(request, context: context)
        }
        let deliverable = try await services.perform(.rejectPost(reason: reason), deliverable: id, actor: actor, context)
        return Response.json(DeliverableResponse(deliverable))
    }

    @Sendable func cancel(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "deliverable")
        let reason = try await services.input(context, access: access(id, .cancel, actor)) {
            try await Self.reason(request, context: context)
        }
        let deliverable = try await services.write(context) {
            try await services.workflows.cancelDeliverable(deliverable: id, reason: reason, actor: actor, on: $0)
        }
        return Response.json(DeliverableResponse(deliverable))
    }

    /// The access check of a deliverable action (see `Services.input`): visible, and the role's to take.
    func access(_ id: UUID, _ action: DeliverableAction, _ actor: Actor) -> (PostgresConnection) async throws -> Void {
        { connection in
            _ = try await services.workflows.visibleDeliverable(id, actor: actor, on: connection)
            try DeliverableMachine.checkActor(actor.role, action)
        }
    }

    /// A required reason of at most 2000 characters.
    static func reason(_ request: Request, context: KolabRequestContext) async throws -> String {
        let body = try await request.decodeBody(Reason.self, context: context)
        var v = Validator()
        let reason = v.text(body.reason, "reason", max: 2000)
        try v.validate()
        return reason
    }
}
