import Foundation

public enum CampaignStatus: String, Sendable, Codable, CaseIterable {
    case draft, recruiting, running, completed, cancelled
}

/// What can be done to a campaign; each is a sub-resource (`POST /v1/campaigns/{id}/publish`).
public enum CampaignAction: String, Sendable, CaseIterable {
    case publish
    case closeRegistration = "close-registration"
    case complete
    case cancel
}

/// The campaign's lifecycle, decided here and nowhere else:
/// `draft -> recruiting -> running -> completed`, and any state but `completed` -> `cancelled`.
public enum CampaignMachine {
    /// Who may move a campaign: its assigned officer and admins. Brands and finance see campaigns but may not.
    public static func mayAct(_ role: Role) -> Bool { role == .officer || role == .admin }

    /// The state after `action`, or the reason it cannot happen (403 for the role, 409 for the state).
    public static func transition(from status: CampaignStatus, _ action: CampaignAction, by role: Role) throws(KolabError)
        -> CampaignStatus
    {
        guard mayAct(role) else {
            throw KolabError.forbidden("Only the campaign's officer or an admin may \(action.rawValue) a campaign.")
        }
        switch (status, action) {
        case (.draft, .publish): return .recruiting
        case (.recruiting, .closeRegistration): return .running
        case (.running, .complete): return .completed
        case (.draft, .cancel), (.recruiting, .cancel), (.running, .cancel): return .cancelled
        default:
            throw KolabError.conflict("A \(status.rawValue) campaign cannot \(action.rawValue).")
        }
    }

    /// Publishing also needs an officer and a published brief (409 naming what is missing).
    public static func checkPublishable(hasOfficer: Bool, hasPublishedBrief: Bool) throws(KolabError) {
        var missing: [String] = []
        if !hasOfficer { missing.append("an assigned officer (set officer_id)") }
        if !hasPublishedBrief { missing.append("a published brief (publish a brief version)") }
        if !missing.isEmpty {
            throw KolabError.conflict("The campaign cannot be published without \(missing.joined(separator: " and ")).")
        }
    }

    /// KOLs may register only while recruiting and before registration closes.
    public static func checkOpenForRegistration(status: CampaignStatus, closesAt: Date?, now: Date) throws(KolabError) {
        guard status == .recruiting else {
            throw KolabError.conflict("Registration is open only while the campaign is recruiting; it is \(status.rawValue).")
        }
        if let closesAt, now >= closesAt {
            throw KolabError.conflict("Registration for this campaign closed at \(closesAt.formatted(.iso8601)).")
        }
    }

    /// Fields that shape what KOLs signed up for are fixed once the campaign leaves draft.
    public static func checkEditable(status: CampaignStatus, changesTermsOrRules: Bool) throws(KolabError) {
        switch status {
        case .completed, .cancelled:
            throw KolabError.conflict("A \(status.rawValue) campaign cannot be changed.")
        case .recruiting, .running:
            // A `where` clause here would bind to the last pattern only; test the flag in the body.
            if changesTermsOrRules {
                throw KolabError.conflict(
                    "Platforms, eligibility, terms, brand review, revision rounds and insights timing are fixed once a campaign is published."
                )
            }
        case .draft:
            return
        }
    }
}

/// The metric a performance bonus pays on.
public enum BonusMetric: String, Sendable, Codable, CaseIterable {
    case views, reach, engagements
}

public struct Bonus: Sendable, Codable, Equatable {
    public var metric: BonusMetric
    public var rateIdrPer1000: Int64
    public var capIdr: Int64

    public init(metric: BonusMetric, rateIdrPer1000: Int64, capIdr: Int64) {
        self.metric = metric
        self.rateIdrPer1000 = rateIdrPer1000
        self.capIdr = capIdr
    }
}

/// What each accepted KOL is paid on: a fixed fee, an optional bonus, and the tax withheld.
public struct Terms: Sendable, Codable, Equatable {
    public var feeIdr: Int64
    public var bonus: Bonus?
    public var withholdingBp: Int

    /// PPh 21 for non-employees: 50% taxable base at 5% = 2.5% of gross.
    public static let defaultWithholdingBp = 250

    public init(feeIdr: Int64, bonus: Bonus?, withholdingBp: Int = Terms.defaultWithholdingBp) {
        self.feeIdr = feeIdr
        self.bonus = bonus
        self.withholdingBp = withholdingBp
    }
}

/// Who may register: a KOL must meet every rule that is set.
public struct Eligibility: Sendable, Codable, Equatable {
    public var minFollowers: Int64
    public var niches: [String]
    public var regions: [String]

    public init(minFollowers: Int64 = 0, niches: [String] = [], regions: [String] = []) {
        self.minFollowers = minFollowers
        self.niches = niches
        self.regions = regions
    }

    enum CodingKeys: String, CodingKey { case minFollowers, niches, regions }

    /// Each member may be omitted and takes its default (no minimum, any niche, any region).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            minFollowers: try container.decodeIfPresent(Int64.self, forKey: .minFollowers) ?? 0,
            niches: try container.decodeIfPresent([String].self, forKey: .niches) ?? [],
            regions: try container.decodeIfPresent([String].self, forKey: .regions) ?? [])
    }

    /// The rules a KOL fails for a campaign on `platforms`; empty when eligible.
    public func failures(platforms: [Platform], accounts: [SocialAccount], niches kolNiches: [String], region: String) -> [FieldError] {
        var failures: [FieldError] = []
        let onPlatforms = accounts.filter { platforms.contains($0.platform) }
        if onPlatforms.isEmpty {
            failures.append(
                FieldError(
                    field: "platforms",
                    message: "you need an account on \(platforms.map(\.rawValue).joined(separator: " or ")) in your profile"))
        } else if !onPlatforms.contains(where: { $0.followers >= minFollowers }) {
            failures.append(
                FieldError(
                    field: "min_followers",
                    message: "you need at least \(minFollowers) followers on \(platforms.map(\.rawValue).joined(separator: " or "))"))
        }
        if !niches.isEmpty && Set(niches).isDisjoint(with: kolNiches) {
            failures.append(FieldError(field: "niches", message: "your niches must include one of \(niches.joined(separator: ", "))"))
        }
        if !regions.isEmpty && !regions.contains(where: { $0.caseInsensitiveCompare(region) == .orderedSame }) {
            failures.append(FieldError(field: "regions", message: "the campaign is for KOLs in \(regions.joined(separator: ", "))"))
        }
        return failures
    }
}

/// Validation of campaign fields, shared by create and update.
public enum CampaignRules {
    public static let maxSlots = 10_000
    public static let maxRevisionRounds = 10

    /// Whose campaign a new one is and who runs it, by the creator's role: a brand drafts for itself
    /// and may not pick the officer (staff assign one); an officer may leave the officer out and runs
    /// it; an admin names the brand.
    public static func owners(brandID: UUID?, officerID: UUID?, by actor: Actor, into v: inout Validator) -> (brand: UUID?, officer: UUID?)
    {
        switch actor.role {
        case .brand:
            v.check(brandID == nil || brandID == actor.brandID, "brand_id", "must be your own brand")
            v.check(officerID == nil, "officer_id", "is assigned by Kolab staff")
            return (actor.brandID, nil)
        case .officer:
            v.check(brandID != nil, "brand_id", "is required")
            return (brandID, officerID ?? actor.userID)
        default:
            v.check(brandID != nil, "brand_id", "is required")
            return (brandID, officerID)
        }
    }

    /// A campaign never has fewer slots than KOLs already accepted.
    public static func checkSlotsAgainstAccepted(_ slots: Int?, accepted: Int) throws(KolabError) {
        if let slots, slots < accepted {
            throw KolabError.invalid(field: "kol_slots", "must be at least the \(accepted) KOLs already accepted")
        }
    }

    /// Only Kolab staff assign or change a campaign's officer.
    public static func checkOfficerChange(_ officerID: UUID?, by role: Role, into v: inout Validator) {
        if role == .brand { v.check(officerID == nil, "officer_id", "is assigned by Kolab staff") }
    }

    public static func checkPlatforms(_ platforms: [Platform], into v: inout Validator) {
        v.check(!platforms.isEmpty, "platforms", "must name at least one platform")
        v.check(Set(platforms).count == platforms.count, "platforms", "must not repeat a platform")
    }

    public static func checkSlots(_ slots: Int, into v: inout Validator) {
        v.check((1...maxSlots).contains(slots), "kol_slots", "must be between 1 and \(maxSlots)")
    }

    public static func checkRevisionRounds(_ rounds: Int, into v: inout Validator) {
        v.check((0...maxRevisionRounds).contains(rounds), "max_revision_rounds", "must be between 0 and \(maxRevisionRounds)")
    }

    public static func checkInsightsAfterDays(_ days: Int, into v: inout Validator) {
        v.check((1...90).contains(days), "insights_after_days", "must be between 1 and 90")
    }

    public static func checkTerms(_ terms: Terms, into v: inout Validator) {
        v.check(terms.feeIdr >= 0, "terms.fee_idr", "must not be negative")
        v.check(terms.feeIdr <= 1_000_000_000_000, "terms.fee_idr", "must be at most 1,000,000,000,000 rupiah")
        v.check((0...10_000).contains(terms.withholdingBp), "terms.withholding_bp", "must be between 0 and 10000 basis points")
        if let bonus = terms.bonus {
            v.check(bonus.rateIdrPer1000 >= 0, "terms.bonus.rate_idr_per_1000", "must not be negative")
            v.check(bonus.capIdr >= 0, "terms.bonus.cap_idr", "must not be negative")
            v.check(bonus.capIdr <= 1_000_000_000_000, "terms.bonus.cap_idr", "must be at most 1,000,000,000,000 rupiah")
        }
    }

    public static func normalizeEligibility(_ eligibility: Eligibility, into v: inout Validator) -> Eligibility {
        v.check(eligibility.minFollowers >= 0, "eligibility.min_followers", "must not be negative")
        let regions = eligibility.regions.enumerated().map { index, region in
            v.text(region, "eligibility.regions[\(index)]", max: 100)
        }
        return Eligibility(
            minFollowers: eligibility.minFollowers,
            niches: KolRules.normalizeNiches(eligibility.niches, field: "eligibility.niches", into: &v),
            regions: regions)
    }
}

/// Who sees a campaign (and so everything inside it). The store's list query is its SQL twin.
public enum CampaignAccess {
    public static func maySee(
        _ actor: Actor, brandID: UUID, officerID: UUID?, status: CampaignStatus, callerRegistered: Bool
    ) -> Bool {
        switch actor.role {
        case .admin, .finance: true
        case .officer: officerID == actor.userID
        case .brand: actor.brandID == brandID
        case .kol: status == .recruiting || callerRegistered
        }
    }

    /// Who may edit a campaign's fields: admins and its officer; its brand while it is a draft.
    public static func mayEdit(_ actor: Actor, status: CampaignStatus) throws(KolabError) {
        switch actor.role {
        case .admin, .officer: return
        case .brand where status == .draft: return
        case .brand: throw KolabError.forbidden("A brand may change its campaign only while it is a draft; ask its officer.")
        case .kol, .finance: throw KolabError.forbidden("Your role (\(actor.role.rawValue)) may not change campaigns.")
        }
    }
}
