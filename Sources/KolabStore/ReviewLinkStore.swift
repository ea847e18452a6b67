import Crypto
import Foundation
import KolabDomain
import Logging
import PostgresNIO

public struct ReviewLinkRecord: Sendable, Equatable {
    public var id: UUID
    public var campaignID: UUID
    public var reviewerName: String
    public var reviewerEmail: String
    public var expiresAt: Date
    public var revokedAt: Date?
    public var createdBy: UUID
    public var createdAt: Date
    /// The campaign's brand and title, which a guest's pages need.
    public var brandID: UUID
    public var campaignTitle: String
    /// Neither revoked nor expired, by the database's clock when it was read.
    public var live: Bool
    public var position: PagePosition

    /// The holder of this link as a reviewer.
    public var guest: GuestReviewer {
        GuestReviewer(linkID: id, campaignID: campaignID, brandID: brandID, name: reviewerName, email: reviewerEmail)
    }
}

/// Someone without an account who holds a live review link: a reviewer of one campaign's drafts.
public struct GuestReviewer: Sendable, Equatable {
    public var linkID: UUID
    public var campaignID: UUID
    public var brandID: UUID
    public var name: String
    public var email: String

    public init(linkID: UUID, campaignID: UUID, brandID: UUID, name: String, email: String) {
        self.linkID = linkID
        self.campaignID = campaignID
        self.brandID = brandID
        self.name = name
        self.email = email
    }

    /// How the rules see a guest: a user of the campaign's brand. Its id is the link's, so it is
    /// never written where a user's id goes (reviews and events name the link instead); the web
    /// console scopes a guest's idempotency keys with it.
    public var actor: Actor { Actor(userID: linkID, role: .brand, brandID: brandID) }
}

/// Who reviews a draft: a signed-in user, or a guest holding a review link (a brand review).
public enum Reviewer: Sendable, Equatable {
    case user(Actor)
    case guest(GuestReviewer)

    /// As visibility and the deliverable machine see the reviewer.
    public var actor: Actor {
        switch self {
        case .user(let actor): actor
        case .guest(let guest): guest.actor
        }
    }

    public var guest: GuestReviewer? {
        if case .guest(let guest) = self { return guest }
        return nil
    }
}

/// The review link is revoked or expired (the guest's pages answer 410 Gone).
public struct ReviewLinkGone: Error, Sendable {
    public init() {}
}

/// Review links (sql/0014_review_links.sql): stored by the SHA-256 of their token only.
public struct ReviewLinkStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// A new link's token: 32 random bytes (the system's cryptographic generator), base64url.
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The only form in which a token is stored or looked up.
    static func hash(token: String) -> ByteBuffer {
        ByteBuffer(bytes: SHA256.hash(data: Data(token.utf8)))
    }

    static let columns = """
        l.id, l.campaign_id, l.reviewer_name, l.reviewer_email, l.expires_at, l.revoked_at, l.created_by, l.created_at,
        c.brand_id, c.title, (l.revoked_at IS NULL AND l.expires_at > now()), \(Keyset.micros("l.created_at"))
        """

    private func links(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [ReviewLinkRecord] {
        var result: [ReviewLinkRecord] = []
        for try await row in try await connection.run(query, logger: logger) {
            var r = RowReader(row)
            let id: UUID = try r.next(), campaignID: UUID = try r.next(), name: String = try r.next(), email: String = try r.next()
            let expiresAt: Date = try r.next(), revokedAt: Date? = try r.next(), createdBy: UUID = try r.next()
            let createdAt: Date = try r.next(), brandID: UUID = try r.next(), title: String = try r.next(), live: Bool = try r.next()
            let micros: Int64 = try r.next()
            result.append(
                ReviewLinkRecord(
                    id: id, campaignID: campaignID, reviewerName: name, reviewerEmail: email, expiresAt: expiresAt, revokedAt: revokedAt,
                    createdBy: createdBy, createdAt: createdAt, brandID: brandID, campaignTitle: title, live: live,
                    position: PagePosition(micros: micros, id: id)))
        }
        return result
    }

    /// Stores a link made at `now` (the instant its lifetime was checked against, so that the
    /// database's 30-day rule measures from the same one).
    public func create(
        token: String, campaignID: UUID, reviewerName: String, reviewerEmail: String, expiresAt: Date, now: Date, createdBy: UUID,
        on connection: PostgresConnection
    ) async throws -> ReviewLinkRecord {
        try await links(
            """
            WITH l AS (
                INSERT INTO review_links (token_hash, campaign_id, reviewer_name, reviewer_email, expires_at, created_by, created_at)
                VALUES (\(Self.hash(token: token)), \(campaignID), \(reviewerName), \(reviewerEmail), \(expiresAt), \(createdBy), \(now))
                RETURNING id, campaign_id, reviewer_name, reviewer_email, expires_at, revoked_at, created_by, created_at)
            SELECT \(unescaped: Self.columns) FROM l JOIN campaigns c ON c.id = l.campaign_id
            """, on: connection)[0]
    }

    /// The link whose token this is (live or not), or nil for a token no link has.
    public func link(token: String, on connection: PostgresConnection) async throws -> ReviewLinkRecord? {
        try await links(
            """
            SELECT \(unescaped: Self.columns) FROM review_links l JOIN campaigns c ON c.id = l.campaign_id
            WHERE l.token_hash = \(Self.hash(token: token))
            """, on: connection
        ).first
    }

    /// One link; `lock` takes its row for a change (`FOR NO KEY UPDATE`).
    public func link(id: UUID, lock: Bool = false, on connection: PostgresConnection) async throws -> ReviewLinkRecord? {
        try await links(
            """
            SELECT \(unescaped: Self.columns) FROM review_links l JOIN campaigns c ON c.id = l.campaign_id
            WHERE l.id = \(id)\(unescaped: lock ? " FOR NO KEY UPDATE OF l" : "")
            """, on: connection
        ).first
    }

    /// Holds a live link against a revoke until the transaction ends (`FOR SHARE`): a revoke that
    /// committed first is seen here (`ReviewLinkGone`), one that comes later waits.
    public func lockLive(id: UUID, on connection: PostgresConnection) async throws {
        let rows = try await connection.run(
            "SELECT revoked_at IS NULL AND expires_at > now() FROM review_links WHERE id = \(id) FOR SHARE", logger: logger)
        var live = false
        for try await value in rows.decode(Bool.self) { live = value }
        guard live else { throw ReviewLinkGone() }
    }

    /// A campaign's links, newest first (the one just made is the one looked for).
    public func list(campaignID: UUID, after position: PagePosition?, limit: Int, on connection: PostgresConnection) async throws
        -> Page<ReviewLinkRecord>
    {
        var query = PostgresQuery(
            unsafeSQL: "SELECT \(Self.columns) FROM review_links l JOIN campaigns c ON c.id = l.campaign_id WHERE l.campaign_id = $1")
        query.binds.append(campaignID)
        Keyset.before(position, createdAt: "l.created_at", id: "l.id", into: &query)
        query.sql += " ORDER BY l.created_at DESC, l.id DESC LIMIT \(query.bind(limit + 1))"
        return Page(fetched: try await links(query, on: connection), limit: limit) { $0.position }
    }

    /// Revokes the link now; one already revoked keeps its first revocation time.
    public func revoke(id: UUID, on connection: PostgresConnection) async throws {
        try await connection.run(
            "UPDATE review_links SET revoked_at = now() WHERE id = \(id) AND revoked_at IS NULL", logger: logger)
    }

    /// Deletes the links that expired or were revoked more than `age` ago, but for those a review
    /// names (a review keeps its author; such a link's token no longer opens anything).
    public func purgeEnded(olderThan age: Duration, on connection: PostgresConnection) async throws -> Int {
        let rows = try await connection.run(
            """
            WITH gone AS (
                DELETE FROM review_links l
                WHERE least(l.expires_at, l.revoked_at) <= now() - \(Int(age.components.seconds)) * interval '1 second'
                  AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.review_link_id = l.id)
                RETURNING 1)
            SELECT count(*)::int FROM gone
            """, logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }
}
