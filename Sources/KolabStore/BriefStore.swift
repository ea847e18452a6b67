import Foundation
import KolabDomain
import Logging
import PostgresNIO

public struct BriefRecord: Sendable, Equatable {
    public var id: UUID
    public var campaignID: UUID
    public var version: Int
    public var status: BriefStatus
    public var content: BriefContent
    public var createdAt: Date
    public var publishedAt: Date?
}

/// Brief versions: written once, then only published or superseded.
public struct BriefStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    static let columns = """
        b.id, b.campaign_id, b.version, b.status, b.key_messages, b.dos, b.donts, b.hashtags, b.mentions, b.reference_links,
        b.deliverables::text, b.created_at, b.published_at
        """

    static let jsonDecoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    static let jsonEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    private func briefs(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [BriefRecord] {
        var result: [BriefRecord] = []
        for try await row in try await connection.run(query, logger: logger).decode(
            (UUID, UUID, Int, String, [String], [String], [String], [String], [String], [String], String, Date, Date?).self)
        {
            guard let status = BriefStatus(rawValue: row.3) else { throw KolabError(.internal, "unknown brief status \(row.3)") }
            let deliverables = try Self.jsonDecoder.decode([BriefDeliverable].self, from: Data(row.10.utf8))
            result.append(
                BriefRecord(
                    id: row.0, campaignID: row.1, version: row.2, status: status,
                    content: BriefContent(
                        keyMessages: row.4, dos: row.5, donts: row.6, hashtags: row.7, mentions: row.8, references: row.9,
                        deliverables: deliverables),
                    createdAt: row.11, publishedAt: row.12))
        }
        return result
    }

    /// Writes the next version (the caller holds the campaign's row lock, so numbers never collide).
    public func create(campaignID: UUID, _ content: BriefContent, createdBy: UUID, on connection: PostgresConnection) async throws
        -> BriefRecord
    {
        let deliverables = String(decoding: try Self.jsonEncoder.encode(content.deliverables), as: UTF8.self)
        return try await briefs(
            """
            INSERT INTO brief_versions AS b (campaign_id, version, key_messages, dos, donts, hashtags, mentions, reference_links,
                                             deliverables, created_by)
            SELECT \(campaignID), COALESCE(max(version), 0) + 1, \(content.keyMessages), \(content.dos), \(content.donts),
                   \(content.hashtags), \(content.mentions), \(content.references), \(deliverables)::jsonb, \(createdBy)
            FROM brief_versions WHERE campaign_id = \(campaignID)
            RETURNING \(unescaped: Self.columns)
            """, on: connection)[0]
    }

    public func versions(campaignID: UUID, on connection: PostgresConnection) async throws -> [BriefRecord] {
        try await briefs(
            "SELECT \(unescaped: Self.columns) FROM brief_versions b WHERE b.campaign_id = \(campaignID) ORDER BY b.version",
            on: connection)
    }

    public func version(campaignID: UUID, version: Int, lock: Bool = false, on connection: PostgresConnection) async throws
        -> BriefRecord?
    {
        var query = Self.versionQuery(campaignID: campaignID, version: version)
        if lock { query.sql += " FOR UPDATE" }
        return try await briefs(query, on: connection).first
    }

    static func versionQuery(campaignID: UUID, version: Int) -> PostgresQuery {
        "SELECT \(unescaped: columns) FROM brief_versions b WHERE b.campaign_id = \(campaignID) AND b.version = \(version)"
    }

    public func published(campaignID: UUID, on connection: PostgresConnection) async throws -> BriefRecord? {
        try await briefs(
            "SELECT \(unescaped: Self.columns) FROM brief_versions b WHERE b.campaign_id = \(campaignID) AND b.status = 'published'",
            on: connection
        ).first
    }

    /// Publishes a draft version and supersedes the one published before, in one transaction.
    /// Returns the version superseded, if any.
    public func publish(campaignID: UUID, version: Int, on connection: PostgresConnection) async throws -> Int? {
        var superseded: Int?
        for try await old in try await connection.run(
            """
            UPDATE brief_versions SET status = 'superseded'
            WHERE campaign_id = \(campaignID) AND status = 'published' RETURNING version
            """, logger: logger
        ).decode(Int.self) {
            superseded = old
        }
        let rows = try await connection.run(
            """
            UPDATE brief_versions SET status = 'published', published_at = now()
            WHERE campaign_id = \(campaignID) AND version = \(version) AND status = 'draft' RETURNING version
            """, logger: logger
        ).collect()
        guard !rows.isEmpty else { throw KolabError.conflict("Only a draft brief version can be published.") }
        return superseded
    }
}
