import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import NIOCore

/// Brands: admins create them; staff and finance see all; a brand user sees its own; KOLs none.
struct BrandController {
    let services: Services

    struct CreateBrand: Decodable {
        var name: String
    }

    func register(_ routes: RouteTable) {
        routes.on(.post, "/v1/brands", create)
        routes.on(.get, "/v1/brands", list)
        routes.on(.get, "/v1/brands/{id}", show)
    }

    @Sendable func create(_ request: Request, context: KolabRequestContext) async throws -> Response {
        _ = try context.requireRole(.admin, action: "create brands")
        let body = try await request.decodeBody(CreateBrand.self, context: context)
        var v = Validator()
        let name = v.text(body.name, "name")
        try v.validate()
        let brand = try await services.write(context) { try await services.accounts.createBrand(name: name, on: $0) }
        return try Response.created(BrandResponse(brand), location: "/v1/brands/\(brand.id)")
    }

    @Sendable func list(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireRole(.admin, .officer, .finance, .brand, action: "list brands")
        let list = try await services.listRequest(request, context, scope: "brands")
        // A brand user without a brand sees none (a brand id no brand has).
        let only = AccountRules.brandScope(actor).map { $0 ?? UUID() }
        let page = try await services.read(context) {
            try await services.accounts.listBrands(only: only, after: list.after, limit: list.limit, on: $0)
        }
        return try Response.json(try await services.listResponse(page, list, BrandResponse.init))
    }

    @Sendable func show(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "brand")
        guard AccountRules.maySeeBrand(actor, brandID: id),
            let brand = try await services.read(context, { try await services.accounts.brand(id: id, on: $0) })
        else { throw KolabError.notFound("brand") }
        return try Response.json(BrandResponse(brand))
    }
}
