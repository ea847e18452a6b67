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
    /// registrations to decide, drafts to review, brand feedback to relay, posts to verify, and
    /// drafts and posts past their due time.
    public func officerItems(
        officerID: UUID?, now: Date, after position: PagePosition?, limit: Int, on connection: PostgresConnection
    ) async throws -> Page<WorklistItem> {
        // Only the filter that applies becomes SQL: an `x IS NULL OR ...` form would keep a prepared
        // statement's generic plan from using the officer index.
        var query = PostgresQuery(unsafeSQL: "")
        let officerFilter = officerID.map { "AND officer_id = \(query.bind($0))" } ?? ""
        let nowParam = query.bind(now)
        query.sql = """
            WITH mine AS (
                SELECT id, registration_closes_at FROM campaigns
                WHERE status IN ('recruiting', 'running', 'completed') \(officerFilter)
            )
            SELECT kind, campaign_id, entity_type, entity_id, since, due_at, \(Keyset.micros("since")) FROM (
                SELECT 'registration_to_decide' AS kind, r.campaign_id, 'registration' AS entity_type, r.id AS entity_id,
                       r.created_at AS since, c.registration_closes_at AS due_at
                FROM registrations r JOIN mine c ON c.id = r.campaign_id
                WHERE r.status IN ('applied', 'shortlisted')
              UNION ALL
                SELECT 'draft_to_review', d.campaign_id, 'draft', dr.id, d.updated_at, NULL::timestamptz
                FROM deliverables d JOIN mine c ON c.id = d.campaign_id
                JOIN drafts dr ON dr.deliverable_id = d.id AND dr.version = d.current_draft_version
                WHERE d.status = 'draft_submitted'
              UNION ALL
                SELECT CASE d.status WHEN 'brand_feedback' THEN 'brand_feedback_to_relay' ELSE 'post_to_verify' END,
                       d.campaign_id, 'deliverable', d.id, d.updated_at,
                       CASE d.status WHEN 'posted' THEN d.post_due_at END
                FROM deliverables d JOIN mine c ON c.id = d.campaign_id
                WHERE d.status IN ('brand_feedback', 'posted')
              UNION ALL
                SELECT 'overdue_draft', d.campaign_id, 'deliverable', d.id, d.draft_due_at, d.draft_due_at
                FROM deliverables d JOIN mine c ON c.id = d.campaign_id
                WHERE d.status IN ('awaiting_draft', 'changes_requested') AND d.draft_due_at < \(nowParam)
              UNION ALL
                SELECT 'overdue_post', d.campaign_id, 'deliverable', d.id, d.post_due_at, d.post_due_at
                FROM deliverables d JOIN mine c ON c.id = d.campaign_id
                WHERE d.status = 'approved' AND d.post_due_at < \(nowParam)
            ) items WHERE true
            """
        return try await page(&query, after: position, limit: limit, on: connection)
    }

    /// A brand's items: drafts waiting for its review.
    public func brandItems(brandID: UUID, after position: PagePosition?, limit: Int, on connection: PostgresConnection) async throws
        -> Page<WorklistItem>
    {
        var query: PostgresQuery = """
            SELECT kind, campaign_id, entity_type, entity_id, since, due_at, \(unescaped: Keyset.micros("since")) FROM (
                SELECT 'draft_to_review' AS kind, d.campaign_id, 'draft' AS entity_type, dr.id AS entity_id, d.updated_at AS since,
                       NULL::timestamptz AS due_at
                FROM deliverables d JOIN campaigns c ON c.id = d.campaign_id
                JOIN drafts dr ON dr.deliverable_id = d.id AND dr.version = d.current_draft_version
                WHERE d.status = 'in_brand_review' AND c.brand_id = \(brandID) AND c.status <> 'cancelled'
            ) items WHERE true
            """
        return try await page(&query, after: position, limit: limit, on: connection)
    }

    private func page(_ query: inout PostgresQuery, after position: PagePosition?, limit: Int, on connection: PostgresConnection)
        async throws -> Page<WorklistItem>
    {
        Keyset.after(position, createdAt: "since", id: "entity_id", into: &query)
        query.sql += " ORDER BY since, entity_id LIMIT \(limit + 1)"
        var items: [WorklistItem] = []
        for try await row in try await connection.run(query, logger: logger) {
            var r = RowReader(row)
            let kind: String = try r.next(), campaignID: UUID = try r.next(), entityType: String = try r.next()
            let entityID: UUID = try r.next(), since: Date = try r.next(), dueAt: Date? = try r.next(), micros: Int64 = try r.next()
            items.append(
                WorklistItem(
                    kind: kind, campaignID: campaignID, entityType: entityType, entityID: entityID, since: since, dueAt: dueAt,
                    position: PagePosition(micros: micros, id: entityID)))
        }
        return Page(fetched: items, limit: limit) { $0.position }
    }
}
