import Foundation
import KolabDomain
import Logging
import PostgresNIO

/// One KOL's line of a campaign report.
public struct ReportRow: Sendable, Equatable {
    public var kolID: UUID
    public var fullName: String
    public var registrationStatus: String
    public var deliverables: Int
    public var deliverablesCompleted: Int
    public var reach: Int64
    public var impressions: Int64
    public var views: Int64
    public var engagements: Int64
    public var payoutStatus: String?
    public var grossIdr: Int64
    public var netIdr: Int64
}

public struct ReportData: Sendable {
    public var registrationFunnel: [String: Int]
    public var deliverableFunnel: [String: Int]
    public var rows: [ReportRow]
    public var medianDaysToPayment: Double?
}

/// The figures of a campaign report, read in four statements whatever the number of KOLs.
public struct ReportStore: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Registrations and deliverables by state for each of `campaignIDs` (the console's campaign lists).
    public func funnels(campaignIDs: [UUID], on connection: PostgresConnection) async throws
        -> [UUID: (registrations: [String: Int], deliverables: [String: Int])]
    {
        var result: [UUID: (registrations: [String: Int], deliverables: [String: Int])] = [:]
        guard !campaignIDs.isEmpty else { return result }
        let rows = try await connection.run(
            """
            SELECT 'r', campaign_id, status, count(*)::int FROM registrations WHERE campaign_id = ANY(\(campaignIDs)) GROUP BY 2, 3
            UNION ALL
            SELECT 'd', campaign_id, status, count(*)::int FROM deliverables WHERE campaign_id = ANY(\(campaignIDs)) GROUP BY 2, 3
            """, logger: logger)
        for try await (kind, campaignID, status, count) in rows.decode((String, UUID, String, Int).self) {
            var entry = result[campaignID] ?? ([:], [:])
            if kind == "r" { entry.registrations[status] = count } else { entry.deliverables[status] = count }
            result[campaignID] = entry
        }
        return result
    }

    /// `onlyKol` narrows everything to one KOL's own figures (what a KOL may read).
    public func report(campaignID: UUID, onlyKol: UUID?, on connection: PostgresConnection) async throws -> ReportData {
        var registrationFunnel: [String: Int] = [:]
        for try await (status, count) in try await connection.run(
            """
            SELECT status, count(*)::int FROM registrations
            WHERE campaign_id = \(campaignID) AND (\(onlyKol)::uuid IS NULL OR kol_id = \(onlyKol)::uuid) GROUP BY status
            """, logger: logger
        ).decode((String, Int).self) {
            registrationFunnel[status] = count
        }
        var deliverableFunnel: [String: Int] = [:]
        for try await (status, count) in try await connection.run(
            """
            SELECT status, count(*)::int FROM deliverables
            WHERE campaign_id = \(campaignID) AND (\(onlyKol)::uuid IS NULL OR kol_id = \(onlyKol)::uuid) GROUP BY status
            """, logger: logger
        ).decode((String, Int).self) {
            deliverableFunnel[status] = count
        }
        var rows: [ReportRow] = []
        for try await r in try await connection.run(
            """
            SELECT r.kol_id, k.full_name, r.status,
                   (SELECT count(*)::int FROM deliverables d WHERE d.registration_id = r.id AND d.status <> 'cancelled'),
                   (SELECT count(*)::int FROM deliverables d WHERE d.registration_id = r.id AND d.status = 'completed'),
                   COALESCE(i.reach, 0)::bigint, COALESCE(i.impressions, 0)::bigint, COALESCE(i.views, 0)::bigint,
                   COALESCE(i.engagements, 0)::bigint,
                   p.status, COALESCE(p.gross_idr, 0), COALESCE(p.net_idr, 0)
            FROM registrations r
            JOIN kol_profiles k ON k.kol_id = r.kol_id
            LEFT JOIN LATERAL (
                SELECT sum(x.reach) AS reach, sum(x.impressions) AS impressions, sum(x.views) AS views,
                       sum(x.likes + x.comments + x.shares + x.saves) AS engagements
                FROM insights x JOIN deliverables d ON d.id = x.deliverable_id
                WHERE d.registration_id = r.id AND x.status = 'verified'
            ) i ON true
            LEFT JOIN payouts p ON p.registration_id = r.id
            WHERE r.campaign_id = \(campaignID) AND (\(onlyKol)::uuid IS NULL OR r.kol_id = \(onlyKol)::uuid)
              AND EXISTS (SELECT 1 FROM deliverables d WHERE d.registration_id = r.id)
            ORDER BY k.full_name, r.kol_id
            """, logger: logger
        ).decode((UUID, String, String, Int, Int, Int64, Int64, Int64, Int64, String?, Int64, Int64).self) {
            rows.append(
                ReportRow(
                    kolID: r.0, fullName: r.1, registrationStatus: r.2, deliverables: r.3, deliverablesCompleted: r.4, reach: r.5,
                    impressions: r.6, views: r.7, engagements: r.8, payoutStatus: r.9, grossIdr: r.10, netIdr: r.11))
        }
        var median: Double?
        for try await value in try await connection.run(
            """
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (paid_at - created_at)) / 86400.0)
            FROM payouts WHERE campaign_id = \(campaignID) AND status = 'paid' AND (\(onlyKol)::uuid IS NULL OR kol_id = \(onlyKol)::uuid)
            """, logger: logger
        ).decode(Double?.self) {
            median = value
        }
        return ReportData(
            registrationFunnel: registrationFunnel, deliverableFunnel: deliverableFunnel, rows: rows, medianDaysToPayment: median)
    }
}
