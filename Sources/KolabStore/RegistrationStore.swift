import Foundation
import KolabDomain
import Logging
import PostgresNIO

public struct RegistrationRecord: Sendable, Equatable {
    public var id: UUID
    public var campaignID: UUID
    public var kolID: UUID
    public var status: RegistrationStatus
    public var pitch: String
    public var briefVersionAcknowledged: Int?
    public var decidedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    public var position: PagePosition
    /// The campaign's published brief version, to tell whether the KOL must acknowledge again.
    public var publishedBriefVersion: Int?
}

public struct DeliverableRecord: Sendable, Equatable {
    public var id: UUID
    public var registrationID: UUID
    public var campaignID: UUID
    public var kolID: UUID
    public var briefVersion: Int
    public var key: String
    public var unit: Int
    public var platform: Platform
    public var format: DeliverableFormat
    public var status: DeliverableStatus
    public var currentDraftVersion: Int
    public var revisionRoundsUsed: Int
    public var extraRounds: Int
    public var draftDueAt: Date
    public var postDueAt: Date
    public var postURL: String?
    public var postedAt: Date?
    public var insightsDueAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    /// Moved by the database on every change of the row (`sql/0018`): a transition applied in one
    /// statement is guarded by the revision it decided on.
    public var revision: Int64
}

/// Registrations of KOLs for campaigns, and the deliverables an acceptance creates.
public struct RegistrationStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    static let columns = """
        r.id, r.campaign_id, r.kol_id, r.status, r.pitch, r.brief_version_acknowledged, r.decided_at, r.created_at, r.updated_at,
        \(Keyset.micros("r.created_at")),
        (SELECT b.version FROM brief_versions b WHERE b.campaign_id = r.campaign_id AND b.status = 'published')
        """

    private func registrations(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [RegistrationRecord] {
        var result: [RegistrationRecord] = []
        for try await row in try await connection.run(query, logger: logger).decode(
            (UUID, UUID, UUID, String, String, Int?, Date?, Date, Date, Int64, Int?).self)
        {
            guard let status = RegistrationStatus(rawValue: row.3) else { throw KolabError(.internal, "unknown registration status") }
            result.append(
                RegistrationRecord(
                    id: row.0, campaignID: row.1, kolID: row.2, status: status, pitch: row.4, briefVersionAcknowledged: row.5,
                    decidedAt: row.6, createdAt: row.7, updatedAt: row.8, position: PagePosition(micros: row.9, id: row.0),
                    publishedBriefVersion: row.10))
        }
        return result
    }

    /// Registers a KOL; a second registration for the same campaign answers 409 through the unique constraint.
    public func create(campaignID: UUID, kolID: UUID, pitch: String, on connection: PostgresConnection) async throws
        -> RegistrationRecord
    {
        try await registrations(
            """
            INSERT INTO registrations AS r (campaign_id, kol_id, pitch) VALUES (\(campaignID), \(kolID), \(pitch))
            RETURNING \(unescaped: Self.columns)
            """, on: connection)[0]
    }

    public func registration(id: UUID, lock: Bool = false, on connection: PostgresConnection) async throws -> RegistrationRecord? {
        var query: PostgresQuery = "SELECT \(unescaped: Self.columns) FROM registrations r WHERE r.id = \(id)"
        if lock { query.sql += " FOR UPDATE OF r" }
        return try await registrations(query, on: connection).first
    }

    /// A campaign's registrations; `kolID` narrows them to one KOL's (what a KOL sees).
    public func list(
        campaignID: UUID, kolID: UUID?, status: RegistrationStatus?, after position: PagePosition?, limit: Int,
        on connection: PostgresConnection
    ) async throws -> Page<RegistrationRecord> {
        var query: PostgresQuery = "SELECT \(unescaped: Self.columns) FROM registrations r WHERE r.campaign_id = \(campaignID)"
        if let kolID {
            let p = query.bind(kolID)
            query.sql += " AND r.kol_id = \(p)"
        }
        if let status {
            let p = query.bind(status.rawValue)
            query.sql += " AND r.status = \(p)"
        }
        Keyset.after(position, createdAt: "r.created_at", id: "r.id", into: &query)
        query.sql += " ORDER BY r.created_at, r.id LIMIT \(query.bind(limit + 1))"
        return Page(fetched: try await registrations(query, on: connection), limit: limit) { $0.position }
    }

    /// Moves the status if it is still `from` (the caller holds the row lock; this guard is the backstop).
    public func setStatus(id: UUID, from: RegistrationStatus, to: RegistrationStatus, on connection: PostgresConnection) async throws {
        let decided = to == .accepted || to == .rejected
        let rows = try await connection.run(
            """
            UPDATE registrations SET status = \(to.rawValue), updated_at = now(),
                decided_at = CASE WHEN \(decided) THEN now() ELSE decided_at END
            WHERE id = \(id) AND status = \(from.rawValue) RETURNING id
            """, logger: logger
        ).collect()
        guard !rows.isEmpty else { throw KolabError.conflict("The registration changed state meanwhile; read it again.") }
    }

    public func acknowledge(id: UUID, version: Int, on connection: PostgresConnection) async throws {
        try await connection.run(
            "UPDATE registrations SET brief_version_acknowledged = \(version), updated_at = now() WHERE id = \(id)", logger: logger)
    }

    /// Whether any deliverable of the registration has been approved (then the KOL can no longer withdraw).
    public func hasSignedOffContent(id: UUID, on connection: PostgresConnection) async throws -> Bool {
        let states = DeliverableStatus.signedOff.map(\.rawValue)
        return
            !(try await connection.run(
                "SELECT 1 FROM deliverables WHERE registration_id = \(id) AND status = ANY(\(states)) LIMIT 1", logger: logger
            ).collect()).isEmpty
    }

    // MARK: Deliverables

    static let deliverableColumns = """
        d.id, d.registration_id, d.campaign_id, d.kol_id, d.brief_version, d.key, d.unit, d.platform, d.format, d.status,
        d.current_draft_version, d.revision_rounds_used, d.extra_rounds, d.draft_due_at, d.post_due_at, d.post_url, d.posted_at,
        d.insights_due_at, d.created_at, d.updated_at, d.revision AS deliverable_revision
        """

    /// A deliverable from `deliverableColumns`, read from the reader's position.
    static func deliverable(from r: inout RowReader) throws -> DeliverableRecord {
        let id: UUID = try r.next(), registrationID: UUID = try r.next(), campaignID: UUID = try r.next(), kolID: UUID = try r.next()
        let briefVersion: Int = try r.next(), key: String = try r.next(), unit: Int = try r.next()
        let platformText: String = try r.next(), formatText: String = try r.next(), statusText: String = try r.next()
        guard let platform = Platform(rawValue: platformText), let format = DeliverableFormat(rawValue: formatText),
            let status = DeliverableStatus(rawValue: statusText)
        else { throw KolabError(.internal, "unknown deliverable value in row \(id)") }
        return DeliverableRecord(
            id: id, registrationID: registrationID, campaignID: campaignID, kolID: kolID, briefVersion: briefVersion, key: key,
            unit: unit, platform: platform, format: format, status: status, currentDraftVersion: try r.next(),
            revisionRoundsUsed: try r.next(), extraRounds: try r.next(), draftDueAt: try r.next(), postDueAt: try r.next(),
            postURL: try r.next(), postedAt: try r.next(), insightsDueAt: try r.next(), createdAt: try r.next(),
            updatedAt: try r.next(), revision: try r.next())
    }

    func deliverables(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [DeliverableRecord] {
        var result: [DeliverableRecord] = []
        for try await row in try await connection.run(query, logger: logger) {
            var reader = RowReader(row)
            result.append(try Self.deliverable(from: &reader))
        }
        return result
    }

    /// Creates the registration's deliverables from the published brief in one statement: one per unit
    /// of each line's quantity, with the line's due times. Returns how many.
    @discardableResult
    public func createDeliverables(registrationID: UUID, on connection: PostgresConnection) async throws -> Int {
        let rows = try await connection.run(
            """
            INSERT INTO deliverables (registration_id, campaign_id, kol_id, brief_version, key, unit, platform, format,
                                      draft_due_at, post_due_at)
            SELECT r.id, r.campaign_id, r.kol_id, b.version, d.key, u.unit, d.platform, d.format, d.draft_due_at, d.post_due_at
            FROM registrations r
            JOIN brief_versions b ON b.campaign_id = r.campaign_id AND b.status = 'published'
            CROSS JOIN LATERAL jsonb_to_recordset(b.deliverables)
                AS d(key text, platform text, format text, quantity int, draft_due_at timestamptz, post_due_at timestamptz)
            CROSS JOIN LATERAL generate_series(1, d.quantity) AS u(unit)
            WHERE r.id = \(registrationID)
            RETURNING id
            """, logger: logger
        ).collect()
        return rows.count
    }

    /// Cancels the registration's open deliverables (withdrawal); returns their ids and former states.
    public func cancelOpenDeliverables(registrationID: UUID, on connection: PostgresConnection) async throws -> [(UUID, String)] {
        var cancelled: [(UUID, String)] = []
        for try await row in try await connection.run(
            """
            UPDATE deliverables d SET status = 'cancelled', updated_at = now()
            FROM (SELECT id, status FROM deliverables WHERE registration_id = \(registrationID)
                  AND status NOT IN ('completed', 'cancelled') FOR UPDATE) old
            WHERE d.id = old.id
            RETURNING d.id, old.status
            """, logger: logger
        ).decode((UUID, String).self) {
            cancelled.append(row)
        }
        return cancelled
    }

    /// The lock order of every workflow (docs/architecture.md): campaign, registration, deliverable.
    /// A deliverable's transition takes its campaign `FOR SHARE` (transitions of one campaign run side
    /// by side; a campaign cancel, `FOR UPDATE`, waits for them and they for it); a registration's
    /// decision takes it `FOR NO KEY UPDATE` (it may move the slot count, and must not interleave with
    /// the approval of its content, which holds the share lock).
    public enum CampaignLock: String, Sendable {
        case share = "FOR SHARE"
        case noKeyUpdate = "FOR NO KEY UPDATE"
    }

    /// Locks the campaign of a deliverable, registration or campaign id (whichever `owner` names)
    /// before the row itself is locked. Nothing is locked when the id names nothing.
    public func lockCampaign(ofDeliverable id: UUID, _ mode: CampaignLock, on connection: PostgresConnection) async throws {
        if mode == .share {
            try await connection.run(ShareCampaignOfDeliverable(deliverableID: id), logger: logger)
            return
        }
        try await connection.run(
            "SELECT 1 FROM campaigns WHERE id = (SELECT campaign_id FROM deliverables WHERE id = \(id)) \(unescaped: mode.rawValue)",
            logger: logger)
    }

    public func lockCampaign(ofRegistration id: UUID, _ mode: CampaignLock, on connection: PostgresConnection) async throws {
        try await connection.run(
            "SELECT 1 FROM campaigns WHERE id = (SELECT campaign_id FROM registrations WHERE id = \(id)) \(unescaped: mode.rawValue)",
            logger: logger)
    }

    public func lockCampaign(_ id: UUID, _ mode: CampaignLock, on connection: PostgresConnection) async throws {
        try await connection.run("SELECT 1 FROM campaigns WHERE id = \(id) \(unescaped: mode.rawValue)", logger: logger)
    }

    /// A cancelled campaign's work stops: deliverables not completed are cancelled, registrations not
    /// decided (applied, shortlisted) are rejected. Returns what changed, for the events.
    public func closeForCancelledCampaign(campaignID: UUID, on connection: PostgresConnection) async throws
        -> (deliverables: [(id: UUID, kolID: UUID, from: String)], registrations: [(id: UUID, kolID: UUID, from: String)])
    {
        var deliverables: [(id: UUID, kolID: UUID, from: String)] = []
        for try await row in try await connection.run(
            """
            UPDATE deliverables d SET status = 'cancelled', updated_at = now()
            FROM (SELECT id, status FROM deliverables WHERE campaign_id = \(campaignID)
                  AND status NOT IN ('completed', 'cancelled') ORDER BY id FOR UPDATE) old
            WHERE d.id = old.id
            RETURNING d.id, d.kol_id, old.status
            """, logger: logger
        ).decode((UUID, UUID, String).self) {
            deliverables.append((row.0, row.1, row.2))
        }
        var registrations: [(id: UUID, kolID: UUID, from: String)] = []
        for try await row in try await connection.run(
            """
            UPDATE registrations r SET status = 'rejected', updated_at = now(), decided_at = now()
            FROM (SELECT id, status FROM registrations WHERE campaign_id = \(campaignID)
                  AND status IN ('applied', 'shortlisted') ORDER BY id FOR UPDATE) old
            WHERE r.id = old.id
            RETURNING r.id, r.kol_id, old.status
            """, logger: logger
        ).decode((UUID, UUID, String).self) {
            registrations.append((row.0, row.1, row.2))
        }
        return (deliverables, registrations)
    }

    /// A KOL's own registrations (newest first) and deliverables (by due time): the KOL's pages in
    /// the web console (`CampaignStore.titles` names their campaigns).
    public func kolOverview(kolID: UUID, on connection: PostgresConnection) async throws
        -> (registrations: [RegistrationRecord], deliverables: [DeliverableRecord])
    {
        let registrations = try await registrations(
            "SELECT \(unescaped: Self.columns) FROM registrations r WHERE r.kol_id = \(kolID) ORDER BY r.created_at DESC, r.id",
            on: connection)
        let deliverables = try await deliverables(
            "SELECT \(unescaped: Self.deliverableColumns) FROM deliverables d WHERE d.kol_id = \(kolID) ORDER BY d.draft_due_at, d.key, d.unit",
            on: connection)
        return (registrations, deliverables)
    }

    public func deliverables(registrationID: UUID, on connection: PostgresConnection) async throws -> [DeliverableRecord] {
        try await deliverables(
            "SELECT \(unescaped: Self.deliverableColumns) FROM deliverables d WHERE d.registration_id = \(registrationID) ORDER BY d.key, d.unit",
            on: connection)
    }

    /// A deliverable and its campaign in one statement (`kol`: the caller's KOL id, for the campaign's
    /// `caller_registered`); `lock` takes the deliverable's row lock.
    public func deliverableWithCampaign(id: UUID, kol: UUID?, lock: Bool, on connection: PostgresConnection) async throws
        -> (DeliverableRecord, CampaignRecord)?
    {
        let rows =
            lock
            ? try await connection.run(LockedDeliverableWithCampaign(kolID: kol, deliverableID: id), logger: logger)
            : try await connection.run(DeliverableWithCampaign(kolID: kol, deliverableID: id), logger: logger)
        for try await row in rows {
            var reader = RowReader(row)
            return (try Self.deliverable(from: &reader), try CampaignStore.record(from: &reader))
        }
        return nil
    }

    public func deliverable(id: UUID, lock: Bool = false, on connection: PostgresConnection) async throws -> DeliverableRecord? {
        var query: PostgresQuery = "SELECT \(unescaped: Self.deliverableColumns) FROM deliverables d WHERE d.id = \(id)"
        if lock { query.sql += " FOR UPDATE" }
        return try await deliverables(query, on: connection).first
    }
}
