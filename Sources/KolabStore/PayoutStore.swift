import Foundation
import KolabDomain
import Logging
import PostgresNIO

public struct InsightsRecord: Sendable, Equatable {
    public var id: UUID
    public var deliverableID: UUID
    public var insights: Insights
    public var status: String
    public var rejectionReason: String?
    public var submittedAt: Date
    public var decidedAt: Date?
}

public struct PayoutRecord: Sendable, Equatable {
    public var id: UUID
    public var registrationID: UUID
    public var campaignID: UUID
    public var kolID: UUID
    public var status: PayoutStatus
    public var breakdown: PayoutBreakdown
    public var batchID: UUID?
    public var bankReference: String?
    public var failureReason: String?
    public var approvedAt: Date?
    public var paidAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    /// Why the payout cannot be batched yet (the KOL's bank details are missing), if so.
    public var holdReason: String?
    public var position: PagePosition
}

public struct BatchRecord: Sendable, Equatable {
    public var id: UUID
    public var payoutCount: Int
    public var totalGrossIdr: Int64
    public var totalTaxIdr: Int64
    public var totalNetIdr: Int64
    public var createdBy: UUID
    public var createdAt: Date
    public var paidCount: Int
    public var failedCount: Int
    public var position: PagePosition

    public var status: PayoutBatchStatus { PayoutBatchMachine.status(payoutCount: payoutCount, paid: paidCount, failed: failedCount) }
}

public struct PayoutFilter: Sendable {
    public var status: PayoutStatus?
    public var campaignID: UUID?
    public var batchID: UUID?

    public init(status: PayoutStatus? = nil, campaignID: UUID? = nil, batchID: UUID? = nil) {
        self.status = status
        self.campaignID = campaignID
        self.batchID = batchID
    }
}

/// Insights, payouts and batches.
public struct PayoutStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    // MARK: Insights

    static let insightsColumns = """
        i.id, i.deliverable_id, i.reach, i.impressions, i.views, i.likes, i.comments, i.shares, i.saves, i.clicks, i.evidence_urls,
        i.status, i.rejection_reason, i.submitted_at, i.decided_at
        """

    func insights(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [InsightsRecord] {
        var result: [InsightsRecord] = []
        for try await r in try await connection.run(query, logger: logger).decode(
            (UUID, UUID, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, [String], String, String?, Date, Date?).self)
        {
            result.append(
                InsightsRecord(
                    id: r.0, deliverableID: r.1,
                    insights: Insights(
                        reach: r.2, impressions: r.3, views: r.4, likes: r.5, comments: r.6, shares: r.7, saves: r.8, clicks: r.9,
                        evidenceUrls: r.10),
                    status: r.11, rejectionReason: r.12, submittedAt: r.13, decidedAt: r.14))
        }
        return result
    }

    public func addInsights(_ i: Insights, deliverableID: UUID, by userID: UUID, on connection: PostgresConnection) async throws
        -> InsightsRecord
    {
        try await insights(
            """
            INSERT INTO insights AS i (deliverable_id, reach, impressions, views, likes, comments, shares, saves, clicks, evidence_urls,
                                       submitted_by)
            VALUES (\(deliverableID), \(i.reach), \(i.impressions), \(i.views), \(i.likes), \(i.comments), \(i.shares), \(i.saves),
                    \(i.clicks), \(i.evidenceUrls), \(userID))
            RETURNING \(unescaped: Self.insightsColumns)
            """, on: connection)[0]
    }

    public func insightsHistory(deliverableID: UUID, on connection: PostgresConnection) async throws -> [InsightsRecord] {
        try await insights(
            "SELECT \(unescaped: Self.insightsColumns) FROM insights i WHERE i.deliverable_id = \(deliverableID) ORDER BY i.submitted_at, i.id",
            on: connection)
    }

    /// Decides the pending submission: `verified`, or `rejected` with a reason.
    public func decideInsights(deliverableID: UUID, verified: Bool, reason: String?, on connection: PostgresConnection) async throws {
        let rows = try await connection.run(
            """
            UPDATE insights SET status = \(verified ? "verified" : "rejected"), rejection_reason = \(reason)::text, decided_at = now()
            WHERE deliverable_id = \(deliverableID) AND status = 'submitted' RETURNING id
            """, logger: logger
        ).collect()
        guard !rows.isEmpty else { throw KolabError.conflict("There are no submitted insights to decide.") }
    }

    /// The verified insights of each deliverable of a registration.
    public func verifiedInsights(registrationID: UUID, on connection: PostgresConnection) async throws -> [Insights] {
        try await insights(
            """
            SELECT \(unescaped: Self.insightsColumns) FROM insights i JOIN deliverables d ON d.id = i.deliverable_id
            WHERE d.registration_id = \(registrationID) AND i.status = 'verified'
            """, on: connection
        ).map(\.insights)
    }

    // MARK: Payouts

    static let payoutColumns = """
        p.id, p.registration_id, p.campaign_id, p.kol_id, p.status, p.fee_idr, p.bonus_idr, p.gross_idr, p.tax_idr, p.net_idr,
        p.metric, p.metric_value, p.rate_idr_per_1000, p.cap_idr, p.withholding_bp, p.batch_id, p.bank_reference, p.failure_reason,
        p.approved_at, p.paid_at, p.created_at, p.updated_at,
        CASE WHEN k.bank_name IS NULL THEN 'bank details missing' END,
        \(Keyset.micros("p.created_at"))
        """

    func payouts(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [PayoutRecord] {
        var result: [PayoutRecord] = []
        for try await row in try await connection.run(query, logger: logger) {
            let r = try row.decode(
                (
                    UUID, UUID, UUID, UUID, String, Int64, Int64, Int64, Int64, Int64, String?, Int64, Int64?, Int64?, Int, UUID?, String?,
                    String?, Date?, Date?, Date, Date, String?, Int64
                ).self)
            guard let status = PayoutStatus(rawValue: r.4) else { throw KolabError(.internal, "unknown payout status \(r.4)") }
            result.append(
                PayoutRecord(
                    id: r.0, registrationID: r.1, campaignID: r.2, kolID: r.3, status: status,
                    breakdown: PayoutBreakdown(
                        feeIdr: r.5, bonusIdr: r.6, grossIdr: r.7, taxIdr: r.8, netIdr: r.9,
                        metric: r.10.flatMap(BonusMetric.init(rawValue:)),
                        metricValue: r.11, rateIdrPer1000: r.12, capIdr: r.13, withholdingBp: r.14),
                    batchID: r.15, bankReference: r.16, failureReason: r.17, approvedAt: r.18, paidAt: r.19, createdAt: r.20,
                    updatedAt: r.21, holdReason: r.22, position: PagePosition(micros: r.23, id: r.0)))
        }
        return result
    }

    /// Stores a calculated payout; the unique constraint keeps it to one per registration.
    public func createPayout(
        registrationID: UUID, campaignID: UUID, kolID: UUID, _ b: PayoutBreakdown, on connection: PostgresConnection
    ) async throws -> UUID {
        var id: UUID?
        for try await value in try await connection.run(
            """
            INSERT INTO payouts (registration_id, campaign_id, kol_id, fee_idr, bonus_idr, gross_idr, tax_idr, net_idr, metric,
                                 metric_value, rate_idr_per_1000, cap_idr, withholding_bp)
            VALUES (\(registrationID), \(campaignID), \(kolID), \(b.feeIdr), \(b.bonusIdr), \(b.grossIdr), \(b.taxIdr), \(b.netIdr),
                    \(b.metric?.rawValue)::text, \(b.metricValue), \(b.rateIdrPer1000)::bigint, \(b.capIdr)::bigint, \(b.withholdingBp))
            RETURNING id
            """, logger: logger
        ).decode(UUID.self) {
            id = value
        }
        guard let id else { throw KolabError(.internal, "payout insert returned nothing") }
        return id
    }

    public func payout(id: UUID, lock: Bool = false, on connection: PostgresConnection) async throws -> PayoutRecord? {
        var query: PostgresQuery = """
            SELECT \(unescaped: Self.payoutColumns) FROM payouts p JOIN kol_profiles k ON k.kol_id = p.kol_id WHERE p.id = \(id)
            """
        if lock { query.sql += " FOR UPDATE OF p" }
        return try await payouts(query, on: connection).first
    }

    public func payout(registrationID: UUID, on connection: PostgresConnection) async throws -> PayoutRecord? {
        try await payouts(
            """
            SELECT \(unescaped: Self.payoutColumns) FROM payouts p JOIN kol_profiles k ON k.kol_id = p.kol_id
            WHERE p.registration_id = \(registrationID)
            """, on: connection
        ).first
    }

    /// Payouts the actor may see: finance and admins all, an officer those of their campaigns, a KOL hers.
    public func list(
        visibleTo actor: Actor, _ filter: PayoutFilter, after position: PagePosition?, limit: Int, on connection: PostgresConnection
    ) async throws -> Page<PayoutRecord> {
        var query = PostgresQuery(
            unsafeSQL: "SELECT \(Self.payoutColumns) FROM payouts p JOIN kol_profiles k ON k.kol_id = p.kol_id WHERE true")
        switch actor.role {
        case .admin, .finance: break
        case .officer:
            let p = query.bind(actor.userID)
            query.sql += " AND p.campaign_id IN (SELECT id FROM campaigns WHERE officer_id = \(p))"
        case .kol:
            let p = query.bind(actor.userID)
            query.sql += " AND p.kol_id = \(p)"
        case .brand:
            query.sql += " AND false"
        }
        if let status = filter.status {
            let p = query.bind(status.rawValue)
            query.sql += " AND p.status = \(p)"
        }
        if let campaignID = filter.campaignID {
            let p = query.bind(campaignID)
            query.sql += " AND p.campaign_id = \(p)"
        }
        if let batchID = filter.batchID {
            let p = query.bind(batchID)
            query.sql += " AND p.id IN (SELECT payout_id FROM payout_batch_lines WHERE batch_id = \(p))"
        }
        Keyset.after(position, createdAt: "p.created_at", id: "p.id", into: &query)
        query.sql += " ORDER BY p.created_at, p.id LIMIT \(query.bind(limit + 1))"
        return Page(fetched: try await payouts(query, on: connection), limit: limit) { $0.position }
    }

    /// Approves a calculated or failed payout (a failed one leaves its old batch for a later one).
    public func approve(id: UUID, from: PayoutStatus, on connection: PostgresConnection) async throws {
        let rows = try await connection.run(
            """
            UPDATE payouts SET status = 'approved', approved_at = now(), batch_id = NULL, failure_reason = NULL, updated_at = now()
            WHERE id = \(id) AND status = \(from.rawValue) RETURNING id
            """, logger: logger
        ).collect()
        guard !rows.isEmpty else { throw KolabError.conflict("The payout changed state meanwhile; read it again.") }
    }

    // MARK: Batches

    static let batchColumns = """
        b.id, b.payout_count, b.total_gross_idr, b.total_tax_idr, b.total_net_idr, b.created_by, b.created_at,
        (SELECT count(*)::int FROM payouts p WHERE p.batch_id = b.id AND p.status = 'paid'),
        (SELECT count(*)::int FROM payout_batch_lines l JOIN payouts p ON p.id = l.payout_id
          WHERE l.batch_id = b.id AND (p.batch_id IS DISTINCT FROM b.id OR p.status = 'failed')),
        \(Keyset.micros("b.created_at"))
        """

    func batches(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [BatchRecord] {
        var result: [BatchRecord] = []
        for try await r in try await connection.run(query, logger: logger).decode(
            (UUID, Int, Int64, Int64, Int64, UUID, Date, Int, Int, Int64).self)
        {
            result.append(
                BatchRecord(
                    id: r.0, payoutCount: r.1, totalGrossIdr: r.2, totalTaxIdr: r.3, totalNetIdr: r.4, createdBy: r.5, createdAt: r.6,
                    paidCount: r.7, failedCount: r.8, position: PagePosition(micros: r.9, id: r.0)))
        }
        return result
    }

    public func batch(id: UUID, on connection: PostgresConnection) async throws -> BatchRecord? {
        try await batches("SELECT \(unescaped: Self.batchColumns) FROM payout_batches b WHERE b.id = \(id)", on: connection).first
    }

    public func listBatches(after position: PagePosition?, limit: Int, on connection: PostgresConnection) async throws -> Page<BatchRecord>
    {
        var query: PostgresQuery = "SELECT \(unescaped: Self.batchColumns) FROM payout_batches b WHERE true"
        Keyset.after(position, createdAt: "b.created_at", id: "b.id", into: &query)
        query.sql += " ORDER BY b.created_at, b.id LIMIT \(query.bind(limit + 1))"
        return Page(fetched: try await batches(query, on: connection), limit: limit) { $0.position }
    }

    /// Takes every approved, unbatched payout whose KOL has bank details into a new batch, in one
    /// statement. Rows another batch is taking right now are skipped (`SKIP LOCKED`), so two batches
    /// made at the same moment never share a payout. Returns nil when nothing is left to take.
    public func createBatch(by userID: UUID, on connection: PostgresConnection) async throws -> UUID? {
        var batchID: UUID?
        for try await id in try await connection.run(
            """
            WITH picked AS (                                   -- 1. claim the payouts, skipping rows being batched elsewhere
                SELECT p.id, p.gross_idr, p.tax_idr, p.net_idr, p.created_at
                FROM payouts p JOIN kol_profiles k ON k.kol_id = p.kol_id
                WHERE p.status = 'approved' AND p.batch_id IS NULL AND k.bank_name IS NOT NULL
                ORDER BY p.created_at, p.id
                FOR UPDATE OF p SKIP LOCKED
            ), batch AS (                                      -- 2. the batch and its totals (none when nothing was claimed)
                INSERT INTO payout_batches (payout_count, total_gross_idr, total_tax_idr, total_net_idr, created_by)
                SELECT count(*), sum(gross_idr)::bigint, sum(tax_idr)::bigint, sum(net_idr)::bigint, \(userID)
                FROM picked HAVING count(*) > 0
                RETURNING id
            ), lines AS (                                      -- 3. the bank file's lines, frozen now
                INSERT INTO payout_batch_lines (batch_id, line, payout_id, amount_idr, bank_code, account_name, account_number,
                                                description, email, csv)
                SELECT batch.id, row_number() OVER (ORDER BY picked.created_at, picked.id), picked.id, picked.net_idr,
                       k.bank_code, k.account_holder, k.account_number, left('Kolab ' || c.title, 100), u.email,
                       bank_file_line(picked.id, picked.net_idr, k.bank_code, k.account_holder, k.account_number,
                                      left('Kolab ' || c.title, 100), u.email)
                FROM picked CROSS JOIN batch
                JOIN payouts p ON p.id = picked.id
                JOIN kol_profiles k ON k.kol_id = p.kol_id
                JOIN users u ON u.id = p.kol_id
                JOIN campaigns c ON c.id = p.campaign_id
            ), moved AS (                                      -- 4. the payouts move to exported, in this batch only
                UPDATE payouts p SET status = 'exported', batch_id = batch.id, updated_at = now()
                FROM picked CROSS JOIN batch WHERE p.id = picked.id
            )
            SELECT id FROM batch
            """, logger: logger
        ).decode(UUID.self) {
            batchID = id
        }
        return batchID
    }

    /// Settles exported payouts of a batch: all of them or none (409 naming those that cannot).
    public func settle(
        batchID: UUID, payoutIDs: [UUID], paid: Bool, bankReference: String?, reason: String?, on connection: PostgresConnection
    ) async throws -> [UUID] {
        var moved: [UUID] = []
        for try await id in try await connection.run(
            """
            UPDATE payouts SET status = \(paid ? "paid" : "failed"), bank_reference = \(bankReference)::text,
                paid_at = CASE WHEN \(paid) THEN now() END, failure_reason = \(reason)::text, updated_at = now()
            WHERE id = ANY(\(payoutIDs)) AND batch_id = \(batchID) AND status = 'exported'
            RETURNING id
            """, logger: logger
        ).decode(UUID.self) {
            moved.append(id)
        }
        let missing = Set(payoutIDs).subtracting(moved)
        guard missing.isEmpty else {
            throw KolabError.conflict(
                "These payouts are not awaiting settlement in this batch: \(missing.map { $0.uuidString.lowercased() }.sorted().joined(separator: ", "))."
            )
        }
        return moved
    }
}

extension PayoutStore {
    /// Streams a batch's bank-file lines, as stored, in order: `emit` gets a chunk of raw bytes at a
    /// time (about 64 KiB), so memory holds a chunk, never the batch.
    public func streamLines(batchID: UUID, on connection: PostgresConnection, _ emit: (ByteBuffer) async throws -> Void) async throws {
        // 512 lines per row, joined by PostgreSQL in line order: a row per line cost the service more
        // than the lines' bytes (100,000 rows of 100 bytes; 0.74 of COPY's rate, issue 18). Each row
        // is one chunk of the response, so memory stays at one chunk whatever the batch's size.
        var chunk = ByteBuffer()
        chunk.reserveCapacity(1 << 16)
        for try await row in try await connection.run(
            """
            SELECT string_agg(csv, '' ORDER BY line) FROM payout_batch_lines WHERE batch_id = \(batchID)
            GROUP BY (line - 1) / 512 ORDER BY (line - 1) / 512
            """, logger: logger
        ) {
            var lines = try row.decode(ByteBuffer.self)
            chunk.writeBuffer(&lines)
            if chunk.readableBytes >= 1 << 15 {
                try await emit(chunk)
                chunk = ByteBuffer()
                chunk.reserveCapacity(1 << 16)
            }
        }
        if chunk.readableBytes > 0 { try await emit(chunk) }
    }
}

/// Who and what a payout is for, as finance's pages name it.
public struct PayoutLabel: Sendable, Equatable {
    public var kolName: String
    public var campaignTitle: String
}

/// One line of a batch's bank file as it was frozen when the batch was made.
public struct BatchLine: Sendable, Equatable {
    public var line: Int
    public var payoutID: UUID
    public var amountIdr: Int64
    public var bankCode: String
    public var accountName: String
    public var accountNumber: String
}

extension PayoutStore {
    /// The KOL's name and the campaign's title of each payout, for pages that list payouts by them.
    public func labels(payoutIDs: [UUID], on connection: PostgresConnection) async throws -> [UUID: PayoutLabel] {
        var labels: [UUID: PayoutLabel] = [:]
        for try await (id, name, title) in try await connection.run(
            """
            SELECT p.id, k.full_name, c.title FROM payouts p
            JOIN kol_profiles k ON k.kol_id = p.kol_id JOIN campaigns c ON c.id = p.campaign_id
            WHERE p.id = ANY(\(payoutIDs))
            """, logger: logger
        ).decode((UUID, String, String).self) {
            labels[id] = PayoutLabel(kolName: name, campaignTitle: title)
        }
        return labels
    }

    /// A batch's lines in file order, with the bank details they were exported with.
    public func batchLines(batchID: UUID, on connection: PostgresConnection) async throws -> [BatchLine] {
        var lines: [BatchLine] = []
        for try await r in try await connection.run(
            """
            SELECT line, payout_id, amount_idr, bank_code, account_name, account_number
            FROM payout_batch_lines WHERE batch_id = \(batchID) ORDER BY line
            """, logger: logger
        ).decode((Int, UUID, Int64, String, String, String).self) {
            lines.append(BatchLine(line: r.0, payoutID: r.1, amountIdr: r.2, bankCode: r.3, accountName: r.4, accountNumber: r.5))
        }
        return lines
    }
}
