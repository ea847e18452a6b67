import Foundation
import KolabDomain
import Logging
import PostgresNIO

public struct WorklistItem: Sendable, Equatable {
    public var kind: String
    public var campaignID: UUID
    public var entityType: String
    public var entityID: UUID
    public var since: Date
    public var dueAt: Date?
    public var position: PagePosition
}

/// What waits on a project officer (or a brand), oldest first.
public struct WorklistStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// An officer's items over their campaigns (`officerID` nil: every campaign, for admins):
    /// registrations to decide, drafts to review, brand feedback to relay, posts and insights to
    /// verify, and drafts, posts and insights past their due time.
    public func officerItems(
        officerID: UUID?, now: Date, after position: PagePosition?, limit: Int, on connection: PostgresConnection
    ) async throws -> Page<WorklistItem> {
        try await items(Self.officerQuery(officerID: officerID, now: now, after: position, limit: limit), limit: limit, on: connection)
    }

    static func officerQuery(officerID: UUID?, now: Date, after position: PagePosition?, limit: Int) -> PostgresQuery {
        var query = PostgresQuery(unsafeSQL: "")
        // Only the filter that applies becomes SQL (a generic plan keeps its index).
        let officerFilter = officerID.map { "AND officer_id = \(query.bind($0))" } ?? ""
        let campaigns = "SELECT id FROM campaigns WHERE status IN ('recruiting', 'running', 'completed') \(officerFilter)"
        let nowParam = query.bind(now)
        let branches = [
            Branch(
                kind: "registration_to_decide", table: "registrations", since: "created_at",
                condition: "status IN ('applied', 'shortlisted')"),
            Branch(kind: "draft_to_review", table: "deliverables", since: "updated_at", condition: "status = 'draft_submitted'"),
            Branch(kind: "brand_feedback_to_relay", table: "deliverables", since: "updated_at", condition: "status = 'brand_feedback'"),
            Branch(kind: "post_to_verify", table: "deliverables", since: "updated_at", condition: "status = 'posted'"),
            Branch(kind: "insights_to_verify", table: "deliverables", since: "updated_at", condition: "status = 'insights_submitted'"),
            Branch(
                kind: "overdue_draft", table: "deliverables", since: "draft_due_at",
                condition: "status IN ('awaiting_draft', 'changes_requested') AND draft_due_at < \(nowParam)"),
            Branch(
                kind: "overdue_post", table: "deliverables", since: "post_due_at",
                condition: "status = 'approved' AND post_due_at < \(nowParam)"),
            Branch(
                kind: "overdue_insights", table: "deliverables", since: "insights_due_at",
                condition: "status = 'live' AND insights_due_at < \(nowParam)"),
        ]
        Self.page(&query, campaigns: campaigns, branches: branches, after: position, limit: limit)
        return query
    }

    /// A brand's items: drafts waiting for its review.
    public func brandItems(brandID: UUID, after position: PagePosition?, limit: Int, on connection: PostgresConnection) async throws
        -> Page<WorklistItem>
    {
        var query = PostgresQuery(unsafeSQL: "")
        let campaigns = "SELECT id FROM campaigns WHERE brand_id = \(query.bind(brandID)) AND status <> 'cancelled'"
        let branches = [
            Branch(kind: "draft_to_review", table: "deliverables", since: "updated_at", condition: "status = 'in_brand_review'")
        ]
        Self.page(&query, campaigns: campaigns, branches: branches, after: position, limit: limit)
        return try await items(query, limit: limit, on: connection)
    }

    /// A draft waiting for a brand's review, with what its page lists show.
    public struct ReviewQueueEntry: Sendable, Equatable {
        public var draftID: UUID
        public var version: Int
        public var caption: String
        public var deliverableID: UUID
        public var deliverableKey: String
        public var platform: String
        public var format: String
        public var kolName: String
        public var campaignID: UUID
        public var campaignTitle: String
        public var waitingSince: Date
        public var draftDueAt: Date
    }

    /// The drafts waiting on a brand (the web console's review queue), oldest first: the current
    /// version of every deliverable in brand review in the brand's campaigns that are not cancelled, or
    /// of one campaign. At most `limit`.
    public func brandReviewQueue(brandID: UUID, campaignID: UUID?, limit: Int, on connection: PostgresConnection) async throws
        -> [ReviewQueueEntry]
    {
        var entries: [ReviewQueueEntry] = []
        let rows = try await connection.run(
            """
            SELECT d.id, d.version, d.caption, x.id, x.key, x.platform, x.format, k.full_name, c.id, c.title, x.updated_at, x.draft_due_at
            FROM deliverables x
            JOIN campaigns c ON c.id = x.campaign_id
            JOIN drafts d ON d.deliverable_id = x.id AND d.version = x.current_draft_version
            JOIN kol_profiles k ON k.kol_id = x.kol_id
            WHERE x.status = 'in_brand_review' AND c.brand_id = \(brandID) AND c.status <> 'cancelled'
              AND (\(campaignID)::uuid IS NULL OR c.id = \(campaignID)::uuid)
            ORDER BY x.updated_at, x.id LIMIT \(limit)
            """, logger: logger)
        for try await row in rows.decode((UUID, Int, String, UUID, String, String, String, String, UUID, String, Date, Date).self) {
            entries.append(
                ReviewQueueEntry(
                    draftID: row.0, version: row.1, caption: row.2, deliverableID: row.3, deliverableKey: row.4, platform: row.5,
                    format: row.6, kolName: row.7, campaignID: row.8, campaignTitle: row.9, waitingSince: row.10, draftDueAt: row.11))
        }
        return entries
    }

    /// One kind of item: the rows of `table` meeting `condition`, oldest first by `since`.
    struct Branch {
        var kind: String
        var table: String
        var since: String
        var condition: String
    }

    /// Each kind is walked in its own index order (`sql/0008_worklist_walks.sql`) over the caller's
    /// campaigns and stops after a page; the walks are merged, so a page costs the same with a hundred
    /// items as with a hundred thousand. Items are ordered by `(since, the registration's or
    /// deliverable's id)`, which the cursor carries; entity ids, draft ids and due times are looked up
    /// for the page's rows only. The campaign test is wrapped in `IS TRUE` so that it cannot become an
    /// index condition: PostgreSQL cannot tell how many campaigns the array holds, guesses few, and
    /// would otherwise fetch every item of those campaigns through `(campaign_id, status)` and sort
    /// them (measured: 4x slower once the write scenario had moved deliverables around).
    private static func page(
        _ query: inout PostgresQuery, campaigns: String, branches: [Branch], after position: PagePosition?, limit: Int
    ) {
        // The position's placeholders, bound once and compared in every walk.
        let after = position.map { (micros: query.bind($0.micros), id: query.bind($0.id)) }
        let pageSize = query.bind(limit + 1)
        let walks = branches.map { branch in
            let keyset = after.map {
                "AND (x.\(branch.since), x.id) > (timestamptz 'epoch' + \($0.micros) * interval '1 microsecond', \($0.id))"
            }
            return """
                (SELECT '\(branch.kind)' AS kind, x.campaign_id, x.id AS sort_id, x.\(branch.since) AS since FROM \(branch.table) x
                 WHERE x.\(branch.condition) AND (x.campaign_id = ANY((SELECT ids FROM mine)::uuid[])) IS TRUE \(keyset ?? "")
                 ORDER BY 4, 3 LIMIT \(pageSize))
                """
        }
        query.sql = """
            WITH mine AS MATERIALIZED (SELECT ARRAY(\(campaigns)) AS ids)
            SELECT w.kind, w.campaign_id,
                   CASE w.kind WHEN 'registration_to_decide' THEN 'registration' WHEN 'draft_to_review' THEN 'draft' ELSE 'deliverable' END,
                   CASE w.kind WHEN 'draft_to_review' THEN
                       (SELECT dr.id FROM deliverables d JOIN drafts dr ON dr.deliverable_id = d.id AND dr.version = d.current_draft_version
                        WHERE d.id = w.sort_id)
                   ELSE w.sort_id END,
                   w.since,
                   CASE w.kind
                       WHEN 'registration_to_decide' THEN (SELECT c.registration_closes_at FROM campaigns c WHERE c.id = w.campaign_id)
                       WHEN 'post_to_verify' THEN (SELECT d.post_due_at FROM deliverables d WHERE d.id = w.sort_id)
                       WHEN 'overdue_draft' THEN w.since
                       WHEN 'overdue_post' THEN w.since
                       WHEN 'overdue_insights' THEN w.since
                   END,
                   \(Keyset.micros("w.since")), w.sort_id
            FROM (
                SELECT * FROM (\(walks.joined(separator: "\n    UNION ALL "))) walks
                ORDER BY since, sort_id LIMIT \(pageSize)
            ) w
            ORDER BY w.since, w.sort_id
            """
    }

    /// The page of items a `page` statement reads.
    private func items(_ query: PostgresQuery, limit: Int, on connection: PostgresConnection) async throws -> Page<WorklistItem> {
        var items: [WorklistItem] = []
        for try await row in try await connection.run(query, logger: logger) {
            var r = RowReader(row)
            let kind: String = try r.next(), campaignID: UUID = try r.next(), entityType: String = try r.next()
            let entityID: UUID = try r.next(), since: Date = try r.next(), dueAt: Date? = try r.next()
            let micros: Int64 = try r.next(), sortID: UUID = try r.next()
            items.append(
                WorklistItem(
                    kind: kind, campaignID: campaignID, entityType: entityType, entityID: entityID, since: since, dueAt: dueAt,
                    position: PagePosition(micros: micros, id: sortID)))
        }
        return Page(fetched: items, limit: limit) { $0.position }
    }
}
