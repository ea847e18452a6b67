import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import NIOCore
import PostgresNIO

/// A timeline page: a list page, and where to poll from for events committed later.
struct TimelineResponse: Encodable {
    var data: [EventResponse]
    var nextCursor: String?
    var resumeCursor: String

    enum CodingKeys: String, CodingKey { case data, nextCursor, resumeCursor }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(data, forKey: .data)
        try container.encode(nextCursor, forKey: .nextCursor)  // explicit null on the last page
        try container.encode(resumeCursor, forKey: .resumeCursor)
    }
}

/// Campaigns: creation, visibility, guarded edits, and the lifecycle actions.
struct CampaignController {
    let services: Services

    struct TermsBody: Decodable {
        var feeIdr: Int64
        var bonus: Bonus?
        var withholdingBp: Int?

        var terms: Terms { Terms(feeIdr: feeIdr, bonus: bonus, withholdingBp: withholdingBp ?? Terms.defaultWithholdingBp) }
    }

    /// What a client may set when creating a campaign. `status` and `accepted_count` are not here.
    struct CreateCampaign: Decodable {
        var brandId: UUID?
        var officerId: UUID?
        var title: String
        var description: String?
        var platforms: [Platform]
        var kolSlots: Int
        var eligibility: Eligibility?
        var registrationClosesAt: Date?
        var brandReviewRequired: Bool?
        var maxRevisionRounds: Int?
        var insightsAfterDays: Int?
        var terms: TermsBody
    }

    /// Every field optional: sent fields change, absent ones stay. `terms` replaces the terms whole.
    struct UpdateCampaign: Decodable {
        var officerId: UUID?
        var title: String?
        var description: String?
        var platforms: [Platform]?
        var kolSlots: Int?
        var eligibility: Eligibility?
        var registrationClosesAt: Date?
        var brandReviewRequired: Bool?
        var maxRevisionRounds: Int?
        var insightsAfterDays: Int?
        var terms: TermsBody?
    }

    func register(_ routes: RouteTable) {
        routes.on(.post, "/v1/campaigns", create)
        routes.on(.get, "/v1/campaigns", list)
        routes.on(.get, "/v1/campaigns/{id}", show)
        routes.on(.patch, "/v1/campaigns/{id}", update)
        for action in CampaignAction.allCases {
            routes.on(.post, "/v1/campaigns/{id}/\(action.rawValue)") { request, context in
                try await perform(action, request: request, context: context)
            }
        }
        routes.on(.get, "/v1/campaigns/{id}/events", timeline)
    }

    @Sendable func create(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireRole(.admin, .officer, .brand, action: "create campaigns")
        let body = try await request.decodeBody(CreateCampaign.self, context: context)
        var v = Validator()
        let title = v.text(body.title, "title")
        let description = (body.description ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        v.check(description.count <= 10_000, "description", "must be at most 10000 characters")
        CampaignRules.checkPlatforms(body.platforms, into: &v)
        CampaignRules.checkSlots(body.kolSlots, into: &v)
        let eligibility = CampaignRules.normalizeEligibility(body.eligibility ?? Eligibility(), into: &v)
        let rounds = body.maxRevisionRounds ?? 2
        CampaignRules.checkRevisionRounds(rounds, into: &v)
        let insightsDays = body.insightsAfterDays ?? 7
        CampaignRules.checkInsightsAfterDays(insightsDays, into: &v)
        let terms = body.terms.terms
        CampaignRules.checkTerms(terms, into: &v)
        let (brandID, officerID) = CampaignRules.owners(brandID: body.brandId, officerID: body.officerId, by: actor, into: &v)
        try v.validate()
        guard let brandID else { throw KolabError.invalid(v.errors) }
        let new = NewCampaign(
            brandID: brandID, officerID: officerID, title: title, description: description, platforms: body.platforms,
            kolSlots: body.kolSlots, eligibility: eligibility, registrationClosesAt: body.registrationClosesAt,
            brandReviewRequired: body.brandReviewRequired ?? true, maxRevisionRounds: rounds, insightsAfterDays: insightsDays,
            terms: terms)
        let campaign = try await services.write(context) { try await services.workflows.createCampaign(new, actor: actor, on: $0) }
        return Response.created(
            CampaignResponse(campaign), location: "/v1/campaigns/\(campaign.id)", etag: ETag.value(version: campaign.version))
    }

    /// Campaigns the caller sees, filtered by `status` and `brand_id`.
    @Sendable func list(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        var filter = CampaignFilter()
        if let raw = request.uri.queryParameters.get("status") {
            guard let status = CampaignStatus(rawValue: raw) else {
                throw KolabError.invalid(
                    field: "status", "must be one of \(CampaignStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.status = status
        }
        filter.brandID = try request.queryUUID("brand_id")
        let list = try await services.listRequest(request, context, scope: "campaigns")
        // Only a read outside a transaction may use the cache (CampaignJSONCache); a GET never has one.
        let cache = context.transaction == nil ? services.campaignJSON : nil
        let page = try await services.read(context) {
            try await services.campaigns.list(
                visibleTo: actor, filter, after: list.after, limit: list.limit, known: { cache?.json(of: $0) }, on: $0)
        }
        return Response.json(
            try await services.listResponse(page, list) { item in
                switch item {
                case .known(let bytes, _): WrittenJSON(bytes: bytes)
                case .record(let campaign): WrittenJSON(bytes: cache?.write(campaign) ?? CampaignJSONCache.json(of: campaign))
                }
            })
    }

    @Sendable func show(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "campaign")
        let campaign = try await services.read(context) {
            try await services.workflows.visibleCampaign(id, actor: actor, on: $0)
        }
        return Response.json(CampaignResponse(campaign), etag: ETag.value(version: campaign.version))
    }

    @Sendable func update(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "campaign")
        let changes = try await services.input(
            context,
            access: { connection in
                let campaign = try await services.workflows.visibleCampaign(id, actor: actor, on: connection)
                try CampaignAccess.mayEdit(actor, status: campaign.status)
            }
        ) {
            let body = try await request.decodeBody(UpdateCampaign.self, context: context)
            var v = Validator()
            var changes = CampaignStore.Changes()
            changes.title = body.title.map { v.text($0, "title") }
            if let description = body.description {
                v.check(description.count <= 10_000, "description", "must be at most 10000 characters")
                changes.description = description.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            if let platforms = body.platforms {
                CampaignRules.checkPlatforms(platforms, into: &v)
                changes.platforms = platforms
            }
            if let slots = body.kolSlots {
                CampaignRules.checkSlots(slots, into: &v)
                changes.kolSlots = slots
            }
            changes.eligibility = body.eligibility.map { CampaignRules.normalizeEligibility($0, into: &v) }
            changes.registrationClosesAt = body.registrationClosesAt
            changes.brandReviewRequired = body.brandReviewRequired
            if let rounds = body.maxRevisionRounds {
                CampaignRules.checkRevisionRounds(rounds, into: &v)
                changes.maxRevisionRounds = rounds
            }
            if let days = body.insightsAfterDays {
                CampaignRules.checkInsightsAfterDays(days, into: &v)
                changes.insightsAfterDays = days
            }
            if let terms = body.terms?.terms {
                CampaignRules.checkTerms(terms, into: &v)
                changes.terms = terms
            }
            changes.officerID = body.officerId
            CampaignRules.checkOfficerChange(body.officerId, by: actor.role, into: &v)
            try v.validate()
            return changes
        }

        let updated = try await services.write(context) { connection in
            let campaign = try await services.workflows.visibleCampaign(id, actor: actor, lock: true, on: connection)
            try CampaignAccess.mayEdit(actor, status: campaign.status)
            try CampaignMachine.checkEditable(status: campaign.status, changesTermsOrRules: changes.changesTermsOrRules)
            try ETag.requireMatch(request, current: campaign.version)
            try CampaignRules.checkSlotsAgainstAccepted(changes.kolSlots, accepted: campaign.acceptedCount)
            if let officerID = changes.officerID, try await !services.campaigns.isOfficer(officerID, on: connection) {
                throw KolabError.invalid(field: "officer_id", "must name a user with the officer role")
            }
            guard try await services.campaigns.update(id: id, version: campaign.version, changes, on: connection),
                let updated = try await services.campaigns.campaign(id: id, on: connection)
            else { throw KolabError(.preconditionFailed, "The campaign changed while you were editing it; read it again.") }
            return updated
        }
        return Response.json(CampaignResponse(updated), etag: ETag.value(version: updated.version))
    }

    /// publish, close-registration, complete, cancel.
    func perform(_ action: CampaignAction, request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "campaign")
        let campaign = try await services.write(context) {
            try await services.workflows.perform(action, campaign: id, actor: actor, on: $0)
        }
        return Response.json(CampaignResponse(campaign), etag: ETag.value(version: campaign.version))
    }

    /// The campaign's timeline, oldest first, for whoever sees the campaign.
    @Sendable func timeline(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "campaign")
        let list = try await services.listRequest(request, context, scope: "events:\(id)")
        let audience = TimelineAudience(actor)
        let (page, resume) = try await services.read(context) { connection in
            _ = try await services.workflows.visibleCampaign(id, actor: actor, on: connection)
            return try await services.events.timeline(
                campaignID: id, audience: audience, after: list.after, limit: list.limit, on: connection)
        }
        let body = try await services.listResponse(page, list, EventResponse.init)
        let resumeCursor = try await services.cursors.encode(resume, scope: list.scope, on: list.connection)
        return try Response.json(TimelineResponse(data: body.data, nextCursor: body.nextCursor, resumeCursor: resumeCursor))
    }
}
