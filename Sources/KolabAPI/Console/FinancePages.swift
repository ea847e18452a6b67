import Foundation
import Hummingbird
import KolabDomain
import KolabStore

/// Finance's pages (DESIGN.md, "Web console", finance; issue 17).
struct FinancePages {
    let services: Services

    func register(_ group: RouterGroup<KolabRequestContext>) {}

    /// The start page at `/app` for this role.
    func home(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try context.consoleUser()
        return state.page("home", title: state.text("home.title"), ["role_note": state.text("home.note.\(actor.role.rawValue)")])
    }
}
