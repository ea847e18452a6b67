import Foundation
import Hummingbird
import KolabDomain
import KolabStore

/// A KOL's pages, phone first (DESIGN.md, "Web console", KOL; issue 17).
struct KolPages {
    let services: Services

    func register(_ group: RouterGroup<KolabRequestContext>) {}
}
