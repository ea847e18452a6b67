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

/// The figures of a campaign report, read in one statement whatever the number of KOLs.
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

    /// `onlyKol` narrows everything to one KOL's own figures (what a KOL may read). One statement
    /// (`CampaignReport`), one round trip, whatever the number of KOLs.
    public func report(campaignID: UUID, onlyKol: UUID?, on connection: PostgresConnection) async throws -> ReportData {
        var report = ReportData(registrationFunnel: [:], deliverableFunnel: [:], rows: [], medianDaysToPayment: nil)
        // Unnamed, so PostgreSQL plans it with this campaign's id every time: its generic plan (what a
        // prepared statement switches to after five runs) took 1.4 s for a 2,000-KOL campaign against
        // 20 ms planned for the values (`plan_cache_mode = force_generic_plan` on the bench dataset).
        // A report is not a hot path; a few milliseconds of planning buy the right plan.
        let statement = CampaignReport(campaignID: campaignID, onlyKol: onlyKol)
        let rows = try await connection.query(
            PostgresQuery(unsafeSQL: CampaignReport.sql, binds: statement.makeBindings()), logger: logger)
        for try await r in rows.decode(
            (String, String?, Int?, UUID?, String?, Int?, Int64?, Int64?, Int64?, Int64?, String?, Int64?, Int64?, Double?).self)
        {
            switch r.0 {
            case "r": report.registrationFunnel[r.1 ?? ""] = r.2 ?? 0
            case "d": report.deliverableFunnel[r.1 ?? ""] = r.2 ?? 0
            case "k":
                guard let kolID = r.3 else { continue }
                report.rows.append(
                    ReportRow(
                        kolID: kolID, fullName: r.4 ?? "", registrationStatus: r.1 ?? "", deliverables: r.2 ?? 0,
                        deliverablesCompleted: r.5 ?? 0, reach: r.6 ?? 0, impressions: r.7 ?? 0, views: r.8 ?? 0, engagements: r.9 ?? 0,
                        payoutStatus: r.10, grossIdr: r.11 ?? 0, netIdr: r.12 ?? 0))
            default: report.medianDaysToPayment = r.13
            }
        }
        return report
    }
}
