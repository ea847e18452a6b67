import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import NIOCore

/// Staff, brand and finance accounts, created by admins. KOLs sign up through `POST /v1/kols`.
struct UserController {
    let services: Services

    struct CreateUser: Decodable {
        var email: String
        var password: String
        var role: Role
        var brandId: UUID?
        var displayName: String
    }

    func register(_ routes: RouteTable) {
        routes.on(.post, "/v1/users", create)
        routes.on(.get, "/v1/users", list)
        routes.on(.get, "/v1/users/{id}", show)
    }

    @Sendable func create(_ request: Request, context: KolabRequestContext) async throws -> Response {
        _ = try context.requireRole(.admin, action: "create users")
        let body = try await request.decodeBody(CreateUser.self, context: context)
        var v = Validator()
        let email = v.email(body.email)
        PasswordPolicy.check(body.password, into: &v)
        let name = v.text(body.displayName, "display_name")
        v.check(body.role != .kol, "role", "KOLs sign up themselves at POST /v1/kols")
        AccountRules.checkBrand(role: body.role, brandID: body.brandId, into: &v)
        try v.validate()
        guard let email else { throw KolabError.invalid(v.errors) }
        let hash = try await services.passwords.hash(body.password)
        let user = try await services.write(context) { connection in
            if let brandID = body.brandId, try await services.accounts.brand(id: brandID, on: connection) == nil {
                throw KolabError.invalid(field: "brand_id", "names no brand")
            }
            return try await services.accounts.createUser(
                email: email, passwordHash: hash, role: body.role, brandID: body.brandId, displayName: name, on: connection)
        }
        return try Response.created(UserResponse(user), location: "/v1/users/\(user.id)")
    }

    /// Admins list everyone, filtered by `role` and `brand_id`.
    @Sendable func list(_ request: Request, context: KolabRequestContext) async throws -> Response {
        _ = try context.requireRole(.admin, action: "list users")
        var role: Role?
        if let raw = request.uri.queryParameters.get("role") {
            guard let parsed = Role(rawValue: raw) else {
                throw KolabError.invalid(field: "role", "must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            role = parsed
        }
        let brandID = try request.queryUUID("brand_id")
        let list = try await services.listRequest(request, context, scope: "users")
        let page = try await services.read(context) {
            try await services.accounts.listUsers(role: role, brandID: brandID, after: list.after, limit: list.limit, on: $0)
        }
        return try Response.json(try await services.listResponse(page, list, UserResponse.init))
    }

    /// Admins see every user; anyone sees themself.
    @Sendable func show(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "user")
        guard AccountRules.maySeeUser(actor, userID: id),
            let user = try await services.read(context, { try await services.accounts.user(id: id, on: $0) })
        else { throw KolabError.notFound("user") }
        return try Response.json(UserResponse(user))
    }
}
