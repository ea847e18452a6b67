import Foundation
import Logging
import KolabDomain
import PostgresNIO

/// A statement whose text never changes: a type holding its SQL, run through PostgresNIO's public
/// `PostgresPreparedStatement` (prepared on a connection the first time that connection runs it, under
/// the type's `name`), and listed in `StatementCatalogue`, so that `kolab sql NAME` prints the exact
/// text the service sends (the benchmark builds its pgbench scripts from it).
///
/// The hot paths use these: the token lookup of every request, the deliverable read and each step of a
/// deliverable's transition, the event append, the report. Statements whose text depends on the request
/// (a list with only the filters given, a keyset position) go through `run(_ query:)` and its
/// per-text cache (`StatementCache.swift`).
///
/// Parameters that can be NULL carry a cast in the SQL (`$3::uuid`), as everywhere in the stores:
/// PostgresNIO infers the parameter types from the first call's values.
public protocol KolabStatement: PostgresPreparedStatement where Row == PostgresRow {
    /// What the statement is for, one line (for `kolab sql --list`).
    static var summary: String { get }
    /// Each placeholder's name and PostgreSQL type, `$1` first.
    static var parameters: [StatementParameter] { get }
}

extension KolabStatement {
    public func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

/// One placeholder of a statement: `$N name type` in `kolab sql`'s output.
public struct StatementParameter: Sendable, Equatable {
    public var name: String
    public var type: String

    public init(_ name: String, _ type: String) {
        self.name = name
        self.type = type
    }
}

extension PostgresConnection {
    /// Runs a fixed statement (prepared on this connection the first time).
    @discardableResult
    public func run<Statement: KolabStatement>(_ statement: Statement, logger: Logger) async throws -> StatementRows {
        if let recorder = PlanRecorder.current {
            try await recorder.explain(
                PostgresQuery(unsafeSQL: Statement.sql, binds: try statement.makeBindings()), on: self, logger: logger)
        }
        do {
            return StatementRows(base: try await execute(statement, logger: logger))
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "25P02" {
            // As for `run(_ query:)`: a statement that failed to prepare inside a failed transaction
            // stays failed for its name on this connection; let the pool replace the connection.
            try? await self.close()
            throw error
        }
    }
}

// MARK: - The statements of the hot paths

/// The live API token's user (every API request).
struct ActorForToken: KolabStatement {
    static let name = "kolab.auth.actor"
    static let summary = "the user of a live API token (every API request)"
    static let parameters = [StatementParameter("token_hash", "bytea")]
    static let sql = """
        SELECT u.id, u.role, u.brand_id, t.expires_at FROM auth_tokens t JOIN users u ON u.id = t.user_id \
        WHERE t.token_hash = $1 AND t.kind = 'api' AND t.revoked_at IS NULL AND t.expires_at > now()
        """

    var tokenHash: ByteBuffer

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(tokenHash)
        return bindings
    }
}

/// The live console session's user (every page), its expiry slid to `idle_seconds` from now when less
/// than a minute of sliding is left to gain (so most page views write nothing).
struct SessionActor: KolabStatement {
    static let name = "kolab.auth.session"
    static let summary = "the user of a live console session, its idle expiry slid (every console page)"
    static let parameters = [StatementParameter("token_hash", "bytea"), StatementParameter("idle_seconds", "bigint")]
    static let sql = """
        WITH live AS (SELECT u.id, u.role, u.brand_id, u.display_name, t.expires_at FROM auth_tokens t JOIN users u ON u.id = t.user_id \
        WHERE t.token_hash = $1 AND t.kind = 'session' AND t.revoked_at IS NULL AND t.expires_at > now()), \
        slid AS (UPDATE auth_tokens SET expires_at = now() + $2::bigint * interval '1 second' \
        WHERE token_hash = $1 AND kind = 'session' AND expires_at < now() + ($2::bigint - 60) * interval '1 second' \
        AND EXISTS (SELECT 1 FROM live)) SELECT id, role, brand_id, display_name FROM live
        """

    var tokenHash: ByteBuffer
    var idleSeconds: Int

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(tokenHash)
        bindings.append(idleSeconds)
        return bindings
    }
}

/// A deliverable with its campaign, one row (`GET /v1/deliverables/{id}` and every transition).
struct DeliverableWithCampaign: KolabStatement {
    static let name = "kolab.deliverables.detail"
    static let summary = "a deliverable with its campaign (GET /v1/deliverables/{id})"
    static let parameters = [StatementParameter("kol_id", "uuid"), StatementParameter("deliverable_id", "uuid")]
    static let sql = """
        SELECT \(RegistrationStore.deliverableColumns), \(CampaignStore.columns(kol: "$1")) \
        FROM deliverables d JOIN campaigns c ON c.id = d.campaign_id WHERE d.id = $2
        """

    var kolID: UUID?
    var deliverableID: UUID

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(kolID)
        bindings.append(deliverableID)
        return bindings
    }
}

/// A draft with its deliverable and campaign, one row (`GET /v1/drafts/{id}`: the draft and the
/// visibility check in one round trip).
struct DraftWithDeliverable: KolabStatement {
    static let name = "kolab.drafts.with-deliverable"
    static let summary = "a draft with its deliverable and campaign (GET /v1/drafts/{id})"
    static let parameters = [StatementParameter("kol_id", "uuid"), StatementParameter("draft_id", "uuid")]
    static let sql = """
        SELECT \(ContentStore.columns(ofDrafts: "dr")), \(RegistrationStore.deliverableColumns), \(CampaignStore.columns(kol: "$1")) \
        FROM drafts dr JOIN deliverables d ON d.id = dr.deliverable_id JOIN campaigns c ON c.id = d.campaign_id WHERE dr.id = $2
        """

    var kolID: UUID?
    var draftID: UUID

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(kolID)
        bindings.append(draftID)
        return bindings
    }
}

/// The same row, the deliverable locked for its transition.
struct LockedDeliverableWithCampaign: KolabStatement {
    static let name = "kolab.deliverables.lock"
    static let summary = "a deliverable with its campaign, the deliverable's row locked (each deliverable transition)"
    static let parameters = DeliverableWithCampaign.parameters
    static let sql = DeliverableWithCampaign.sql + " FOR UPDATE OF d"

    var kolID: UUID?
    var deliverableID: UUID

    func makeBindings() -> PostgresBindings {
        DeliverableWithCampaign(kolID: kolID, deliverableID: deliverableID).makeBindings()
    }
}

/// A deliverable transition's first lock: its campaign, shared (docs/architecture.md, lock order).
struct ShareCampaignOfDeliverable: KolabStatement {
    static let name = "kolab.deliverables.lock-campaign"
    static let summary = "a deliverable's campaign locked FOR SHARE (first step of each deliverable transition)"
    static let parameters = [StatementParameter("deliverable_id", "uuid")]
    static let sql = "SELECT 1 FROM campaigns WHERE id = (SELECT campaign_id FROM deliverables WHERE id = $1) FOR SHARE"

    var deliverableID: UUID

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(deliverableID)
        return bindings
    }
}

/// A deliverable's guarded move from one state to the next, with its side fields.
struct UpdateDeliverable: KolabStatement {
    static let name = "kolab.deliverables.update"
    static let summary = "a deliverable's guarded state change with its side fields (each deliverable transition)"
    /// `$1` to `$8`: the state it moves to and the side fields, as in `assignments`.
    static let changeParameters = [
        StatementParameter("to_status", "text"), StatementParameter("draft_version", "bigint"),
        StatementParameter("used_round", "bigint"), StatementParameter("extra_round", "bigint"),
        StatementParameter("clear_post", "bool"), StatementParameter("post_url", "text"),
        StatementParameter("posted_at", "timestamptz"), StatementParameter("insights_after_days", "bigint"),
    ]
    static let parameters = changeParameters + [StatementParameter("deliverable_id", "uuid"), StatementParameter("from_status", "text")]
    /// The SET list of a transition, from `$1` to `$8`.
    static let assignments = """
        status = $1, current_draft_version = COALESCE($2::bigint, current_draft_version), \
        revision_rounds_used = revision_rounds_used + $3::bigint, extra_rounds = extra_rounds + $4::bigint, \
        post_url = CASE WHEN $5::bool THEN NULL ELSE COALESCE($6::text, post_url) END, \
        posted_at = CASE WHEN $5::bool THEN NULL ELSE COALESCE($7::timestamptz, posted_at) END, \
        insights_due_at = CASE WHEN $8::bigint IS NULL THEN insights_due_at ELSE posted_at + $8::bigint * interval '1 day' END, \
        updated_at = now()
        """
    static let sql = """
        UPDATE deliverables AS d SET \(assignments) WHERE id = $9 AND status = $10 RETURNING \(RegistrationStore.deliverableColumns)
        """

    var change: DeliverableChangeBindings
    var deliverableID: UUID
    var from: String

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 10)
        change.append(to: &bindings)
        bindings.append(deliverableID)
        bindings.append(from)
        return bindings
    }
}

/// The values of `UpdateDeliverable.assignments` (`$1` to `$8`).
struct DeliverableChangeBindings {
    var to: String
    var draftVersion: Int?
    var usedRound: Int
    var extraRound: Int
    var clearPost: Bool
    var postURL: String?
    var postedAt: Date?
    var insightsAfterDays: Int?

    init(to: DeliverableStatus, _ change: ContentStore.DeliverableChange) {
        self.to = to.rawValue
        draftVersion = change.draftVersion
        usedRound = change.usedRound ? 1 : 0
        extraRound = change.extraRound ? 1 : 0
        clearPost = change.clearPost
        postURL = change.post?.url
        postedAt = change.post?.postedAt
        insightsAfterDays = change.insightsAfterDays
    }

    func append(to bindings: inout PostgresBindings) {
        bindings.append(to)
        bindings.append(draftVersion)
        bindings.append(usedRound)
        bindings.append(extraRound)
        bindings.append(clearPost)
        bindings.append(postURL)
        bindings.append(postedAt)
        bindings.append(insightsAfterDays)
    }
}

/// A whole deliverable transition in one statement, for one decided on rows read without locks
/// (`Workflows.perform(_:deliverable:actor:on:inTransaction:)`): the campaign `FOR SHARE` if its revision is still the one read, then the
/// deliverable's update if its revision is too, then its event under the campaign's timeline lock:
/// the lock order of every deliverable transition (docs/architecture.md). The campaign's lock is an
/// InitPlan of the update's filter, so it is taken before the update locks the deliverable; the
/// timeline lock reads the update's row, so it comes after. No row when either revision moved: the
/// caller decides again under locks.
struct MoveDeliverable: KolabStatement {
    static let name = "kolab.deliverables.move"
    static let summary = "a deliverable transition and its event in one statement, guarded by the revisions it was decided on"
    static let parameters =
        UpdateDeliverable.changeParameters + [
            StatementParameter("deliverable_id", "uuid"), StatementParameter("from_status", "text"),
            StatementParameter("deliverable_revision", "bigint"), StatementParameter("campaign_id", "uuid"),
            StatementParameter("campaign_revision", "bigint"), StatementParameter("actor_id", "uuid"),
            StatementParameter("actor_role", "text"), StatementParameter("data", "jsonb"),
        ]
    static let sql = """
        WITH c AS MATERIALIZED (SELECT id FROM campaigns WHERE id = $12 AND revision = $13 FOR SHARE), \
        moved AS (UPDATE deliverables AS d SET \(UpdateDeliverable.assignments) \
        WHERE d.id = $9 AND d.status = $10 AND d.revision = $11 AND d.campaign_id = (SELECT id FROM c) \
        RETURNING \(RegistrationStore.deliverableColumns)), \
        ordered AS MATERIALIZED (SELECT pg_advisory_xact_lock(\(EventStore.lockSpace), hashtext(campaign_id::text)) FROM moved), \
        appended AS (INSERT INTO events (actor_id, actor_role, campaign_id, kol_id, entity_type, entity_id, from_state, to_state, data) \
        SELECT $14::uuid, $15::text, m.campaign_id, m.kol_id, 'deliverable', m.id, $10::text, $1::text, $16::jsonb \
        FROM moved m, (SELECT count(*) FROM ordered) locked) \
        SELECT * FROM moved
        """

    var change: DeliverableChangeBindings
    var deliverableID: UUID
    var from: String
    var deliverableRevision: Int64
    var campaignID: UUID
    var campaignRevision: Int64
    var actorID: UUID
    var actorRole: String
    var data: String

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 16)
        change.append(to: &bindings)
        bindings.append(deliverableID)
        bindings.append(from)
        bindings.append(deliverableRevision)
        bindings.append(campaignID)
        bindings.append(campaignRevision)
        bindings.append(actorID)
        bindings.append(actorRole)
        bindings.append(data)
        return bindings
    }
}

/// One audit event, numbered in its campaign's commit order (the campaign's timeline lock first).
struct AppendEvent: KolabStatement {
    static let name = "kolab.events.append"
    static let summary = "one audit event under its campaign's timeline lock (every transition)"
    static let parameters = [
        StatementParameter("campaign_id", "uuid"), StatementParameter("actor_id", "uuid"), StatementParameter("actor_role", "text"),
        StatementParameter("kol_id", "uuid"), StatementParameter("entity_type", "text"), StatementParameter("entity_id", "uuid"),
        StatementParameter("from_state", "text"), StatementParameter("to_state", "text"), StatementParameter("data", "jsonb"),
    ]
    static let sql = """
        WITH ordered AS MATERIALIZED (\
        SELECT pg_advisory_xact_lock(\(EventStore.lockSpace), hashtext(c::text)) FROM (SELECT $1::uuid AS c) x WHERE c IS NOT NULL) \
        INSERT INTO events (actor_id, actor_role, campaign_id, kol_id, entity_type, entity_id, from_state, to_state, data) \
        SELECT $2::uuid, $3, $1::uuid, $4::uuid, $5, $6, $7::text, $8::text, $9::jsonb FROM (SELECT count(*) FROM ordered) locked
        """

    var campaignID: UUID?
    var actorID: UUID?
    var actorRole: String
    var kolID: UUID?
    var entityType: String
    var entityID: UUID
    var from: String?
    var to: String?
    var data: String

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 9)
        bindings.append(campaignID)
        bindings.append(actorID)
        bindings.append(actorRole)
        bindings.append(kolID)
        bindings.append(entityType)
        bindings.append(entityID)
        bindings.append(from)
        bindings.append(to)
        bindings.append(data)
        return bindings
    }
}

/// The campaign report in one statement: both funnels, a row per KOL with their verified insights and
/// payout, and the median days from payout to payment (`GET /v1/campaigns/{id}/report`). Set-based: the
/// deliverables and verified insights of the campaign are grouped by registration once and hash-joined
/// (per-registration lookups made a 2,000-KOL report 28 ms of PostgreSQL's time; this is 17 ms). It is run
/// unnamed (`ReportStore.report`): its generic plan is 70 times slower than the plan for the values.
struct CampaignReport: KolabStatement {
    static let name = "kolab.reports.campaign"
    static let summary = "a campaign's report: funnels, a row per KOL, median days to payment (GET /v1/campaigns/{id}/report)"
    static let parameters = [StatementParameter("campaign_id", "uuid"), StatementParameter("only_kol_id", "uuid")]
    /// Columns: part (`r` registration funnel, `d` deliverable funnel, `k` a KOL, `m` the median), status,
    /// count (funnels) or deliverables counted, kol_id, full_name, deliverables completed, reach,
    /// impressions, views, engagements, payout status, gross, net, median days.
    static let sql = """
        WITH dl AS (SELECT registration_id, count(*) AS total, count(*) FILTER (WHERE status <> 'cancelled') AS \
        counted, count(*) FILTER (WHERE status = 'completed') AS completed FROM deliverables WHERE campaign_id = $1 \
        AND ($2::uuid IS NULL OR kol_id = $2::uuid) GROUP BY registration_id), ins AS (SELECT d.registration_id, \
        sum(x.reach) AS reach, sum(x.impressions) AS impressions, sum(x.views) AS views, sum(x.likes + x.comments + \
        x.shares + x.saves) AS engagements FROM insights x JOIN deliverables d ON d.id = x.deliverable_id WHERE \
        d.campaign_id = $1 AND ($2::uuid IS NULL OR d.kol_id = $2::uuid) AND x.status = 'verified' GROUP BY \
        d.registration_id) SELECT * FROM (SELECT 'r' AS part, r.status, count(*)::bigint AS n, NULL::uuid AS kol_id, \
        NULL::text AS full_name, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::text, \
        NULL::bigint, NULL::bigint, NULL::double precision FROM registrations r WHERE r.campaign_id = $1 AND ($2::uuid \
        IS NULL OR r.kol_id = $2::uuid) GROUP BY r.status UNION ALL SELECT 'd', d.status, count(*), NULL, NULL, NULL, \
        NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM deliverables d WHERE d.campaign_id = $1 AND ($2::uuid IS \
        NULL OR d.kol_id = $2::uuid) GROUP BY d.status UNION ALL SELECT 'k', r.status, dl.counted, r.kol_id, \
        k.full_name, dl.completed, COALESCE(ins.reach, 0)::bigint, COALESCE(ins.impressions, 0)::bigint, \
        COALESCE(ins.views, 0)::bigint, COALESCE(ins.engagements, 0)::bigint, p.status, COALESCE(p.gross_idr, \
        0)::bigint, COALESCE(p.net_idr, 0)::bigint, NULL FROM registrations r JOIN dl ON dl.registration_id = r.id \
        JOIN kol_profiles k ON k.kol_id = r.kol_id LEFT JOIN ins ON ins.registration_id = r.id LEFT JOIN payouts p ON \
        p.registration_id = r.id WHERE r.campaign_id = $1 AND ($2::uuid IS NULL OR r.kol_id = $2::uuid) UNION ALL \
        SELECT 'm', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, percentile_cont(0.5) \
        WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (paid_at - created_at)) / 86400.0) FROM payouts WHERE campaign_id = \
        $1 AND status = 'paid' AND ($2::uuid IS NULL OR kol_id = $2::uuid)) report ORDER BY part, full_name, kol_id
        """

    var campaignID: UUID
    var onlyKol: UUID?

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(campaignID)
        bindings.append(onlyKol)
        return bindings
    }
}

// MARK: - The catalogue

/// Every statement `kolab sql` can print: the fixed statements above, and the shape the benchmark
/// measures of each statement built per request (its text for one typical request).
public enum StatementCatalogue {
    public struct Entry: Sendable {
        public var name: String
        public var summary: String
        public var parameters: [StatementParameter]
        public var sql: String
        /// How many values the text binds (for the test that holds `parameters` to the text).
        public var bindCount: Int
    }

    static func entry<Statement: KolabStatement>(_ type: Statement.Type) -> Entry {
        Entry(
            name: String(Statement.name.dropFirst("kolab.".count)), summary: Statement.summary, parameters: Statement.parameters,
            sql: Statement.sql, bindCount: Statement.parameters.count)
    }

    static func entry(_ name: String, _ summary: String, _ parameters: [StatementParameter], _ query: PostgresQuery) -> Entry {
        Entry(name: name, summary: summary, parameters: parameters, sql: query.sql, bindCount: query.binds.count)
    }

    public static var entries: [Entry] {
        let someone = UUID(uuidString: "00000000-0000-0000-0000-000000000001")!
        return [
            entry(ActorForToken.self),
            entry(SessionActor.self),
            entry(DeliverableWithCampaign.self),
            entry(DraftWithDeliverable.self),
            entry(ShareCampaignOfDeliverable.self),
            entry(LockedDeliverableWithCampaign.self),
            entry(UpdateDeliverable.self),
            entry(MoveDeliverable.self),
            entry(AppendEvent.self),
            entry(CampaignReport.self),
            entry(
                "campaigns.list", "a KOL's page of recruiting campaigns (GET /v1/campaigns?status=recruiting&limit=50)",
                [StatementParameter("kol_id", "uuid"), StatementParameter("status", "text"), StatementParameter("limit", "bigint")],
                CampaignStore.listQuery(
                    visibleTo: KolabDomain.Actor(userID: someone, role: .kol, brandID: nil), CampaignFilter(status: .recruiting),
                    after: nil,
                    limit: 50)),
            entry(
                "worklist", "an officer's first worklist page (GET /v1/worklist)",
                [
                    StatementParameter("officer_id", "uuid"), StatementParameter("now", "timestamptz"),
                    StatementParameter("limit", "bigint"),
                ],
                WorklistStore.officerQuery(officerID: someone, now: Date(), after: nil, limit: 50)),
            entry(
                "briefs.version", "one version of a campaign's brief (the draft page's checklist)",
                [StatementParameter("campaign_id", "uuid"), StatementParameter("version", "bigint")],
                BriefStore.versionQuery(campaignID: someone, version: 1)),
            entry(
                "kols.profile", "a KOL's profile (GET /v1/kols/{id}, the KOL's own pages)", [StatementParameter("kol_id", "uuid")],
                KolStore.profileQuery(id: someone)),
            entry(
                "kols.name", "a KOL's name alone (the draft page's author)", [StatementParameter("kol_id", "uuid")],
                KolStore.nameQuery(id: someone)),
            entry(
                "drafts.versions", "every version of a draft's deliverable with its reviews (the draft page, GET /v1/drafts/{id})",
                [StatementParameter("draft_id", "uuid")], ContentStore.versionsQuery(ofDraft: someone)),
        ]
    }

    public static func entry(named name: String) -> Entry? { entries.first { $0.name == name } }
}
