import Foundation
import Hummingbird
import KolabDomain
import KolabStore

/// Finance's pages (DESIGN.md, "Web console", finance; issue 17).
struct FinancePages {
    let services: Services

    func register(_ group: RouterGroup<KolabRequestContext>) {}
}
