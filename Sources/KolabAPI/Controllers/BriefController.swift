import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import NIOCore
import PostgresNIO

/// Brief versions: written whole, published once, superseded by the next.
struct BriefController {
    let services: Services

    struct CreateBrief: Decodable {
        var keyMessages: [String]?
        var dos: [String]?
        var donts: [String]?
        var hashtags: [String]?
        var mentions: [String]?
        var references: [String]?
        var deliverables: [BriefDeliverable]
    }

    func register(_ routes: RouteTable) {
        routes.on(.post, "/v1/campaigns/{id}/brief-versions", create)
        routes.on(.get, "/v1/campaigns/{id}/brief-versions", list)
        routes.on(.get, "/v1/campaigns/{id}/brief-versions/{version}", version)
        routes.on(.post, "/v1/campaigns/{id}/brief-versions/{version}/publish", publish)
        routes.on(.get, "/v1/campaigns/{id}/brief", published)
    }

    @Sendable func create(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "campaign")
        let body = try await services.input(
            context,
            access: { connection in
                _ = try await services.workflows.visibleCampaign(id, actor: actor, on: connection)
                try BriefMachine.checkAct(actor.role)
            }
        ) { try await request.decodeBody(CreateBrief.self, context: context) }
        let draft = BriefContent(
            keyMessages: body.keyMessages ?? [], dos: body.dos ?? [], donts: body.donts ?? [], hashtags: body.hashtags ?? [],
            mentions: body.mentions ?? [], references: body.references ?? [], deliverables: body.deliverables)
        let brief = try await services.write(context) {
            try await services.workflows.createBrief(draft, campaign: id, actor: actor, on: $0)
        }
        return try Response.created(
            BriefResponse(brief), location: "/v1/campaigns/\(id)/brief-versions/\(brief.version)", etag: BriefResponse.etag(brief))
    }

    /// Every version, drafts included: for the campaign's staff, brand and finance (KOLs read the published brief).
    @Sendable func list(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "campaign")
        let list = try await services.listRequest(request, context, scope: "brief-versions:\(id)")
        let briefs = try await services.read(context) { connection in
            _ = try await services.workflows.visibleCampaign(id, actor: actor, on: connection)
            try BriefMachine.checkReadVersions(actor.role)
            return try await services.briefs.versions(campaignID: id, on: connection)
        }
        let page = services.page(briefs, list) { brief, _ in Int64(brief.version) }
        return try Response.json(try await services.listResponse(page, list, BriefResponse.init))
    }

    /// One version, drafts included, for those who read the list (the `Location` of a new version).
    @Sendable func version(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "campaign")
        let number = context.parameters.get("version").flatMap(Int.init)
        let brief = try await services.read(context) { connection in
            _ = try await services.workflows.visibleCampaign(id, actor: actor, on: connection)
            guard let number,
                let brief = try await services.briefs.versions(campaignID: id, on: connection).first(where: { $0.version == number })
            else { throw KolabError.notFound("brief version") }
            try BriefMachine.checkReadVersions(actor.role)
            return brief
        }
        return try Response.json(BriefResponse(brief), etag: BriefResponse.etag(brief))
    }

    @Sendable func publish(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "campaign")
        guard let number = context.parameters.get("version").flatMap(Int.init) else { throw KolabError.notFound("brief version") }
        let brief = try await services.write(context) {
            try await services.workflows.publishBrief(campaign: id, version: number, actor: actor, on: $0)
        }
        return try Response.json(BriefResponse(brief), etag: BriefResponse.etag(brief))
    }

    /// The published brief, for everyone who sees the campaign (KOLs read it before and after acceptance).
    @Sendable func published(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "campaign")
        let brief = try await services.read(context) { connection in
            _ = try await services.workflows.visibleCampaign(id, actor: actor, on: connection)
            guard let brief = try await services.briefs.published(campaignID: id, on: connection) else {
                throw KolabError(.notFound, "This campaign has no published brief yet.")
            }
            return brief
        }
        return try Response.json(BriefResponse(brief), etag: BriefResponse.etag(brief))
    }
}
