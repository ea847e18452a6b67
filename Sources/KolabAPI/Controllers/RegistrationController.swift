import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import NIOCore
import PostgresNIO

/// KOL registrations: sign-up for a campaign, the officer's decisions, withdrawal, brief acknowledgement,
/// and the deliverables an acceptance creates.
struct RegistrationController {
    let services: Services

    struct Register: Decodable {
        var pitch: String?
    }

    struct Acknowledge: Decodable {
        var version: Int
    }

    func register(_ routes: RouteTable) {
        routes.on(.post, "/v1/campaigns/{id}/registrations", create)
        routes.on(.get, "/v1/campaigns/{id}/registrations", list)
        routes.on(.get, "/v1/registrations/{id}", show)
        for action in RegistrationAction.allCases {
            routes.on(.post, "/v1/registrations/{id}/\(action.rawValue)") { request, context in
                try await perform(action, request: request, context: context)
            }
        }
        routes.on(.post, "/v1/registrations/{id}/brief-acknowledgement", acknowledge)
        routes.on(.get, "/v1/registrations/{id}/deliverables", deliverables)
        routes.on(.get, "/v1/deliverables/{id}", deliverable)
    }

    /// A registration the caller may see: inside a campaign they see, and a KOL's own only.
    static func visibleRegistration(
        _ id: UUID, actor: Actor, lock: Bool = false, services: Services, on connection: PostgresConnection
    ) async throws -> (RegistrationRecord, CampaignRecord) {
        guard let registration = try await services.registrations.registration(id: id, lock: lock, on: connection),
            actor.role != .kol || registration.kolID == actor.userID,
            let campaign = try? await CampaignController.visibleCampaign(
                registration.campaignID, actor: actor, services: services, on: connection)
        else { throw KolabError.notFound("registration") }
        return (registration, campaign)
    }

    @Sendable func create(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "campaign")
        let body = try await request.decodeBody(Register.self, context: context)
        let pitch = (body.pitch ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard pitch.count <= 2000 else { throw KolabError.invalid(field: "pitch", "must be at most 2000 characters") }
        let registration = try await services.write(context) { connection in
            let campaign = try await CampaignController.visibleCampaign(id, actor: actor, services: services, on: connection)
            guard actor.role == .kol else { throw KolabError.forbidden("Only KOLs register for campaigns.") }
            try CampaignMachine.checkOpenForRegistration(status: campaign.status, closesAt: campaign.registrationClosesAt, now: Date())
            guard let kol = try await services.kols.kol(id: actor.userID, on: connection) else {
                throw KolabError.forbidden("Your account has no KOL profile.")
            }
            let failures = campaign.eligibility.failures(
                platforms: campaign.platforms, accounts: kol.socialAccounts, niches: kol.niches, region: kol.region)
            guard failures.isEmpty else {
                throw KolabError(.invalid, "You are not eligible for this campaign; see `errors` for the rules you do not meet.", fieldErrors: failures)
            }
            let registration = try await services.registrations.create(campaignID: id, kolID: actor.userID, pitch: pitch, on: connection)
            try await services.events.record(
                by: actor, campaignID: id, kolID: actor.userID, entity: .registration, entityID: registration.id, from: nil,
                to: registration.status.rawValue, on: connection)
            return registration
        }
        return try Response.created(RegistrationResponse(registration), location: "/v1/registrations/\(registration.id)")
    }

    @Sendable func list(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "campaign")
        var status: RegistrationStatus?
        if let raw = request.uri.queryParameters.get("status") {
            guard let parsed = RegistrationStatus(rawValue: raw) else {
                throw KolabError.invalid(
                    field: "status", "must be one of \(RegistrationStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = parsed
        }
        let list = try await services.listRequest(request, scope: "registrations:\(id)")
        let page = try await services.read(context) { connection in
            _ = try await CampaignController.visibleCampaign(id, actor: actor, services: services, on: connection)
            return try await services.registrations.list(
                campaignID: id, kolID: actor.role == .kol ? actor.userID : nil, status: status, after: list.after, limit: list.limit,
                on: connection)
        }
        return try Response.json(try await services.listResponse(page, list, RegistrationResponse.init))
    }

    @Sendable func show(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "registration")
        let (registration, _) = try await services.read(context) {
            try await Self.visibleRegistration(id, actor: actor, services: services, on: $0)
        }
        return try Response.json(RegistrationResponse(registration))
    }

    /// shortlist, accept, reject, withdraw: the registration's row lock, the machine's decision, then the
    /// side effects of the move (slots, deliverables) and its events, in one transaction.
    func perform(_ action: RegistrationAction, request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "registration")
        let registration = try await services.write(context) { connection in
            let (registration, campaign) = try await Self.visibleRegistration(id, actor: actor, lock: true, services: services, on: connection)
            let next = try RegistrationMachine.transition(
                from: registration.status, action, by: actor.role, isOwner: registration.kolID == actor.userID)
            switch action {
            case .shortlist, .reject:
                guard campaign.status == .recruiting || campaign.status == .running else {
                    throw KolabError.conflict("The campaign is \(campaign.status.rawValue); its registrations are closed.")
                }
            case .accept:
                guard campaign.status == .recruiting || campaign.status == .running else {
                    throw KolabError.conflict("The campaign is \(campaign.status.rawValue); KOLs can be accepted only while it recruits or runs.")
                }
                guard try await services.campaigns.takeSlot(id: campaign.id, on: connection) else {
                    throw KolabError.conflict("All \(campaign.kolSlots) KOL slots of this campaign are taken.")
                }
            case .withdraw:
                if try await services.registrations.hasSignedOffContent(id: id, on: connection) {
                    throw KolabError.conflict("Content of this registration has been approved; it can no longer be withdrawn.")
                }
                if registration.status == .accepted {
                    try await services.campaigns.releaseSlot(id: campaign.id, on: connection)
                    for (deliverableID, from) in try await services.registrations.cancelOpenDeliverables(registrationID: id, on: connection) {
                        try await services.events.record(
                            by: actor, campaignID: campaign.id, kolID: registration.kolID, entity: .deliverable, entityID: deliverableID,
                            from: from, to: DeliverableStatus.cancelled.rawValue, data: ["reason": "registration withdrawn"], on: connection)
                    }
                }
            }
            try await services.registrations.setStatus(id: id, from: registration.status, to: next, on: connection)
            try await services.events.record(
                by: actor, campaignID: campaign.id, kolID: registration.kolID, entity: .registration, entityID: id,
                from: registration.status.rawValue, to: next.rawValue, on: connection)
            if action == .accept {
                let count = try await services.registrations.createDeliverables(registrationID: id, on: connection)
                for deliverable in try await services.registrations.deliverables(registrationID: id, on: connection) {
                    try await services.events.record(
                        by: actor, campaignID: campaign.id, kolID: registration.kolID, entity: .deliverable, entityID: deliverable.id,
                        from: nil, to: deliverable.status.rawValue, data: ["key": deliverable.key, "unit": "\(deliverable.unit)"],
                        on: connection)
                }
                context.logger.debug("Deliverables created", metadata: ["count": "\(count)"])
            }
            guard let updated = try await services.registrations.registration(id: id, on: connection) else {
                throw KolabError.notFound("registration")
            }
            return updated
        }
        return try Response.json(RegistrationResponse(registration))
    }

    /// An accepted KOL confirms the brief version they read; it must be the published one.
    @Sendable func acknowledge(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "registration")
        let body = try await request.decodeBody(Acknowledge.self, context: context)
        let registration = try await services.write(context) { connection in
            let (registration, campaign) = try await Self.visibleRegistration(id, actor: actor, lock: true, services: services, on: connection)
            guard actor.role == .kol && registration.kolID == actor.userID else {
                throw KolabError.forbidden("Only the KOL of this registration acknowledges the brief.")
            }
            guard registration.status == .accepted else {
                throw KolabError.conflict("Only an accepted registration acknowledges the brief; this one is \(registration.status.rawValue).")
            }
            guard let published = registration.publishedBriefVersion, body.version == published else {
                throw KolabError.invalid(
                    field: "version", "must be the published brief version (\(registration.publishedBriefVersion.map(String.init) ?? "none"))")
            }
            try await services.registrations.acknowledge(id: id, version: body.version, on: connection)
            try await services.events.record(
                by: actor, campaignID: campaign.id, kolID: registration.kolID, entity: .registration, entityID: id,
                from: registration.status.rawValue, to: registration.status.rawValue,
                data: ["brief_version_acknowledged": "\(body.version)"], on: connection)
            guard let updated = try await services.registrations.registration(id: id, on: connection) else {
                throw KolabError.notFound("registration")
            }
            return updated
        }
        return try Response.json(RegistrationResponse(registration))
    }

    @Sendable func deliverables(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "registration")
        let deliverables = try await services.read(context) { connection in
            _ = try await Self.visibleRegistration(id, actor: actor, services: services, on: connection)
            return try await services.registrations.deliverables(registrationID: id, on: connection)
        }
        return try Response.json(ListResponse(data: deliverables.map(DeliverableResponse.init), nextCursor: nil))
    }

    @Sendable func deliverable(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "deliverable")
        let deliverable = try await services.read(context) { connection in
            guard let deliverable = try await services.registrations.deliverable(id: id, on: connection),
                (try? await Self.visibleRegistration(deliverable.registrationID, actor: actor, services: services, on: connection)) != nil
            else { throw KolabError.notFound("deliverable") }
            return deliverable
        }
        return try Response.json(DeliverableResponse(deliverable))
    }
}
