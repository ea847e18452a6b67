import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import NIOCore

/// KOL sign-up (public), search for selection, profiles and their updates.
struct KolController {
    let services: Services

    struct SignUp: Decodable {
        var email: String
        var password: String
        var fullName: String
        var city: String
        var region: String
        var niches: [String]?
        var socialAccounts: [SocialAccount]?
        var bank: BankDetails?
    }

    /// Every field optional: what is sent changes, what is absent stays.
    struct UpdateProfile: Decodable {
        var fullName: String?
        var city: String?
        var region: String?
        var niches: [String]?
        var socialAccounts: [SocialAccount]?
        var bank: BankDetails?
    }

    func register(_ routes: RouteTable) {
        routes.on(.post, "/v1/kols", signUp)
        routes.on(.get, "/v1/kols", search)
        routes.on(.get, "/v1/kols/{id}", show)
        routes.on(.patch, "/v1/kols/{id}", update)
    }

    @Sendable func signUp(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let body = try await request.decodeBody(SignUp.self, context: context)
        var v = Validator()
        let email = v.email(body.email)
        PasswordPolicy.check(body.password, into: &v)
        let profile = KolRules.validate(
            fullName: body.fullName, city: body.city, region: body.region, niches: body.niches ?? [],
            socialAccounts: body.socialAccounts ?? [], bank: body.bank, into: &v)
        try v.validate()
        guard let email else { throw KolabError.invalid(v.errors) }
        let hash = try await services.passwords.hash(body.password)
        let kol = try await services.write(context) { connection in
            let user = try await services.accounts.createUser(
                email: email, passwordHash: hash, role: .kol, brandID: nil, displayName: profile.fullName, on: connection)
            try await services.kols.createProfile(kolID: user.id, profile, on: connection)
            return try await services.kols.kol(id: user.id, on: connection)
        }
        guard let kol else { throw KolabError(.internal, "profile vanished after sign-up") }
        // The new KOL is the only reader of this answer, so it shows the bank details they sent.
        let owner = Actor(userID: kol.id, role: .kol, brandID: nil)
        return try Response.created(KolResponse(kol, for: owner), location: "/v1/kols/\(kol.id)", etag: ETag.value(version: kol.version))
    }

    /// Selection search for officers and admins (and finance): `niche`, `platform`, `min_followers`, `region`.
    @Sendable func search(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        guard AccountRules.maySearchKols(actor) else {
            throw KolabError.forbidden("Your role (\(actor.role.rawValue)) may not search KOLs.")
        }
        let query = request.uri.queryParameters
        var v = Validator()
        var filters = KolSearch()
        filters.niche = query.get("niche").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if let raw = query.get("platform") {
            filters.platform = Platform(rawValue: raw)
            v.check(filters.platform != nil, "platform", "must be one of \(Platform.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let raw = query.get("min_followers") {
            filters.minFollowers = Int64(raw)
            v.check(filters.minFollowers.map { $0 >= 0 } == true, "min_followers", "must be a whole number of at least 0")
        }
        filters.region = query.get("region")
        try v.validate()
        let list = try await services.listRequest(request, context, scope: "kols")
        let page = try await services.read(context) {
            try await services.kols.search(filters, after: list.after, limit: list.limit, on: $0)
        }
        return try Response.json(try await services.listResponse(page, list) { KolResponse($0, for: actor) })
    }

    /// Staff and finance see every profile; a KOL its own; a brand those registered to its campaigns.
    private func visibleKol(_ id: UUID, actor: Actor, context: KolabRequestContext) async throws -> KolRecord {
        let visible: Bool =
            switch AccountRules.kolVisibility(actor, kolID: id) {
            case .all, .own: true
            case .none: false
            case .registeredWithBrand(let brandID):
                try await services.read(context) { try await services.kols.isRegistered(kolID: id, withBrand: brandID, on: $0) }
            }
        guard visible, let kol = try await services.read(context, { try await services.kols.kol(id: id, on: $0) }) else {
            throw KolabError.notFound("KOL")
        }
        return kol
    }

    @Sendable func show(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let kol = try await visibleKol(try context.parameters.id(of: "KOL"), actor: actor, context: context)
        return try Response.json(KolResponse(kol, for: actor), etag: ETag.value(version: kol.version))
    }

    /// The KOL (or an admin) changes the profile; `If-Match` guards against overwriting unseen changes.
    @Sendable func update(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "KOL")
        let current = try await visibleKol(id, actor: actor, context: context)
        guard AccountRules.mayEditKol(actor, kolID: id) else {
            throw KolabError.forbidden("Only the KOL or an admin may change this profile.")
        }
        let body = try await request.decodeBody(UpdateProfile.self, context: context)
        var v = Validator()
        let changes = KolStore.Changes(
            fullName: body.fullName.map { v.text($0, "full_name") },
            city: body.city.map { v.text($0, "city", max: 100) },
            region: body.region.map { v.text($0, "region", max: 100) },
            niches: body.niches.map { KolRules.normalizeNiches($0, into: &v) },
            socialAccounts: body.socialAccounts.map { KolRules.validateSocialAccounts($0, into: &v) },
            bank: body.bank.map { KolRules.validateBank($0, into: &v) })
        try v.validate()
        try ETag.requireMatch(request, current: current.version)
        let updated = try await services.write(context) { connection -> KolRecord? in
            guard try await services.kols.update(kolID: id, expectedVersion: current.version, changes, on: connection) else {
                return nil
            }
            return try await services.kols.kol(id: id, on: connection)
        }
        guard let updated else {
            throw KolabError(.preconditionFailed, "The profile changed while you were editing it; read it again and retry.")
        }
        return try Response.json(KolResponse(updated, for: actor), etag: ETag.value(version: updated.version))
    }
}
