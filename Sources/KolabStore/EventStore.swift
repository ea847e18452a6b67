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
///
/// Commit order: every statement here first takes `pg_advisory_xact_lock` on each campaign it writes
/// events for (sorted, so two writers never wait on each other in a cycle), held to the end of the
/// transaction. A second transaction writing events of the same campaign numbers its events only
/// after the first committed, so within a campaign `seq` order is commit order: a reader paging the
/// timeline to its end (and polling from `resume_cursor`) never skips an event that commits later.
/// The cost is that the tails of transitions in one campaign run one at a time; transitions of
/// different campaigns do not wait on each other.
public struct EventStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// The first key of the two-key advisory locks on campaigns' timelines (the second is the campaign).
    static let lockSpace: Int32 = 7042

    /// Appends one event. A `guest`'s event (a review through a review link) has no actor id, the
    /// role `brand`, and names the guest in its data: `guest_name`, `guest_email`, `review_link_id`.
    public func record(
        by actor: Actor?, campaignID: UUID?, kolID: UUID? = nil, entity: EntityType, entityID: UUID, from: String?, to: String?,
        data: [String: String] = [:], guest: GuestReviewer? = nil, on connection: PostgresConnection
    ) async throws {
        var data = data
        var actorID = actor?.userID
        var actorRole = actor?.role.rawValue ?? "system"
        if let guest {
            actorID = nil
            actorRole = Role.brand.rawValue
            data["guest_name"] = guest.name
            data["guest_email"] = guest.email
            data["review_link_id"] = guest.linkID.uuidString.lowercased()
        }
        let json = try Self.json(data)
        try await connection.run(
            AppendEvent(
                campaignID: campaignID, actorID: actorID, actorRole: actorRole, kolID: kolID, entityType: entity.rawValue,
                entityID: entityID, from: from, to: to, data: json), logger: logger)
    }

    /// An event's `data` as the JSON object it is stored as.
    static func json(_ data: [String: String]) throws -> String {
        String(decoding: try JSONEncoder().encode(data), as: UTF8.self)
    }

    /// One event per payout in `payoutIDs`, written in one statement.
    public func recordPayouts(
        _ payoutIDs: [UUID], by actor: Actor, from: String, to: String, data: [String: String], on connection: PostgresConnection
    ) async throws {
        let json = String(decoding: try JSONEncoder().encode(data), as: UTF8.self)
        try await connection.run(
            """
            WITH ordered AS MATERIALIZED (
                SELECT pg_advisory_xact_lock(\(Self.lockSpace), hashtext(c::text))
                FROM (SELECT DISTINCT campaign_id AS c FROM payouts WHERE id = ANY(\(payoutIDs)) ORDER BY 1) x)
            INSERT INTO events (actor_id, actor_role, campaign_id, kol_id, entity_type, entity_id, from_state, to_state, data)
            SELECT \(actor.userID), \(actor.role.rawValue), p.campaign_id, p.kol_id, 'payout', p.id, \(from), \(to), \(json)::jsonb
            FROM payouts p, (SELECT count(*) FROM ordered) locked WHERE p.id = ANY(\(payoutIDs)) ORDER BY p.created_at, p.id
            """, logger: logger)
    }

    /// One `approved -> exported` event per payout of a new batch, in one statement (a batch can hold 100,000).
    public func recordBatchExport(batchID: UUID, by actor: Actor, on connection: PostgresConnection) async throws {
        let json = String(decoding: try JSONEncoder().encode(["batch_id": batchID.uuidString.lowercased()]), as: UTF8.self)
        try await connection.run(
            """
            WITH ordered AS MATERIALIZED (
                SELECT pg_advisory_xact_lock(\(Self.lockSpace), hashtext(c::text))
                FROM (SELECT DISTINCT p.campaign_id AS c FROM payout_batch_lines l JOIN payouts p ON p.id = l.payout_id
                      WHERE l.batch_id = \(batchID) ORDER BY 1) x)
            INSERT INTO events (actor_id, actor_role, campaign_id, kol_id, entity_type, entity_id, from_state, to_state, data)
            SELECT \(actor.userID), \(actor.role.rawValue), p.campaign_id, p.kol_id, 'payout', l.payout_id, 'approved', 'exported',
                   \(json)::jsonb
            FROM payout_batch_lines l JOIN payouts p ON p.id = l.payout_id, (SELECT count(*) FROM ordered) locked
            WHERE l.batch_id = \(batchID) ORDER BY l.line
            """, logger: logger)
    }

    /// Who reads a timeline, and so which events it holds (DESIGN.md, "Roles").
    public typealias Audience = TimelineAudience

    /// A campaign's timeline, oldest first, by `seq` (commit order within a campaign, see above).
    /// `resume` is the position after the last event served (or `after` when none was), to poll from.
    public func timeline(
        campaignID: UUID, audience: Audience, after position: PagePosition?, limit: Int, on connection: PostgresConnection
    ) async throws -> (page: Page<EventRecord>, resume: PagePosition) {
        let afterSeq = position?.micros ?? 0
        var onlyKol: UUID?
        var hidePayouts = false
        switch audience {
        case .everything: break
        case .brand: hidePayouts = true
        case .kol(let id): onlyKol = id
        }
        let rows = try await connection.run(
            """
            SELECT seq, id, at, actor_id, actor_role, campaign_id, entity_type, entity_id, from_state, to_state,
                   (CASE WHEN \(onlyKol)::uuid IS NULL THEN data ELSE data - 'guest_name' - 'guest_email' - 'review_link_id' END)::text
            FROM events WHERE campaign_id = \(campaignID) AND seq > \(afterSeq)
              AND (\(onlyKol)::uuid IS NULL OR kol_id = \(onlyKol)::uuid OR (kol_id IS NULL AND entity_type IN ('campaign', 'brief_version')))
              AND (NOT \(hidePayouts) OR entity_type NOT IN ('payout', 'payout_batch'))
            ORDER BY seq LIMIT \(limit + 1)
            """, logger: logger)
        var events: [EventRecord] = []
        for try await row in rows.decode((Int64, UUID, Date, UUID?, String?, UUID?, String, UUID, String?, String?, String).self) {
            events.append(
                EventRecord(
                    seq: row.0, id: row.1, at: row.2, actorID: row.3, actorRole: row.4, campaignID: row.5, entityType: row.6,
                    entityID: row.7, from: row.8, to: row.9, dataJSON: row.10))
        }
        let page = Page(fetched: events, limit: limit) { PagePosition(micros: $0.seq, id: $0.id) }
        let resume =
            page.items.last.map { PagePosition(micros: $0.seq, id: $0.id) } ?? position
            ?? PagePosition(micros: 0, id: IdempotencyStore.anonymous)
        return (page, resume)
    }
}
