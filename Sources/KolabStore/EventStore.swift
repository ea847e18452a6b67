import Foundation
import KolabDomain
import Logging
import PostgresNIO

public enum EntityType: String, Sendable, Codable {
    case campaign, briefVersion = "brief_version", registration, deliverable, draft, payout, payoutBatch = "payout_batch"
}

public struct EventRecord: Sendable {
    public var seq: Int64
    public var id: UUID
    public var at: Date
    public var actorID: UUID?
    public var actorRole: String?
    public var campaignID: UUID?
    public var entityType: String
    public var entityID: UUID
    public var from: String?
    public var to: String?
    public var dataJSON: String
}

/// The append-only audit log. `record` is called inside the transaction of the change it describes.
public struct EventStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func record(
        by actor: Actor?, campaignID: UUID?, kolID: UUID? = nil, entity: EntityType, entityID: UUID, from: String?, to: String?,
        data: [String: String] = [:], on connection: PostgresConnection
    ) async throws {
        let json = String(decoding: try JSONEncoder().encode(data), as: UTF8.self)
        try await connection.run(
            """
            INSERT INTO events (actor_id, actor_role, campaign_id, kol_id, entity_type, entity_id, from_state, to_state, data)
            VALUES (\(actor?.userID)::uuid, \(actor?.role.rawValue ?? "system"), \(campaignID)::uuid, \(kolID)::uuid, \(entity.rawValue),
                    \(entityID), \(from)::text, \(to)::text, \(json)::jsonb)
            """, logger: logger)
    }

    /// One event per payout in `payoutIDs`, written in one statement.
    public func recordPayouts(
        _ payoutIDs: [UUID], by actor: Actor, from: String, to: String, data: [String: String], on connection: PostgresConnection
    ) async throws {
        let json = String(decoding: try JSONEncoder().encode(data), as: UTF8.self)
        try await connection.run(
            """
            INSERT INTO events (actor_id, actor_role, campaign_id, kol_id, entity_type, entity_id, from_state, to_state, data)
            SELECT \(actor.userID), \(actor.role.rawValue), p.campaign_id, p.kol_id, 'payout', p.id, \(from), \(to), \(json)::jsonb
            FROM payouts p WHERE p.id = ANY(\(payoutIDs)) ORDER BY p.created_at, p.id
            """, logger: logger)
    }

    /// One `approved -> exported` event per payout of a new batch, in one statement (a batch can hold 100,000).
    public func recordBatchExport(batchID: UUID, by actor: Actor, on connection: PostgresConnection) async throws {
        let json = String(decoding: try JSONEncoder().encode(["batch_id": batchID.uuidString.lowercased()]), as: UTF8.self)
        try await connection.run(
            """
            INSERT INTO events (actor_id, actor_role, campaign_id, kol_id, entity_type, entity_id, from_state, to_state, data)
            SELECT \(actor.userID), \(actor.role.rawValue), p.campaign_id, p.kol_id, 'payout', l.payout_id, 'approved', 'exported',
                   \(json)::jsonb
            FROM payout_batch_lines l JOIN payouts p ON p.id = l.payout_id WHERE l.batch_id = \(batchID) ORDER BY l.line
            """, logger: logger)
    }

    /// A campaign's timeline, oldest first, paged by sequence number. `onlyKol` narrows it to what one
    /// KOL may read: the campaign's and the brief's own events, and those about that KOL.
    public func timeline(
        campaignID: UUID, onlyKol: UUID?, after position: PagePosition?, limit: Int, on connection: PostgresConnection
    ) async throws -> Page<EventRecord> {
        let afterSeq = position?.micros ?? 0
        let rows = try await connection.run(
            """
            SELECT seq, id, at, actor_id, actor_role, campaign_id, entity_type, entity_id, from_state, to_state, data::text
            FROM events WHERE campaign_id = \(campaignID) AND seq > \(afterSeq)
              AND (\(onlyKol)::uuid IS NULL OR kol_id = \(onlyKol)::uuid OR (kol_id IS NULL AND entity_type IN ('campaign', 'brief_version')))
            ORDER BY seq LIMIT \(limit + 1)
            """, logger: logger)
        var events: [EventRecord] = []
        for try await row in rows.decode((Int64, UUID, Date, UUID?, String?, UUID?, String, UUID, String?, String?, String).self) {
            events.append(
                EventRecord(
                    seq: row.0, id: row.1, at: row.2, actorID: row.3, actorRole: row.4, campaignID: row.5, entityType: row.6,
                    entityID: row.7, from: row.8, to: row.9, dataJSON: row.10))
        }
        return Page(fetched: events, limit: limit) { PagePosition(micros: $0.seq, id: $0.id) }
    }
}
