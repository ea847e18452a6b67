import Foundation
import KolabDomain
import Logging
import PostgresNIO

public struct ReviewRecord: Sendable, Equatable {
    public var id: UUID
    public var draftID: UUID
    public var decision: ReviewDecision
    public var message: String
    /// The user who reviewed; nil for a guest's review, which names its link instead.
    public var reviewerID: UUID?
    public var reviewerRole: Role
    public var createdAt: Date
    /// A guest's review: the review link and the name of the guest who held it.
    public var reviewLinkID: UUID?
    public var guestName: String?
}

public struct DraftRecord: Sendable, Equatable {
    public var id: UUID
    public var deliverableID: UUID
    public var version: Int
    public var caption: String
    public var media: [Media]
    public var notes: String
    public var submittedAt: Date
    public var reviews: [ReviewRecord]
}

/// Drafts, their reviews, and the deliverable changes that content review makes.
public struct ContentStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    // Reviews come along as JSON in the same row: one round trip per list of drafts.
    static let draftColumns = columns(ofDrafts: "d")

    /// The columns `draft(from:)` decodes, for the drafts table under `alias`.
    static func columns(ofDrafts alias: String) -> String {
        """
        \(alias).id, \(alias).deliverable_id, \(alias).version, \(alias).caption, \(alias).media::text, \(alias).notes, \(alias).submitted_at,
        COALESCE((SELECT json_agg(json_build_object('id', r.id, 'decision', r.decision, 'message', r.message,
                   'reviewer_id', r.reviewer_id, 'reviewer_role', r.reviewer_role,
                   'created_at', to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   'review_link_id', r.review_link_id,
                   'guest_name', CASE WHEN r.review_link_id IS NOT NULL THEN
                                     (SELECT l.reviewer_name FROM review_links l WHERE l.id = r.review_link_id) END) ORDER BY r.created_at)
                  FROM reviews r WHERE r.draft_id = \(alias).id), '[]')::text
        """
    }

    private struct ReviewJSON: Decodable {
        var id: UUID
        var decision: ReviewDecision
        var message: String
        var reviewerId: UUID?
        var reviewerRole: Role
        var createdAt: Date
        var reviewLinkId: UUID?
        var guestName: String?
    }

    private func drafts(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [DraftRecord] {
        var result: [DraftRecord] = []
        for try await row in try await connection.run(query, logger: logger) {
            var reader = RowReader(row)
            result.append(try Self.draft(from: &reader))
        }
        return result
    }

    /// A draft from `columns(ofDrafts:)`, read from the reader's position (it may precede other columns).
    /// Reads the media and reviews a draft's row carries as JSON (configured once; decoding does not change it).
    static let jsonDecoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    static func draft(from r: inout RowReader) throws -> DraftRecord {
        let decoder = Self.jsonDecoder
        let id: UUID = try r.next(), deliverableID: UUID = try r.next(), version: Int = try r.next(), caption: String = try r.next()
        let media: String = try r.next(), notes: String = try r.next(), submittedAt: Date = try r.next(), reviews: String = try r.next()
        return DraftRecord(
            id: id, deliverableID: deliverableID, version: version, caption: caption,
            media: try decoder.decode([Media].self, from: Data(media.utf8)), notes: notes, submittedAt: submittedAt,
            reviews: try decoder.decode([ReviewJSON].self, from: Data(reviews.utf8)).map {
                ReviewRecord(
                    id: $0.id, draftID: id, decision: $0.decision, message: $0.message, reviewerID: $0.reviewerId,
                    reviewerRole: $0.reviewerRole, createdAt: $0.createdAt, reviewLinkID: $0.reviewLinkId, guestName: $0.guestName)
            })
    }

    /// A draft with its deliverable and the deliverable's campaign, in one statement (`kol`: the caller's
    /// KOL id, for the campaign's `caller_registered`).
    public func draftWithDeliverable(id: UUID, kol: UUID?, on connection: PostgresConnection) async throws
        -> (DraftRecord, DeliverableRecord, CampaignRecord)?
    {
        for try await row in try await connection.run(DraftWithDeliverable(kolID: kol, draftID: id), logger: logger) {
            var reader = RowReader(row)
            return (
                try Self.draft(from: &reader), try RegistrationStore.deliverable(from: &reader), try CampaignStore.record(from: &reader)
            )
        }
        return nil
    }

    /// Every version of the deliverable that draft `id` belongs to, oldest first, in one statement
    /// (empty when there is no such draft).
    public func versions(ofDraft id: UUID, on connection: PostgresConnection) async throws -> [DraftRecord] {
        try await drafts(Self.versionsQuery(ofDraft: id), on: connection)
    }

    static func versionsQuery(ofDraft id: UUID) -> PostgresQuery {
        """
        SELECT \(unescaped: draftColumns) FROM drafts d
        WHERE d.deliverable_id = (SELECT deliverable_id FROM drafts WHERE id = \(id)) ORDER BY d.version
        """
    }

    public func draft(id: UUID, on connection: PostgresConnection) async throws -> DraftRecord? {
        try await drafts("SELECT \(unescaped: Self.draftColumns) FROM drafts d WHERE d.id = \(id)", on: connection).first
    }

    public func drafts(deliverableID: UUID, on connection: PostgresConnection) async throws -> [DraftRecord] {
        try await drafts(
            "SELECT \(unescaped: Self.draftColumns) FROM drafts d WHERE d.deliverable_id = \(deliverableID) ORDER BY d.version",
            on: connection)
    }

    /// Writes draft version `version` (the caller holds the deliverable's row lock).
    public func createDraft(
        deliverableID: UUID, version: Int, caption: String, media: [Media], notes: String, submittedBy: UUID,
        on connection: PostgresConnection
    ) async throws -> DraftRecord {
        let mediaJSON = String(decoding: try JSONEncoder().encode(media), as: UTF8.self)
        let inserted = try await connection.run(
            """
            INSERT INTO drafts (deliverable_id, version, caption, media, notes, submitted_by)
            VALUES (\(deliverableID), \(version), \(caption), \(mediaJSON)::jsonb, \(notes), \(submittedBy)) RETURNING id
            """, logger: logger)
        var id: UUID?
        for try await value in inserted.decode(UUID.self) { id = value }
        guard let id, let draft = try await draft(id: id, on: connection) else {
            throw KolabError(.internal, "draft insert returned nothing")
        }
        return draft
    }

    /// Writes a review by a user, or by a guest (named by the review link, in the role `brand`).
    public func addReview(
        draftID: UUID, decision: ReviewDecision, message: String, reviewer: Reviewer, on connection: PostgresConnection
    ) async throws -> ReviewRecord {
        let guest = reviewer.guest
        let userID = guest == nil ? reviewer.actor.userID : nil
        let role = reviewer.actor.role
        let inserted = try await connection.run(
            """
            INSERT INTO reviews (draft_id, decision, message, reviewer_id, review_link_id, reviewer_role)
            VALUES (\(draftID), \(decision.rawValue), \(message), \(userID)::uuid, \(guest?.linkID)::uuid, \(role.rawValue))
            RETURNING id, created_at
            """, logger: logger)
        var row: (UUID, Date)?
        for try await value in inserted.decode((UUID, Date).self) { row = value }
        guard let (id, createdAt) = row else { throw KolabError(.internal, "review insert returned nothing") }
        return ReviewRecord(
            id: id, draftID: draftID, decision: decision, message: message, reviewerID: userID, reviewerRole: role, createdAt: createdAt,
            reviewLinkID: guest?.linkID, guestName: guest?.name)
    }

    /// What a transition changes on the deliverable besides its state.
    public struct DeliverableChange: Sendable {
        public var draftVersion: Int?
        public var usedRound = false
        public var extraRound = false
        public var post: (url: String, postedAt: Date)?
        public var clearPost = false
        public var insightsAfterDays: Int?

        public init() {}
    }

    /// Moves the deliverable from `from` to `to` with its side fields, guarded on the state it was read in.
    public func update(
        deliverableID: UUID, from: DeliverableStatus, to: DeliverableStatus, _ change: DeliverableChange,
        on connection: PostgresConnection
    ) async throws -> DeliverableRecord {
        let query = UpdateDeliverable(
            change: DeliverableChangeBindings(to: to, change), deliverableID: deliverableID, from: from.rawValue)
        for try await row in try await connection.run(query, logger: logger) {
            var reader = RowReader(row)
            return try RegistrationStore.deliverable(from: &reader)
        }
        throw KolabError.conflict("The deliverable changed state meanwhile; read it again.")
    }

    /// The transition decided on `deliverable` and `campaign` as read without locks, with its event,
    /// in one statement (`MoveDeliverable`: the lock order, guarded by both rows' revisions). Nil
    /// when either row changed since it was read: nothing was written, decide again.
    func moveAtOnce(
        _ deliverable: DeliverableRecord, of campaign: CampaignRecord, to next: DeliverableStatus, _ change: DeliverableChange,
        by actor: Actor, data: [String: String], on connection: PostgresConnection
    ) async throws -> DeliverableRecord? {
        let statement = MoveDeliverable(
            change: DeliverableChangeBindings(to: next, change), deliverableID: deliverable.id, from: deliverable.status.rawValue,
            deliverableRevision: deliverable.revision, campaignID: campaign.id, campaignRevision: campaign.revision.revision,
            actorID: actor.userID, actorRole: actor.role.rawValue, data: try EventStore.json(data))
        for try await row in try await connection.run(statement, logger: logger) {
            var reader = RowReader(row)
            return try RegistrationStore.deliverable(from: &reader)
        }
        return nil
    }
}
