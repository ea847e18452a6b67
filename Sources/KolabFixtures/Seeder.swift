import Foundation
import KolabDomain
import KolabStore
import Logging
import PostgresNIO

/// Loads the demo data of `fixtures/` through the same rules the API applies. Running it twice
/// changes nothing: brands are matched by name, users and KOLs by e-mail.
public struct Seeder: Sendable {
    public struct Fixtures: Sendable {
        public struct Brand: Decodable, Sendable {
            var name: String
        }
        public struct User: Decodable, Sendable {
            var email: String
            var password: String
            var role: Role
            var displayName: String
            var brand: String?
        }
        public struct Kol: Decodable, Sendable {
            var email: String
            var password: String
            var fullName: String
            var city: String
            var region: String
            var niches: [String]
            var socialAccounts: [SocialAccount]
            var bank: BankDetails?
        }
        var brands: [Brand]
        var users: [User]
        var kols: [Kol]
        var campaigns: [Campaign]
    }

    struct AccountsFile: Decodable {
        var brands: [Fixtures.Brand]
        var users: [Fixtures.User]
        var kols: [Fixtures.Kol]
    }

    /// A demo campaign and how far along it is (`draft`, `recruiting` or `running`).
    public struct Campaign: Decodable, Sendable {
        public struct Brief: Decodable, Sendable {
            var keyMessages: [String]
            var dos: [String]
            var donts: [String]
            var hashtags: [String]
            var mentions: [String]
            var references: [String]
            var deliverables: [BriefDeliverable]
        }
        public struct Registration: Decodable, Sendable {
            var kol: String
            var pitch: String
            /// `applied`, `shortlisted`, `accepted` or `rejected`.
            var decision: RegistrationStatus
            /// How far each named deliverable of an accepted KOL has come.
            var content: [Content]?
        }
        /// Steps, in order, from: draft, forward, officer_approve, officer_request_changes, brand_approve,
        /// brand_request_changes, relay, post, verify_post, insights, verify_insights.
        public struct Content: Decodable, Sendable {
            var key: String
            var unit: Int
            var steps: [String]
        }
        var title: String
        var brand: String
        var brandUser: String
        var officer: String
        var stage: CampaignStatus
        var description: String
        var platforms: [Platform]
        var kolSlots: Int
        var registrationClosesAt: Date?
        var eligibility: Eligibility
        var terms: Terms
        var brief: Brief?
        var registrations: [Registration]?
        /// After content: approve the campaign's payouts (as its officer) and batch them (as `batchBy`, finance).
        var payouts: Payouts?
    }

    public struct Payouts: Decodable, Sendable {
        var approve: Bool
        var batchBy: String?
    }

    struct CampaignsFile: Decodable {
        var campaigns: [Campaign]
    }

    public struct Summary: Sendable, Equatable {
        public var created = 0
        public var existing = 0
    }

    let database: Database
    let workflows: Workflows
    /// bcrypt, as the service hashes passwords (the HTTP layer owns the hasher and its cost).
    let hashPassword: @Sendable (String) async throws -> String

    public init(database: Database, workflows: Workflows, hashPassword: @escaping @Sendable (String) async throws -> String) {
        self.database = database
        self.workflows = workflows
        self.hashPassword = hashPassword
    }

    /// The fixtures' JSON: snake_case keys, RFC 3339 times.
    static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 time between 2000 and 2100")
            }
            return date
        }
        return decoder
    }

    public static func load(from folder: URL) throws -> Fixtures {
        let file = folder.appendingPathComponent("accounts.json")
        let campaignsFile = folder.appendingPathComponent("campaigns.json")
        do {
            let accounts = try Self.makeDecoder().decode(AccountsFile.self, from: Data(contentsOf: file))
            var campaigns: [Campaign] = []
            if FileManager.default.fileExists(atPath: campaignsFile.path) {
                campaigns = try Self.makeDecoder().decode(CampaignsFile.self, from: Data(contentsOf: campaignsFile)).campaigns
            }
            return Fixtures(brands: accounts.brands, users: accounts.users, kols: accounts.kols, campaigns: campaigns)
        } catch let error as DecodingError {
            throw KolabError(.invalid, "The fixtures in \(folder.path) are not valid: \(Self.describe(error)).")
        } catch {
            let reason = (error as NSError).localizedDescription
            throw KolabError(
                .invalid, "Cannot read the fixtures in \(folder.path) (\(reason)); point --path at a folder holding accounts.json.")
        }
    }

    /// Where a fixture file breaks its shape, as a JSON path and what is wrong.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(
                in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])) is missing"
        case .valueNotFound(_, let context): return "\(path(context.codingPath)) is null"
        case .typeMismatch(_, let context): return "\(path(context.codingPath)) has the wrong type"
        case .dataCorrupted(let context): return "\(path(context.codingPath)) is not an accepted value"
        @unknown default: return "unreadable"
        }
    }

    /// Seeds everything; `progress` gets one line per record.
    @discardableResult
    public func seed(_ fixtures: Fixtures, progress: @Sendable (String) -> Void = { _ in }) async throws -> Summary {
        var summary = Summary()
        let db = database
        var brandIDs: [String: UUID] = [:]
        let total = fixtures.brands.count + fixtures.users.count + fixtures.kols.count + fixtures.campaigns.count
        var done = 0
        func step(_ what: String, created: Bool) {
            done += 1
            if created { summary.created += 1 } else { summary.existing += 1 }
            progress("[\(done)/\(total)] \(created ? "created" : "exists ") \(what)")
        }

        for brand in fixtures.brands {
            let (record, created) = try await db.withTransaction { connection in
                if let existing = try await workflows.accounts.brand(named: brand.name, on: connection) { return (existing, false) }
                return (try await workflows.accounts.createBrand(name: brand.name, on: connection), true)
            }
            brandIDs[brand.name] = record.id
            step("brand \(brand.name)", created: created)
        }

        for user in fixtures.users {
            guard let email = EmailAddress(user.email) else { throw KolabError.invalid(field: "email", "bad fixture e-mail \(user.email)") }
            var brandID: UUID?
            if let name = user.brand {
                guard let id = brandIDs[name] else {
                    throw KolabError.invalid(field: "brand", "fixture user \(user.email) names unknown brand \(name)")
                }
                brandID = id
            }
            let exists = try await db.withConnection { try await workflows.accounts.user(email: email, on: $0) } != nil
            if !exists {
                let hash = try await hashPassword(user.password)
                try await db.withTransaction { connection in
                    _ = try await workflows.accounts.createUser(
                        email: email, passwordHash: hash, role: user.role, brandID: brandID, displayName: user.displayName,
                        on: connection)
                }
            }
            step("\(user.role.rawValue) \(email)", created: !exists)
        }

        for kol in fixtures.kols {
            guard let email = EmailAddress(kol.email) else { throw KolabError.invalid(field: "email", "bad fixture e-mail \(kol.email)") }
            var v = Validator()
            let profile = KolRules.validate(
                fullName: kol.fullName, city: kol.city, region: kol.region, niches: kol.niches,
                socialAccounts: kol.socialAccounts, bank: kol.bank, into: &v)
            try v.validate()
            let exists = try await db.withConnection { try await workflows.accounts.user(email: email, on: $0) } != nil
            if !exists {
                let hash = try await hashPassword(kol.password)
                try await db.withTransaction { connection in
                    let user = try await workflows.accounts.createUser(
                        email: email, passwordHash: hash, role: .kol, brandID: nil, displayName: profile.fullName, on: connection)
                    try await workflows.kols.createProfile(kolID: user.id, profile, on: connection)
                }
            }
            step("kol \(email)", created: !exists)
        }

        for campaign in fixtures.campaigns {
            guard let brandID = brandIDs[campaign.brand] else {
                throw KolabError.invalid(field: "brand", "fixture campaign \(campaign.title) names unknown brand \(campaign.brand)")
            }
            let created = try await db.withTransaction { try await seed(campaign, brandID: brandID, on: $0) }
            step("campaign \(campaign.title) (\(campaign.stage.rawValue))", created: created)
        }
        return summary
    }

    /// Takes a campaign as far as its stage through the same workflows the API runs, as its officer
    /// would (and its KOLs register themselves). Returns false when it already exists.
    func seed(_ fixture: Campaign, brandID: UUID, on connection: PostgresConnection) async throws -> Bool {
        let workflows = workflows
        func actor(_ email: String) async throws -> Actor {
            guard let address = EmailAddress(email), let user = try await workflows.accounts.user(email: address, on: connection) else {
                throw KolabError.invalid(field: "email", "fixture campaign \(fixture.title) names unknown user \(email)")
            }
            return Actor(userID: user.id, role: user.role, brandID: user.brandID)
        }
        let officer = try await actor(fixture.officer)
        let existing = try await workflows.campaigns.list(
            visibleTo: officer, CampaignFilter(brandID: brandID), after: nil, limit: PageSize.maximumLimit, on: connection)
        if existing.items.contains(where: { $0.title == fixture.title }) { return false }

        var v = Validator()
        CampaignRules.checkPlatforms(fixture.platforms, into: &v)
        CampaignRules.checkSlots(fixture.kolSlots, into: &v)
        CampaignRules.checkTerms(fixture.terms, into: &v)
        let eligibility = CampaignRules.normalizeEligibility(fixture.eligibility, into: &v)
        try v.validate()
        let campaign = try await workflows.createCampaign(
            NewCampaign(
                brandID: brandID, officerID: officer.userID, title: fixture.title, description: fixture.description,
                platforms: fixture.platforms, kolSlots: fixture.kolSlots, eligibility: eligibility,
                registrationClosesAt: fixture.registrationClosesAt, brandReviewRequired: true, maxRevisionRounds: 2,
                insightsAfterDays: 7, terms: fixture.terms),
            actor: officer, on: connection)
        guard fixture.stage != .draft, let brief = fixture.brief else { return true }
        let version = try await workflows.createBrief(
            BriefContent(
                keyMessages: brief.keyMessages, dos: brief.dos, donts: brief.donts, hashtags: brief.hashtags, mentions: brief.mentions,
                references: brief.references, deliverables: brief.deliverables),
            campaign: campaign.id, actor: officer, on: connection)
        _ = try await workflows.publishBrief(campaign: campaign.id, version: version.version, actor: officer, on: connection)
        _ = try await workflows.perform(.publish, campaign: campaign.id, actor: officer, on: connection)
        for registration in fixture.registrations ?? [] {
            let kol = try await actor(registration.kol)
            let record = try await workflows.register(
                campaign: campaign.id, pitch: registration.pitch, actor: kol, now: Date(), on: connection)
            let steps: [RegistrationAction] =
                switch registration.decision {
                case .applied, .withdrawn: []
                case .shortlisted: [.shortlist]
                case .accepted: [.shortlist, .accept]
                case .rejected: [.reject]
                }
            for step in steps {
                _ = try await workflows.perform(step, registration: record.id, actor: officer, on: connection)
            }
            if registration.decision == .accepted {
                _ = try await workflows.acknowledgeBrief(registration: record.id, version: version.version, actor: kol, on: connection)
                let brand = try await actor(fixture.brandUser)
                let deliverables = try await workflows.registrations.deliverables(registrationID: record.id, on: connection)
                for content in registration.content ?? [] {
                    guard let deliverable = deliverables.first(where: { $0.key == content.key && $0.unit == content.unit }) else {
                        throw KolabError.invalid(field: "content", "fixture names no deliverable \(content.key) #\(content.unit)")
                    }
                    try await play(content.steps, on: deliverable.id, kol: kol, officer: officer, brand: brand, connection: connection)
                }
            }
        }
        if fixture.stage == .running {
            _ = try await workflows.perform(.closeRegistration, campaign: campaign.id, actor: officer, on: connection)
        }
        if let payouts = fixture.payouts, payouts.approve {
            let page = try await workflows.payouts.list(
                visibleTo: officer, PayoutFilter(campaignID: campaign.id), after: nil, limit: PageSize.maximumLimit, on: connection)
            for payout in page.items {
                _ = try await workflows.approvePayout(payout.id, actor: officer, on: connection)
            }
            if let finance = payouts.batchBy {
                _ = try await workflows.createBatch(actor: try await actor(finance), on: connection)
            }
        }
        return true
    }

    /// Moves a demo deliverable through content review as its KOL, officer and brand would.
    func play(_ steps: [String], on id: UUID, kol: Actor, officer: Actor, brand: Actor, connection: PostgresConnection) async throws {
        let workflows = workflows
        var draft: UUID?
        func latest() throws -> UUID {
            guard let draft else { throw KolabError.invalid(field: "steps", "a review step needs a draft first") }
            return draft
        }
        for step in steps {
            switch step {
            case "draft":
                draft = try await workflows.submitDraft(
                    deliverable: id, caption: "Sahur ceria bersama si kecil, ditemani Susu Bunda. #SusuBunda #SahurCeria",
                    media: [Media(url: "https://cdn.example.id/demo/\(id.uuidString.prefix(8)).jpg", kind: .image)],
                    notes: "Foto diambil pagi hari", actor: kol, on: connection
                ).id
            case "forward":
                _ = try await workflows.review(
                    draft: try latest(), decision: .forward, message: "Mohon dicek, tim brand.", actor: officer, on: connection)
            case "officer_approve":
                _ = try await workflows.review(draft: try latest(), decision: .approve, message: "", actor: officer, on: connection)
            case "officer_request_changes":
                _ = try await workflows.review(
                    draft: try latest(), decision: .requestChanges, message: "Tolong tampilkan kemasannya lebih jelas.", actor: officer,
                    on: connection)
            case "brand_approve":
                _ = try await workflows.review(
                    draft: try latest(), decision: .approve, message: "Approved, thank you!", actor: brand, on: connection)
            case "brand_request_changes":
                _ = try await workflows.review(
                    draft: try latest(), decision: .requestChanges, message: "Logo is too small and the milk glass looks empty.",
                    actor: brand, on: connection)
            case "relay":
                _ = try await workflows.review(
                    draft: try latest(), decision: .relay, message: "Mbak, tolong perbesar kemasan dan isi gelas susunya ya.",
                    actor: officer, on: connection)
            case "post":
                _ = try await workflows.submitPost(
                    deliverable: id, url: "https://www.instagram.com/p/demo\(id.uuidString.prefix(6))/",
                    postedAt: Date().addingTimeInterval(-8 * 24 * 3600), actor: kol, on: connection)
            case "verify_post":
                _ = try await workflows.verifyPost(deliverable: id, actor: officer, on: connection)
            case "insights":
                let seed = Int64(id.uuidString.unicodeScalars.reduce(0) { ($0 &* 31 &+ Int($1.value)) % 10_000 })
                _ = try await workflows.submitInsights(
                    deliverable: id,
                    Insights(
                        reach: 20_000 + seed * 3, impressions: 31_000 + seed * 4, views: 25_000 + seed * 5, likes: 1_200 + seed / 10,
                        comments: 85, shares: 40, saves: 130, clicks: 210,
                        evidenceUrls: ["https://cdn.example.id/demo/insights-\(id.uuidString.prefix(8)).png"]),
                    actor: kol, now: Date(), on: connection)
            case "verify_insights":
                _ = try await workflows.verifyInsights(deliverable: id, actor: officer, on: connection)
            default:
                throw KolabError.invalid(field: "steps", "unknown fixture step \(step)")
            }
        }
    }

    /// Whether the database holds no users yet (then `serve` seeds it).
    public func databaseIsEmpty() async throws -> Bool {
        try await database.withConnection { try await workflows.accounts.userCount(on: $0) } == 0
    }
}
