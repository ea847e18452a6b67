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
        routes.on(.post, "/v1/campaigns/{id}/brief-versions/{version}/publish", publish)
        routes.on(.get, "/v1/campaigns/{id}/brief", published)
    }

    @Sendable func create(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "campaign")
        let body = try await request.decodeBody(CreateBrief.self, context: context)
        let brief = try await services.write(context) { connection in
            // The campaign's row lock numbers versions one at a time.
            let campaign = try await CampaignController.visibleCampaign(id, actor: actor, lock: true, services: services, on: connection)
            try CampaignAccess.mayWriteBrief(actor)
            guard campaign.status != .completed && campaign.status != .cancelled else {
                throw KolabError.conflict("A \(campaign.status.rawValue) campaign takes no new brief.")
            }
            var v = Validator()
            let content = BriefRules.validate(
                keyMessages: body.keyMessages ?? [], dos: body.dos ?? [], donts: body.donts ?? [], hashtags: body.hashtags ?? [],
                mentions: body.mentions ?? [], references: body.references ?? [], deliverables: body.deliverables,
                platforms: campaign.platforms, into: &v)
            try v.validate()
            let brief = try await services.briefs.create(campaignID: id, content, createdBy: actor.userID, on: connection)
            try await services.events.record(
                by: actor, campaignID: id, entity: .briefVersion, entityID: brief.id, from: nil, to: brief.status.rawValue,
                data: ["version": "\(brief.version)"], on: connection)
            return brief
        }
        return try Response.created(
            BriefResponse(brief), location: "/v1/campaigns/\(id)/brief-versions/\(brief.version)", etag: BriefResponse.etag(brief))
    }

    /// Every version, drafts included: for the campaign's staff, brand and finance (KOLs read the published brief).
    @Sendable func list(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "campaign")
        let briefs = try await services.read(context) { connection in
            _ = try await CampaignController.visibleCampaign(id, actor: actor, services: services, on: connection)
            guard actor.role != .kol else {
                throw KolabError.forbidden("KOLs read the published brief at GET /v1/campaigns/{id}/brief.")
            }
            return try await services.briefs.versions(campaignID: id, on: connection)
        }
        return try Response.json(ListResponse(data: briefs.map(BriefResponse.init), nextCursor: nil))
    }

    @Sendable func publish(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "campaign")
        guard let number = context.parameters.get("version").flatMap(Int.init) else { throw KolabError.notFound("brief version") }
        let brief = try await services.write(context) { connection in
            let campaign = try await CampaignController.visibleCampaign(id, actor: actor, lock: true, services: services, on: connection)
            guard let brief = try await services.briefs.version(campaignID: id, version: number, lock: true, on: connection) else {
                throw KolabError.notFound("brief version")
            }
            try CampaignAccess.mayWriteBrief(actor)
            guard campaign.status != .completed && campaign.status != .cancelled else {
                throw KolabError.conflict("A \(campaign.status.rawValue) campaign's brief cannot change.")
            }
            guard brief.status == .draft else {
                throw KolabError.conflict("Brief version \(number) is \(brief.status.rawValue); only a draft can be published.")
            }
            if let current = campaign.publishedBriefVersion, current > number {
                throw KolabError.conflict("Version \(current) is published and newer; write a new version instead.")
            }
            let superseded = try await services.briefs.publish(campaignID: id, version: number, on: connection)
            if let superseded, let old = try await services.briefs.version(campaignID: id, version: superseded, on: connection) {
                try await services.events.record(
                    by: actor, campaignID: id, entity: .briefVersion, entityID: old.id, from: BriefStatus.published.rawValue,
                    to: BriefStatus.superseded.rawValue, data: ["version": "\(superseded)"], on: connection)
            }
            try await services.events.record(
                by: actor, campaignID: id, entity: .briefVersion, entityID: brief.id, from: BriefStatus.draft.rawValue,
                to: BriefStatus.published.rawValue, data: ["version": "\(number)"], on: connection)
            guard let published = try await services.briefs.version(campaignID: id, version: number, on: connection) else {
                throw KolabError.notFound("brief version")
            }
            return published
        }
        return try Response.json(BriefResponse(brief), etag: BriefResponse.etag(brief))
    }

    /// The published brief, for everyone who sees the campaign (KOLs read it before and after acceptance).
    @Sendable func published(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "campaign")
        let brief = try await services.read(context) { connection in
            _ = try await CampaignController.visibleCampaign(id, actor: actor, services: services, on: connection)
            guard let brief = try await services.briefs.published(campaignID: id, on: connection) else {
                throw KolabError(.notFound, "This campaign has no published brief yet.")
            }
            return brief
        }
        return try Response.json(BriefResponse(brief), etag: BriefResponse.etag(brief))
    }
}
