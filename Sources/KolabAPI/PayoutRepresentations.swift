import Foundation
import KolabDomain
import KolabStore

struct InsightsResponse: Encodable, Sendable {
    var id: UUID
    var deliverableId: UUID
    var reach: Int64
    var impressions: Int64
    var views: Int64
    var likes: Int64
    var comments: Int64
    var shares: Int64
    var saves: Int64
    var clicks: Int64
    var engagements: Int64
    var evidenceUrls: [String]
    var status: String
    @ExplicitNull var rejectionReason: String?
    var submittedAt: Date
    @ExplicitNull var decidedAt: Date?

    init(_ r: InsightsRecord) {
        id = r.id
        deliverableId = r.deliverableID
        reach = r.insights.reach
        impressions = r.insights.impressions
        views = r.insights.views
        likes = r.insights.likes
        comments = r.insights.comments
        shares = r.insights.shares
        saves = r.insights.saves
        clicks = r.insights.clicks
        engagements = r.insights.engagements
        evidenceUrls = r.insights.evidenceUrls
        status = r.status
        rejectionReason = r.rejectionReason
        submittedAt = r.submittedAt
        decidedAt = r.decidedAt
    }
}

struct PayoutResponse: Encodable, Sendable {
    struct Breakdown: Encodable, Sendable {
        @ExplicitNull var metric: BonusMetric?
        var metricValue: Int64
        @ExplicitNull var rateIdrPer1000: Int64?
        @ExplicitNull var capIdr: Int64?
        var withholdingBp: Int
    }

    var id: UUID
    var registrationId: UUID
    var campaignId: UUID
    var kolId: UUID
    var status: PayoutStatus
    var feeIdr: Int64
    var bonusIdr: Int64
    var grossIdr: Int64
    var taxIdr: Int64
    var netIdr: Int64
    var breakdown: Breakdown
    @ExplicitNull var batchId: UUID?
    @ExplicitNull var bankReference: String?
    @ExplicitNull var failureReason: String?
    /// Set while the payout cannot be batched (the KOL's bank details are missing).
    @ExplicitNull var holdReason: String?
    @ExplicitNull var approvedAt: Date?
    @ExplicitNull var paidAt: Date?
    var createdAt: Date
    var updatedAt: Date

    init(_ p: PayoutRecord) {
        id = p.id
        registrationId = p.registrationID
        campaignId = p.campaignID
        kolId = p.kolID
        status = p.status
        feeIdr = p.breakdown.feeIdr
        bonusIdr = p.breakdown.bonusIdr
        grossIdr = p.breakdown.grossIdr
        taxIdr = p.breakdown.taxIdr
        netIdr = p.breakdown.netIdr
        breakdown = Breakdown(
            metric: p.breakdown.metric, metricValue: p.breakdown.metricValue,
            rateIdrPer1000: p.breakdown.rateIdrPer1000, capIdr: p.breakdown.capIdr,
            withholdingBp: p.breakdown.withholdingBp)
        batchId = p.batchID
        bankReference = p.bankReference
        failureReason = p.failureReason
        holdReason = p.holdReason
        approvedAt = p.approvedAt
        paidAt = p.paidAt
        createdAt = p.createdAt
        updatedAt = p.updatedAt
    }
}

struct BatchResponse: Encodable, Sendable {
    var id: UUID
    var status: PayoutBatchStatus
    var payoutCount: Int
    var paidCount: Int
    var failedCount: Int
    var totalGrossIdr: Int64
    var totalTaxIdr: Int64
    var totalNetIdr: Int64
    var createdAt: Date
    var createdBy: UUID

    init(_ b: BatchRecord) {
        id = b.id
        status = b.status
        payoutCount = b.payoutCount
        paidCount = b.paidCount
        failedCount = b.failedCount
        totalGrossIdr = b.totalGrossIdr
        totalTaxIdr = b.totalTaxIdr
        totalNetIdr = b.totalNetIdr
        createdAt = b.createdAt
        createdBy = b.createdBy
    }
}

struct ReportResponse: JSONWritable, Sendable {
    struct Totals: Sendable {
        var reach: Int64
        var impressions: Int64
        var views: Int64
        var engagements: Int64
        var engagementRate: Double?
        var costGrossIdr: Int64
        var costNetIdr: Int64
        var cpmIdr: Int64?
        var cpeIdr: Int64?
        var medianDaysToPayment: Double?
    }

    struct Row: Sendable {
        var kolId: UUID
        var fullName: String
        var registrationStatus: String
        var deliverables: Int
        var deliverablesCompleted: Int
        var reach: Int64
        var impressions: Int64
        var views: Int64
        var engagements: Int64
        var engagementRate: Double?
        var payoutStatus: String?
        var grossIdr: Int64
        var netIdr: Int64
        var cpmIdr: Int64?
        var cpeIdr: Int64?
    }

    var campaignId: UUID
    /// Counts per status, every status present (in the order of the enums), under `registrations` and `deliverables`.
    var registrationFunnel: [(status: String, count: Int)]
    var deliverableFunnel: [(status: String, count: Int)]
    var totals: Totals
    var kols: [Row]

    init(campaignID: UUID, _ data: ReportData) {
        campaignId = campaignID
        registrationFunnel = RegistrationStatus.allCases.map { ($0.rawValue, data.registrationFunnel[$0.rawValue] ?? 0) }
        deliverableFunnel = DeliverableStatus.allCases.map { ($0.rawValue, data.deliverableFunnel[$0.rawValue] ?? 0) }
        let reach = ReportMath.sum(data.rows.map(\.reach))
        let impressions = ReportMath.sum(data.rows.map(\.impressions))
        let engagements = ReportMath.sum(data.rows.map(\.engagements))
        let gross = ReportMath.sum(data.rows.map(\.grossIdr))
        totals = Totals(
            reach: reach, impressions: impressions, views: ReportMath.sum(data.rows.map(\.views)), engagements: engagements,
            engagementRate: ReportMath.engagementRate(engagements: engagements, reach: reach), costGrossIdr: gross,
            costNetIdr: ReportMath.sum(data.rows.map(\.netIdr)),
            cpmIdr: ReportMath.cpm(grossIdr: gross, impressions: impressions),
            cpeIdr: ReportMath.cpe(grossIdr: gross, engagements: engagements),
            medianDaysToPayment: data.medianDaysToPayment.map { ($0 * 100).rounded() / 100 })
        kols = data.rows.map { r in
            Row(
                kolId: r.kolID, fullName: r.fullName, registrationStatus: r.registrationStatus, deliverables: r.deliverables,
                deliverablesCompleted: r.deliverablesCompleted, reach: r.reach, impressions: r.impressions, views: r.views,
                engagements: r.engagements,
                engagementRate: ReportMath.engagementRate(engagements: r.engagements, reach: r.reach),
                payoutStatus: r.payoutStatus, grossIdr: r.grossIdr, netIdr: r.netIdr,
                cpmIdr: ReportMath.cpm(grossIdr: r.grossIdr, impressions: r.impressions),
                cpeIdr: ReportMath.cpe(grossIdr: r.grossIdr, engagements: r.engagements))
        }
    }
}

// Hand-written (see `JSONWritable`): a 2,000-KOL report is 700 KB of JSON; keys as in openapi.json.
extension ReportResponse {
    func writeJSON(to writer: JSONStreamWriter) {
        writer.writeObject { o in
            o.field("campaign_id", campaignId)
            o.object("funnel") { f in
                f.object("registrations") { counts in for (status, count) in registrationFunnel { counts.field(named: status, count) } }
                f.object("deliverables") { counts in for (status, count) in deliverableFunnel { counts.field(named: status, count) } }
            }
            o.object("totals") { t in
                t.field("reach", totals.reach)
                t.field("impressions", totals.impressions)
                t.field("views", totals.views)
                t.field("engagements", totals.engagements)
                t.field("engagement_rate", totals.engagementRate)
                t.field("cost_gross_idr", totals.costGrossIdr)
                t.field("cost_net_idr", totals.costNetIdr)
                t.field("cpm_idr", totals.cpmIdr)
                t.field("cpe_idr", totals.cpeIdr)
                t.field("median_days_to_payment", totals.medianDaysToPayment)
            }
            o.key("kols")
            writer.writeArray(kols) { r in
                writer.writeObject { k in
                    k.field("kol_id", r.kolId)
                    k.field("full_name", r.fullName)
                    k.field("registration_status", r.registrationStatus)
                    k.field("deliverables", r.deliverables)
                    k.field("deliverables_completed", r.deliverablesCompleted)
                    k.field("reach", r.reach)
                    k.field("impressions", r.impressions)
                    k.field("views", r.views)
                    k.field("engagements", r.engagements)
                    k.field("engagement_rate", r.engagementRate)
                    k.field("payout_status", r.payoutStatus)
                    k.field("gross_idr", r.grossIdr)
                    k.field("net_idr", r.netIdr)
                    k.field("cpm_idr", r.cpmIdr)
                    k.field("cpe_idr", r.cpeIdr)
                }
            }
        }
    }
}
