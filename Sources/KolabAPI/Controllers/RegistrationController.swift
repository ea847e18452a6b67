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

    @Sendable func create(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "campaign")
        let pitch = try await services.input(
            context,
            access: { connection in
                _ = try await services.workflows.visibleCampaign(id, actor: actor, on: connection)
                try RegistrationMachine.checkRegister(by: actor.role)
            }
        ) {
            let body = try await request.decodeBody(Register.self, context: context)
            let pitch = (body.pitch ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard pitch.count <= 2000 else { throw KolabError.invalid(field: "pitch", "must be at most 2000 characters") }
            return pitch
        }
        let registration = try await services.write(context) {
            try await services.workflows.register(campaign: id, pitch: pitch, actor: actor, now: Date(), on: $0)
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
        let list = try await services.listRequest(request, context, scope: "registrations:\(id)")
        let page = try await services.read(context) { connection in
            _ = try await services.workflows.visibleCampaign(id, actor: actor, on: connection)
            return try await services.registrations.list(
                campaignID: id, kolID: actor.ownKolID, status: status, after: list.after, limit: list.limit,
                on: connection)
        }
        return try Response.json(try await services.listResponse(page, list, RegistrationResponse.init))
    }

    @Sendable func show(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "registration")
        let (registration, _) = try await services.read(context) {
            try await services.workflows.visibleRegistration(id, actor: actor, on: $0)
        }
        return try Response.json(RegistrationResponse(registration))
    }

    /// shortlist, accept, reject, withdraw.
    func perform(_ action: RegistrationAction, request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "registration")
        let registration = try await services.write(context) {
            try await services.workflows.perform(action, registration: id, actor: actor, on: $0)
        }
        return try Response.json(RegistrationResponse(registration))
    }

    /// An accepted KOL confirms the brief version she read; it must be the published one.
    @Sendable func acknowledge(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "registration")
        let body = try await services.input(
            context,
            access: { connection in
                let (registration, _) = try await services.workflows.visibleRegistration(id, actor: actor, on: connection)
                try RegistrationMachine.checkAcknowledge(by: actor, registrationKol: registration.kolID)
            }
        ) { try await request.decodeBody(Acknowledge.self, context: context) }
        let registration = try await services.write(context) {
            try await services.workflows.acknowledgeBrief(registration: id, version: body.version, actor: actor, on: $0)
        }
        return try Response.json(RegistrationResponse(registration))
    }

    @Sendable func deliverables(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "registration")
        let list = try await services.listRequest(request, context, scope: "deliverables:\(id)")
        let deliverables = try await services.read(context) { connection in
            _ = try await services.workflows.visibleRegistration(id, actor: actor, on: connection)
            return try await services.registrations.deliverables(registrationID: id, on: connection)
        }
        // Made all at once on acceptance and never added to: the rank in (key, unit) order is stable.
        let page = services.page(deliverables, list) { _, rank in Int64(rank) }
        return Response.json(try await services.listResponse(page, list, DeliverableResponse.init))
    }

    @Sendable func deliverable(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "deliverable")
        let (deliverable, _) = try await services.read(context) {
            try await services.workflows.visibleDeliverable(id, actor: actor, on: $0)
        }
        return Response.json(DeliverableResponse(deliverable))
    }
}
