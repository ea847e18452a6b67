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

    /// `officerID` nil means every campaign (admins).
    public func officerItems(officerID: UUID?, after position: PagePosition?, limit: Int, on connection: PostgresConnection) async throws
        -> Page<WorklistItem>
    {
        var query: PostgresQuery = """
            SELECT kind, campaign_id, entity_type, entity_id, since, due_at, \(unescaped: Keyset.micros("since")) FROM (
                SELECT 'registration_to_decide' AS kind, r.campaign_id, 'registration' AS entity_type, r.id AS entity_id,
                       r.created_at AS since, c.registration_closes_at AS due_at
                FROM registrations r JOIN campaigns c ON c.id = r.campaign_id
                WHERE r.status IN ('applied', 'shortlisted') AND c.status IN ('recruiting', 'running')
                  AND (\(officerID)::uuid IS NULL OR c.officer_id = \(officerID))
            ) items WHERE true
            """
        Keyset.after(position, createdAt: "since", id: "entity_id", into: &query)
        query.sql += " ORDER BY since, entity_id LIMIT \(limit + 1)"
        var items: [WorklistItem] = []
        for try await row in try await connection.query(query, logger: logger).decode((String, UUID, String, UUID, Date, Date?, Int64).self) {
            items.append(
                WorklistItem(
                    kind: row.0, campaignID: row.1, entityType: row.2, entityID: row.3, since: row.4, dueAt: row.5,
                    position: PagePosition(micros: row.6, id: row.3)))
        }
        return Page(fetched: items, limit: limit) { $0.position }
    }
}
