import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import NIOCore

/// What waits on the caller, oldest first: an officer's campaigns (an admin's: all), a brand's reviews.
struct WorklistController {
    let services: Services

    func register(_ routes: RouteTable) {
        routes.on(.get, "/v1/worklist", worklist)
    }

    @Sendable func worklist(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireRole(.officer, .admin, .brand, action: "have a worklist")
        let list = try await services.listRequest(request, context, scope: "worklist")
        let page: Page<WorklistItem> = try await services.read(context) { connection in
            switch actor.role {
            case .brand:
                return try await services.worklist.brandItems(
                    brandID: actor.brandID ?? UUID(), after: list.after, limit: list.limit, on: connection)
            default:
                return try await services.worklist.officerItems(
                    officerID: actor.worklistOfficerID, now: Date(), after: list.after, limit: list.limit,
                    on: connection)
            }
        }
        return Response.json(try await services.listResponse(page, list, WorklistItemResponse.init))
    }
}
