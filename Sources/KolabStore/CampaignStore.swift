import Foundation
import KolabDomain
import Logging
import PostgresNIO

public struct CampaignRecord: Sendable, Equatable {
    public var id: UUID
    public var brandID: UUID
    public var officerID: UUID?
    public var title: String
    public var description: String
    public var status: CampaignStatus
    public var platforms: [Platform]
    public var kolSlots: Int
    public var acceptedCount: Int
    public var eligibility: Eligibility
    public var registrationClosesAt: Date?
    public var brandReviewRequired: Bool
    public var maxRevisionRounds: Int
    public var insightsAfterDays: Int
    public var terms: Terms
    public var publishedBriefVersion: Int?
    public var version: Int
    public var createdAt: Date
    public var updatedAt: Date
    public var position: PagePosition
    /// For a KOL caller: whether they registered for it (part of what they may see).
    public var callerRegistered: Bool
    /// What identifies this state of the campaign's representation.
    public var revision: CampaignRevision
}

/// One state of a campaign's representation: every UPDATE of the row moves `revision` (a trigger,
/// `sql/0016_campaign_revision.sql`), and the published brief version is the one field read from
/// another table. The HTTP layer keys the campaigns' JSON by it (`CampaignJSONCache`).
public struct CampaignRevision: Hashable, Sendable {
    public var id: UUID
    public var revision: Int64
    public var publishedBriefVersion: Int?

    public init(id: UUID, revision: Int64, publishedBriefVersion: Int?) {
        self.id = id
        self.revision = revision
        self.publishedBriefVersion = publishedBriefVersion
    }
}

/// A campaign of a list: read whole, or only its revision when the caller already has what it needs
/// of that revision (`known`), so the rest of the row is never decoded.
public enum CampaignListItem<Known: Sendable>: Sendable {
    case known(Known, PagePosition)
    case record(CampaignRecord)

    public var position: PagePosition {
        switch self {
        case .known(_, let position): position
        case .record(let record): record.position
        }
    }
}

/// The fields of a new campaign, validated.
public struct NewCampaign: Sendable {
    public var brandID: UUID
    public var officerID: UUID?
    public var title: String
    public var description: String
    public var platforms: [Platform]
    public var kolSlots: Int
    public var eligibility: Eligibility
    public var registrationClosesAt: Date?
    public var brandReviewRequired: Bool
    public var maxRevisionRounds: Int
    public var insightsAfterDays: Int
    public var terms: Terms

    public init(
        brandID: UUID, officerID: UUID?, title: String, description: String, platforms: [Platform], kolSlots: Int,
        eligibility: Eligibility, registrationClosesAt: Date?, brandReviewRequired: Bool, maxRevisionRounds: Int,
        insightsAfterDays: Int, terms: Terms
    ) {
        self.brandID = brandID
        self.officerID = officerID
        self.title = title
        self.description = description
        self.platforms = platforms
        self.kolSlots = kolSlots
        self.eligibility = eligibility
        self.registrationClosesAt = registrationClosesAt
        self.brandReviewRequired = brandReviewRequired
        self.maxRevisionRounds = maxRevisionRounds
        self.insightsAfterDays = insightsAfterDays
        self.terms = terms
    }
}

/// Filters of the campaign list.
public struct CampaignFilter: Sendable {
    public var status: CampaignStatus?
    public var brandID: UUID?

    public init(status: CampaignStatus? = nil, brandID: UUID? = nil) {
        self.status = status
        self.brandID = brandID
    }
}

/// Campaigns: creation, visibility-filtered reads, guarded edits and status transitions.
public struct CampaignStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// The columns `campaigns` decodes; `kol` is the placeholder of the caller's KOL id (or NULL). The
    /// first four are the row's `CampaignRevision` and keyset position: a list can stop reading there.
    static func columns(kol: String) -> String {
        """
        c.id, c.revision, (SELECT b.version FROM brief_versions b WHERE b.campaign_id = c.id AND b.status = 'published'),
        \(Keyset.micros("c.created_at")),
        c.brand_id, c.officer_id, c.title, c.description, c.status, c.platforms, c.kol_slots, c.accepted_count,
        c.min_followers, c.niches, c.regions, c.registration_closes_at, c.brand_review_required, c.max_revision_rounds,
        c.insights_after_days, c.fee_idr, c.bonus_metric, c.bonus_rate_idr_per_1000, c.bonus_cap_idr, c.withholding_bp,
        c.version, c.created_at, c.updated_at,
        EXISTS (SELECT 1 FROM registrations r WHERE r.campaign_id = c.id AND r.kol_id = \(kol)::uuid)
        """
    }

    /// A campaign from `columns(kol:)`, read from the reader's position (it may follow other columns).
    static func record(from r: inout RowReader) throws -> CampaignRecord {
        let (revision, micros) = try head(from: &r)
        return try record(revision, micros: micros, from: &r)
    }

    /// The first columns of `columns(kol:)`: what identifies the row's representation, and its position.
    private static func head(from r: inout RowReader) throws -> (CampaignRevision, micros: Int64) {
        let id: UUID = try r.next(), revision: Int64 = try r.next(), publishedBriefVersion: Int? = try r.next()
        let micros: Int64 = try r.next()
        return (CampaignRevision(id: id, revision: revision, publishedBriefVersion: publishedBriefVersion), micros)
    }

    /// The rest of a campaign, after `head(from:)`.
    private static func record(_ head: CampaignRevision, micros: Int64, from r: inout RowReader) throws -> CampaignRecord {
        let brandID: UUID = try r.next(), officerID: UUID? = try r.next()
        let title: String = try r.next(), description: String = try r.next(), statusText: String = try r.next()
        guard let status = CampaignStatus(rawValue: statusText) else {
            throw KolabError(.internal, "unknown campaign status \(statusText)")
        }
        let platforms: [String] = try r.next(), kolSlots: Int = try r.next(), acceptedCount: Int = try r.next()
        let eligibility = Eligibility(minFollowers: try r.next(), niches: try r.next(), regions: try r.next())
        let closesAt: Date? = try r.next(), brandReview: Bool = try r.next(), maxRounds: Int = try r.next()
        let insightsAfterDays: Int = try r.next(), feeIdr: Int64 = try r.next()
        let metric: String? = try r.next(), rate: Int64? = try r.next(), cap: Int64? = try r.next()
        let withholdingBp: Int = try r.next()
        var bonus: Bonus?
        if let metric = metric.flatMap(BonusMetric.init(rawValue:)), let rate, let cap {
            bonus = Bonus(metric: metric, rateIdrPer1000: rate, capIdr: cap)
        }
        let version: Int = try r.next(), createdAt: Date = try r.next(), updatedAt: Date = try r.next()
        let callerRegistered: Bool = try r.next()
        return CampaignRecord(
            id: head.id, brandID: brandID, officerID: officerID, title: title, description: description, status: status,
            platforms: platforms.compactMap(Platform.init(rawValue:)), kolSlots: kolSlots, acceptedCount: acceptedCount,
            eligibility: eligibility, registrationClosesAt: closesAt, brandReviewRequired: brandReview,
            maxRevisionRounds: maxRounds, insightsAfterDays: insightsAfterDays,
            terms: Terms(feeIdr: feeIdr, bonus: bonus, withholdingBp: withholdingBp),
            publishedBriefVersion: head.publishedBriefVersion, version: version, createdAt: createdAt, updatedAt: updatedAt,
            position: PagePosition(micros: micros, id: head.id), callerRegistered: callerRegistered, revision: head)
    }

    private func campaigns(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [CampaignRecord] {
        var result: [CampaignRecord] = []
        for try await row in try await connection.run(query, logger: logger) {
            var reader = RowReader(row)
            result.append(try Self.record(from: &reader))
        }
        return result
    }

    public func create(_ new: NewCampaign, createdBy: UUID, on connection: PostgresConnection) async throws -> CampaignRecord {
        let bonus = new.terms.bonus
        var query: PostgresQuery = """
            INSERT INTO campaigns AS c (brand_id, officer_id, title, description, platforms, kol_slots, min_followers, niches, regions,
                registration_closes_at, brand_review_required, max_revision_rounds, insights_after_days, fee_idr, bonus_metric,
                bonus_rate_idr_per_1000, bonus_cap_idr, withholding_bp, created_by)
            VALUES (\(new.brandID), \(new.officerID)::uuid, \(new.title), \(new.description), \(new.platforms.map(\.rawValue)), \(new.kolSlots),
                \(new.eligibility.minFollowers), \(new.eligibility.niches), \(new.eligibility.regions), \(new.registrationClosesAt)::timestamptz,
                \(new.brandReviewRequired), \(new.maxRevisionRounds), \(new.insightsAfterDays), \(new.terms.feeIdr),
                \(bonus?.metric.rawValue)::text, \(bonus?.rateIdrPer1000)::bigint, \(bonus?.capIdr)::bigint, \(new.terms.withholdingBp), \(createdBy))
            RETURNING
            """
        let kol = query.bind(UUID?.none)
        query.sql += " " + Self.columns(kol: kol)
        return try await campaigns(query, on: connection)[0]
    }

    /// One campaign; `lock` takes its row lock for the rest of the transaction (transitions, slot changes).
    public func campaign(id: UUID, kol: UUID? = nil, lock: Bool = false, on connection: PostgresConnection) async throws -> CampaignRecord?
    {
        var query = PostgresQuery(unsafeSQL: "")
        let kolParam = query.bind(kol)
        let idParam = query.bind(id)
        query.sql = "SELECT \(Self.columns(kol: kolParam)) FROM campaigns c WHERE c.id = \(idParam)"
        if lock { query.sql += " FOR UPDATE OF c" }
        return try await campaigns(query, on: connection).first
    }

    /// The campaigns `actor` may see (the SQL twin of `CampaignAccess.maySee`), filtered and paged.
    public func list(
        visibleTo actor: Actor, _ filter: CampaignFilter, after position: PagePosition?, limit: Int, on connection: PostgresConnection
    ) async throws -> Page<CampaignRecord> {
        let query = Self.listQuery(visibleTo: actor, filter, after: position, limit: limit)
        return Page(fetched: try await campaigns(query, on: connection), limit: limit) { $0.position }
    }

    /// The same list, but a campaign for whose revision `known` has an answer is read no further than
    /// its revision: the caller already has what it needs of it (the HTTP layer: its JSON).
    public func list<Known: Sendable>(
        visibleTo actor: Actor, _ filter: CampaignFilter, after position: PagePosition?, limit: Int,
        known: (CampaignRevision) -> Known?, on connection: PostgresConnection
    ) async throws -> Page<CampaignListItem<Known>> {
        let query = Self.listQuery(visibleTo: actor, filter, after: position, limit: limit)
        var fetched: [CampaignListItem<Known>] = []
        for try await row in try await connection.run(query, logger: logger) {
            var reader = RowReader(row)
            let (revision, micros) = try Self.head(from: &reader)
            if let value = known(revision) {
                fetched.append(.known(value, PagePosition(micros: micros, id: revision.id)))
            } else {
                fetched.append(.record(try Self.record(revision, micros: micros, from: &reader)))
            }
        }
        return Page(fetched: fetched, limit: limit) { $0.position }
    }

    /// The list's statement: only the filters given become SQL (a generic plan keeps its index).
    static func listQuery(visibleTo actor: Actor, _ filter: CampaignFilter, after position: PagePosition?, limit: Int) -> PostgresQuery {
        let kol = actor.ownKolID
        var query = PostgresQuery(unsafeSQL: "")
        let kolParam = query.bind(kol)
        query.sql = "SELECT \(Self.columns(kol: kolParam)) FROM campaigns c WHERE true"
        if let status = filter.status {
            let p = query.bind(status.rawValue)
            query.sql += " AND c.status = \(p)"
        }
        if let brandID = filter.brandID {
            let p = query.bind(brandID)
            query.sql += " AND c.brand_id = \(p)"
        }
        // The SQL twin of CampaignAccess.maySee.
        switch actor.role {
        case .admin, .finance: break
        case .officer:
            let p = query.bind(actor.userID)
            query.sql += " AND c.officer_id = \(p)"
        case .brand:
            let p = query.bind(actor.brandID ?? UUID())
            query.sql += " AND c.brand_id = \(p)"
        case .kol:
            query.sql +=
                " AND (c.status = 'recruiting' OR EXISTS (SELECT 1 FROM registrations r WHERE r.campaign_id = c.id AND r.kol_id = \(kolParam)::uuid))"
        }
        Keyset.after(position, createdAt: "c.created_at", id: "c.id", into: &query)
        query.sql += " ORDER BY c.created_at, c.id LIMIT \(query.bind(limit + 1))"
        return query
    }

    /// Changes of a campaign; nil fields stay.
    public struct Changes: Sendable {
        public var officerID: UUID?
        public var title: String?
        public var description: String?
        public var platforms: [Platform]?
        public var kolSlots: Int?
        public var eligibility: Eligibility?
        public var registrationClosesAt: Date?
        public var brandReviewRequired: Bool?
        public var maxRevisionRounds: Int?
        public var insightsAfterDays: Int?
        public var terms: Terms?

        public init() {}

        /// Whether the change touches what KOLs registered on (fixed after draft).
        public var changesTermsOrRules: Bool {
            platforms != nil || eligibility != nil || brandReviewRequired != nil || maxRevisionRounds != nil
                || insightsAfterDays != nil || terms != nil
        }
    }

    /// Applies `changes` if the campaign is still at `version`; false when it moved on (412).
    public func update(id: UUID, version: Int, _ changes: Changes, on connection: PostgresConnection) async throws -> Bool {
        let terms = changes.terms
        let rows = try await connection.run(
            """
            UPDATE campaigns SET
                officer_id = COALESCE(\(changes.officerID)::uuid, officer_id),
                title = COALESCE(\(changes.title)::text, title),
                description = COALESCE(\(changes.description)::text, description),
                platforms = COALESCE(\(changes.platforms?.map(\.rawValue))::text[], platforms),
                kol_slots = COALESCE(\(changes.kolSlots)::bigint, kol_slots),
                min_followers = COALESCE(\(changes.eligibility?.minFollowers)::bigint, min_followers),
                niches = COALESCE(\(changes.eligibility?.niches)::text[], niches),
                regions = COALESCE(\(changes.eligibility?.regions)::text[], regions),
                registration_closes_at = COALESCE(\(changes.registrationClosesAt)::timestamptz, registration_closes_at),
                brand_review_required = COALESCE(\(changes.brandReviewRequired)::boolean, brand_review_required),
                max_revision_rounds = COALESCE(\(changes.maxRevisionRounds)::bigint, max_revision_rounds),
                insights_after_days = COALESCE(\(changes.insightsAfterDays)::bigint, insights_after_days),
                fee_idr = COALESCE(\(terms?.feeIdr)::bigint, fee_idr),
                withholding_bp = COALESCE(\(terms?.withholdingBp)::bigint, withholding_bp),
                -- Terms replace the bonus whole: terms without a bonus remove it.
                bonus_metric = CASE WHEN \(terms != nil) THEN \(terms?.bonus?.metric.rawValue)::text ELSE bonus_metric END,
                bonus_rate_idr_per_1000 = CASE WHEN \(terms != nil) THEN \(terms?.bonus?.rateIdrPer1000)::bigint ELSE bonus_rate_idr_per_1000 END,
                bonus_cap_idr = CASE WHEN \(terms != nil) THEN \(terms?.bonus?.capIdr)::bigint ELSE bonus_cap_idr END,
                version = version + 1,
                updated_at = now()
            WHERE id = \(id) AND version = \(version)
            RETURNING id
            """, logger: logger
        ).collect()
        return !rows.isEmpty
    }

    /// Moves the status if it is still `from` (the row is locked by the caller; this guard is the backstop).
    public func setStatus(id: UUID, from: CampaignStatus, to: CampaignStatus, on connection: PostgresConnection) async throws {
        let rows = try await connection.run(
            """
            UPDATE campaigns SET status = \(to.rawValue), version = version + 1, updated_at = now()
            WHERE id = \(id) AND status = \(from.rawValue) RETURNING id
            """, logger: logger
        ).collect()
        guard !rows.isEmpty else { throw KolabError.conflict("The campaign changed state meanwhile; read it again.") }
    }

    /// Takes one slot in one guarded statement: never past `kol_slots`, however many accept at once.
    /// Returns false when every slot is taken.
    public func takeSlot(id: UUID, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.run(
            """
            UPDATE campaigns SET accepted_count = accepted_count + 1, updated_at = now()
            WHERE id = \(id) AND accepted_count < kol_slots RETURNING accepted_count
            """, logger: logger
        ).collect()
        return !rows.isEmpty
    }

    public func releaseSlot(id: UUID, on connection: PostgresConnection) async throws {
        try await connection.run(
            "UPDATE campaigns SET accepted_count = accepted_count - 1, updated_at = now() WHERE id = \(id) AND accepted_count > 0",
            logger: logger)
    }

    /// Whether `userID` is an officer (campaigns are assigned to officers only).
    public func isOfficer(_ userID: UUID, on connection: PostgresConnection) async throws -> Bool {
        !(try await connection.run("SELECT 1 FROM users WHERE id = \(userID) AND role = 'officer'", logger: logger).collect()).isEmpty
    }

    /// The titles of campaigns, by id (for lists that name them).
    public func titles(ids: [UUID], on connection: PostgresConnection) async throws -> [UUID: String] {
        var titles: [UUID: String] = [:]
        guard !ids.isEmpty else { return titles }
        for try await (id, title) in try await connection.run("SELECT id, title FROM campaigns WHERE id = ANY(\(ids))", logger: logger)
            .decode((UUID, String).self)
        {
            titles[id] = title
        }
        return titles
    }
}
