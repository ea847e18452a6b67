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
        // Read cell by cell: the 14-column tuple decode cost a quarter of the service's CPU on a
        // 2,000-KOL report (generic metadata and tuple copies per row; perf, issue 18).
        for try await row in rows {
            var r = RowReader(row)
            let kind: String = try r.next(), status: String? = try r.next(), count: Int? = try r.next()
            switch kind {
            case "r": report.registrationFunnel[status ?? ""] = count ?? 0
            case "d": report.deliverableFunnel[status ?? ""] = count ?? 0
            case "k":
                let kolID: UUID? = try r.next(), fullName: String? = try r.next(), completed: Int? = try r.next()
                let reach: Int64? = try r.next(), impressions: Int64? = try r.next(), views: Int64? = try r.next()
                let engagements: Int64? = try r.next(), payoutStatus: String? = try r.next()
                let gross: Int64? = try r.next(), net: Int64? = try r.next()
                guard let kolID else { continue }
                report.rows.append(
                    ReportRow(
                        kolID: kolID, fullName: fullName ?? "", registrationStatus: status ?? "", deliverables: count ?? 0,
                        deliverablesCompleted: completed ?? 0, reach: reach ?? 0, impressions: impressions ?? 0, views: views ?? 0,
                        engagements: engagements ?? 0, payoutStatus: payoutStatus, grossIdr: gross ?? 0, netIdr: net ?? 0))
            default:
                r.skip(10)  // the KOL columns, empty on the median's row (the statement's 14th column)
                report.medianDaysToPayment = try r.next(Double?.self)
            }
        }
        return report
    }
}
