import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import KolabWebhooks
import Logging
import NIOCore
import PostgresNIO

/// Webhook endpoints, their deliveries log and the catalogue (DESIGN.md, "Webhooks"). Who may do
/// what is `WebhookRules`; what is sent, and when, is the outbox trigger and `WebhookWorker`.
struct WebhookController {
    let services: Services
    var store: WebhookStore { services.webhooks }

    /// How long a rotated-out secret keeps signing beside the new one.
    static let rotationOverlap: Duration = .seconds(24 * 3_600)

    func register(_ routes: RouteTable) {
        routes.on(.get, "/v1/webhook-event-types", eventTypes)
        routes.on(.post, "/v1/webhook-endpoints", create)
        routes.on(.get, "/v1/webhook-endpoints", list)
        routes.on(.get, "/v1/webhook-endpoints/{id}", show)
        routes.on(.patch, "/v1/webhook-endpoints/{id}", update)
        routes.on(.delete, "/v1/webhook-endpoints/{id}", delete)
        routes.on(.post, "/v1/webhook-endpoints/{id}/rotate-secret", rotateSecret)
        routes.on(.post, "/v1/webhook-endpoints/{id}/test", sendTest)
        routes.on(.post, "/v1/webhook-endpoints/{id}/recover", recover)
        routes.on(.get, "/v1/webhook-endpoints/{id}/deliveries", deliveries)
        routes.on(.post, "/v1/webhook-deliveries/{id}/retry", retry)
    }

    struct CreateEndpoint: Decodable {
        var url: String
        var eventTypes: [String]
        var description: String?
        var brandId: UUID?
    }

    struct UpdateEndpoint: Decodable {
        var url: String?
        var eventTypes: [String]?
        var description: String?
        var enabled: Bool?
    }

    struct Recover: Decodable {
        var since: Date
    }

    /// Anyone signed in may read the catalogue: it is documentation.
    @Sendable func eventTypes(_ request: Request, context: KolabRequestContext) async throws -> Response {
        _ = try context.requireActor()
        return Response.json(WebhookEventTypesResponse(types: WebhookEventType.catalogue))
    }

    /// Officers and KOLs never manage endpoints: 403 on every route, whatever the id or body.
    private func manager(_ context: KolabRequestContext) throws -> Actor {
        let actor = try context.requireActor()
        guard WebhookRules.mayManage(actor.role) else {
            throw KolabError.forbidden("Your role (\(actor.role.rawValue)) may not manage webhook endpoints.")
        }
        return actor
    }

    /// The endpoint in the path, when the caller sees it (else 404).
    private func visibleEndpoint(_ context: KolabRequestContext, actor: Actor, lock: Bool = false, on connection: PostgresConnection)
        async throws -> WebhookEndpointRecord
    {
        let id = try context.parameters.id(of: "webhook endpoint")
        guard let endpoint = try await store.endpoint(id: id, lock: lock, on: connection),
            WebhookRules.maySee(actor, scope: endpoint.scope, brandID: endpoint.brandID)
        else { throw KolabError.notFound("webhook endpoint") }
        return endpoint
    }

    private func access(_ context: KolabRequestContext, _ actor: Actor) -> (PostgresConnection) async throws -> Void {
        { _ = try await visibleEndpoint(context, actor: actor, on: $0) }
    }

    /// The checks shared by create and update: the URL's address and the event types for the scope.
    private func validate(url: String?, eventTypes: [String]?, description: String?, scope: WebhookScope) async throws {
        var v = Validator()
        if let eventTypes {
            for problem in WebhookRules.problems(eventTypes: eventTypes, scope: scope) { v.add("event_types", problem) }
        }
        if let description { v.check(description.count <= 1_000, "description", "At most 1000 characters.") }
        try v.validate()
        if let url { try await services.webhookAddresses.checkRegistration(url) }
    }

    @Sendable func create(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try manager(context)
        let body = try await request.decodeBody(CreateEndpoint.self, context: context)
        let url = body.url.trimmingCharacters(in: .whitespaces)
        let placement = try WebhookRules.placement(for: actor, requestedBrand: body.brandId)
        try await validate(url: url, eventTypes: body.eventTypes, description: body.description, scope: placement.scope)
        let secret = WebhookSignature.newSecret()
        let sealed = try services.configuration.secretBox.seal(Array(secret.utf8))
        let endpoint = try await services.write(context) { connection in
            if let brandID = placement.brandID, actor.role == .admin,
                try await services.accounts.brand(id: brandID, on: connection) == nil
            {
                throw KolabError.invalid(field: "brand_id", "No brand has this id.")
            }
            return try await store.create(
                scope: placement.scope, brandID: placement.brandID, url: url, description: body.description ?? "",
                eventTypes: WebhookRules.stored(eventTypes: body.eventTypes), sealedSecret: sealed, by: actor, on: connection)
        }
        return Response.created(
            WebhookEndpointResponse(endpoint, secret: secret), location: "/v1/webhook-endpoints/\(endpoint.id)",
            etag: ETag.value(version: endpoint.version))
    }

    @Sendable func list(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try manager(context)
        let list = try await services.listRequest(request, context, scope: "webhook-endpoints")
        let (scope, brandID) = WebhookRules.listScope(actor)
        let page = try await services.read(context) {
            try await store.list(scope: scope, brandID: brandID, after: list.after, limit: list.limit, on: $0)
        }
        return Response.json(try await services.listResponse(page, list) { WebhookEndpointResponse($0) })
    }

    @Sendable func show(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try manager(context)
        let endpoint = try await services.read(context) { try await visibleEndpoint(context, actor: actor, on: $0) }
        return Response.json(WebhookEndpointResponse(endpoint), etag: ETag.value(version: endpoint.version))
    }

    @Sendable func update(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try manager(context)
        let body = try await services.input(context, access: access(context, actor)) {
            try await request.decodeBody(UpdateEndpoint.self, context: context)
        }
        let url = body.url?.trimmingCharacters(in: .whitespaces)
        let current = try await services.read(context) { try await visibleEndpoint(context, actor: actor, on: $0) }
        try await validate(url: url, eventTypes: body.eventTypes, description: body.description, scope: current.scope)
        try ETag.requireMatch(request, current: current.version)
        var change = WebhookStore.EndpointChange()
        change.url = url
        change.description = body.description
        change.eventTypes = body.eventTypes.map(WebhookRules.stored(eventTypes:))
        change.enabled = body.enabled
        let endpoint = try await services.write(context) { connection in
            let endpoint = try await visibleEndpoint(context, actor: actor, lock: true, on: connection)
            return try await store.update(id: endpoint.id, version: current.version, change, on: connection)
        }
        guard let endpoint else {
            throw KolabError(.preconditionFailed, "The endpoint changed while you were editing it; read it again and retry.")
        }
        return Response.json(WebhookEndpointResponse(endpoint), etag: ETag.value(version: endpoint.version))
    }

    @Sendable func delete(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try manager(context)
        try await services.write(context) { connection in
            let endpoint = try await visibleEndpoint(context, actor: actor, lock: true, on: connection)
            try await store.delete(id: endpoint.id, on: connection)
        }
        return Response(status: .noContent)
    }

    @Sendable func rotateSecret(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try manager(context)
        try await services.input(context, access: access(context, actor)) { try await request.decodeEmptyBody(context: context) }
        let secret = WebhookSignature.newSecret()
        let sealed = try services.configuration.secretBox.seal(Array(secret.utf8))
        let endpoint = try await services.write(context) { connection in
            let endpoint = try await visibleEndpoint(context, actor: actor, lock: true, on: connection)
            return try await store.rotate(id: endpoint.id, sealedSecret: sealed, overlap: Self.rotationOverlap, on: connection)
        }
        return Response.json(WebhookEndpointResponse(endpoint, secret: secret), etag: ETag.value(version: endpoint.version))
    }

    @Sendable func sendTest(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try manager(context)
        try await services.input(context, access: access(context, actor)) { try await request.decodeEmptyBody(context: context) }
        let delivery = try await services.write(context) { connection in
            let endpoint = try await visibleEndpoint(context, actor: actor, on: connection)
            return try await store.enqueueTest(endpointID: endpoint.id, on: connection)
        }
        return Response.json(WebhookDeliveryResponse(delivery), status: .accepted)
    }

    @Sendable func recover(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try manager(context)
        let body = try await services.input(context, access: access(context, actor)) {
            try await request.decodeBody(Recover.self, context: context)
        }
        let queued = try await services.write(context) { connection in
            let endpoint = try await visibleEndpoint(context, actor: actor, on: connection)
            return try await store.recover(endpointID: endpoint.id, since: body.since, on: connection)
        }
        return try Response.json(RecoverResponse(queued: queued), status: .accepted)
    }

    @Sendable func deliveries(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try manager(context)
        let id = try context.parameters.id(of: "webhook endpoint")
        let list = try await services.listRequest(request, context, scope: "webhook-deliveries:\(id)")
        let page = try await services.read(context) { connection in
            let endpoint = try await visibleEndpoint(context, actor: actor, on: connection)
            return try await store.deliveries(endpointID: endpoint.id, after: list.after, limit: list.limit, on: connection)
        }
        return Response.json(try await services.listResponse(page, list) { WebhookDeliveryResponse($0) })
    }

    @Sendable func retry(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try manager(context)
        let id = try context.parameters.id(of: "webhook delivery")
        func visible(on connection: PostgresConnection, lock: Bool) async throws -> WebhookEndpointRecord {
            guard let delivery = try await store.delivery(id: id, on: connection),
                let endpoint = try await store.endpoint(id: delivery.endpointID, lock: lock, on: connection),
                WebhookRules.maySee(actor, scope: endpoint.scope, brandID: endpoint.brandID)
            else { throw KolabError.notFound("webhook delivery") }
            return endpoint
        }
        try await services.input(context, access: { _ = try await visible(on: $0, lock: false) }) {
            try await request.decodeEmptyBody(context: context)
        }
        let delivery = try await services.write(context) { connection in
            let endpoint = try await visible(on: connection, lock: true)
            guard endpoint.enabled else {
                throw KolabError.conflict("The endpoint is disabled; PATCH it with {\"enabled\": true} first.")
            }
            return try await store.retry(id: id, on: connection)
        }
        return Response.json(WebhookDeliveryResponse(delivery), status: .accepted)
    }
}

struct RecoverResponse: Encodable, Sendable {
    var queued: Int
}

struct WebhookEventTypesResponse: JSONWritable, Sendable {
    var types: [WebhookEventType]

    func writeJSON(to writer: JSONStreamWriter) {
        writer.writeObject { object in
            object.key("data")
            writer.writeArray(types) { type in
                writer.writeObject { item in
                    item.field("type", type.type)
                    item.field("entity_type", type.entityType)
                    item.field("description", type.description)
                }
            }
        }
    }
}

/// An endpoint; `secret` only in the answers to create and rotate-secret (shown once).
struct WebhookEndpointResponse: JSONWritable, Sendable {
    var endpoint: WebhookEndpointRecord
    var secret: String?

    init(_ endpoint: WebhookEndpointRecord, secret: String? = nil) {
        self.endpoint = endpoint
        self.secret = secret
    }

    func writeJSON(to writer: JSONStreamWriter) {
        writer.writeObject { object in
            object.field("id", endpoint.id)
            object.field("scope", endpoint.scope)
            object.field("brand_id", endpoint.brandID)
            object.field("url", endpoint.url)
            object.field("description", endpoint.description)
            object.field("event_types", endpoint.eventTypes)
            object.field("enabled", endpoint.enabled)
            object.field("disabled_reason", endpoint.disabledReason)
            object.field("previous_secret_expires_at", endpoint.previousSecretExpiresAt)
            object.field("created_by", endpoint.createdBy)
            object.field("created_at", endpoint.createdAt)
            object.field("updated_at", endpoint.updatedAt)
            if let secret { object.field("secret", secret) }
        }
    }
}

/// A message with its attempts; `payload` is the exact JSON that was signed and sent.
struct WebhookDeliveryResponse: JSONWritable, Sendable {
    var delivery: WebhookDeliveryRecord

    init(_ delivery: WebhookDeliveryRecord) {
        self.delivery = delivery
    }

    func writeJSON(to writer: JSONStreamWriter) {
        writer.writeObject { object in
            object.field("id", delivery.id)
            object.field("endpoint_id", delivery.endpointID)
            object.field("event_id", delivery.eventID)
            object.field("type", delivery.type)
            object.field("status", delivery.status)
            object.field("attempt_count", delivery.attemptCount)
            object.field("next_attempt_at", delivery.nextAttemptAt)
            object.field("created_at", delivery.createdAt)
            object.field("delivered_at", delivery.deliveredAt)
            object.key("payload")
            writer.buffer.writeString(delivery.body)  // jsonb text from PostgreSQL: already JSON
            object.key("attempts")
            writer.writeArray(delivery.attempts) { attempt in
                writer.writeObject { item in
                    item.field("at", attempt.at)
                    item.field("status_code", attempt.statusCode)
                    item.field("duration_ms", attempt.durationMilliseconds)
                    item.field("response", attempt.response)
                    item.field("error", attempt.error)
                }
            }
        }
    }
}
