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
    var rejectionReason: NullEncoded<String>
    var submittedAt: Date
    var decidedAt: NullEncoded<Date>

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
        rejectionReason = NullEncoded(r.rejectionReason)
        submittedAt = r.submittedAt
        decidedAt = NullEncoded(r.decidedAt)
    }
}

struct PayoutResponse: Encodable, Sendable {
    struct Breakdown: Encodable, Sendable {
        var metric: NullEncoded<BonusMetric>
        var metricValue: Int64
        var rateIdrPer1000: NullEncoded<Int64>
        var capIdr: NullEncoded<Int64>
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
    var batchId: NullEncoded<UUID>
    var bankReference: NullEncoded<String>
    var failureReason: NullEncoded<String>
    /// Set while the payout cannot be batched (the KOL's bank details are missing).
    var holdReason: NullEncoded<String>
    var approvedAt: NullEncoded<Date>
    var paidAt: NullEncoded<Date>
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
            metric: NullEncoded(p.breakdown.metric), metricValue: p.breakdown.metricValue,
            rateIdrPer1000: NullEncoded(p.breakdown.rateIdrPer1000), capIdr: NullEncoded(p.breakdown.capIdr),
            withholdingBp: p.breakdown.withholdingBp)
        batchId = NullEncoded(p.batchID)
        bankReference = NullEncoded(p.bankReference)
        failureReason = NullEncoded(p.failureReason)
        holdReason = NullEncoded(p.holdReason)
        approvedAt = NullEncoded(p.approvedAt)
        paidAt = NullEncoded(p.paidAt)
        createdAt = p.createdAt
        updatedAt = p.updatedAt
    }
}

struct BatchResponse: Encodable, Sendable {
    var id: UUID
    var status: String
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

struct ReportResponse: Encodable, Sendable {
    struct Totals: Encodable, Sendable {
        var reach: Int64
        var impressions: Int64
        var views: Int64
        var engagements: Int64
        var engagementRate: NullEncoded<Double>
        var costGrossIdr: Int64
        var costNetIdr: Int64
        var cpmIdr: NullEncoded<Int64>
        var cpeIdr: NullEncoded<Int64>
        var medianDaysToPayment: NullEncoded<Double>
    }

    struct Row: Encodable, Sendable {
        var kolId: UUID
        var fullName: String
        var registrationStatus: String
        var deliverables: Int
        var deliverablesCompleted: Int
        var reach: Int64
        var impressions: Int64
        var views: Int64
        var engagements: Int64
        var engagementRate: NullEncoded<Double>
        var payoutStatus: NullEncoded<String>
        var grossIdr: Int64
        var netIdr: Int64
        var cpmIdr: NullEncoded<Int64>
        var cpeIdr: NullEncoded<Int64>
    }

    var campaignId: UUID
    var funnel: [String: [String: Int]]
    var totals: Totals
    var kols: [Row]

    init(campaignID: UUID, _ data: ReportData) {
        campaignId = campaignID
        var registrations = Dictionary(uniqueKeysWithValues: RegistrationStatus.allCases.map { ($0.rawValue, 0) })
        registrations.merge(data.registrationFunnel) { $1 }
        var deliverables = Dictionary(uniqueKeysWithValues: DeliverableStatus.allCases.map { ($0.rawValue, 0) })
        deliverables.merge(data.deliverableFunnel) { $1 }
        funnel = ["registrations": registrations, "deliverables": deliverables]
        let reach = ReportMath.sum(data.rows.map(\.reach))
        let impressions = ReportMath.sum(data.rows.map(\.impressions))
        let engagements = ReportMath.sum(data.rows.map(\.engagements))
        let gross = ReportMath.sum(data.rows.map(\.grossIdr))
        totals = Totals(
            reach: reach, impressions: impressions, views: ReportMath.sum(data.rows.map(\.views)), engagements: engagements,
            engagementRate: NullEncoded(ReportMath.engagementRate(engagements: engagements, reach: reach)), costGrossIdr: gross,
            costNetIdr: ReportMath.sum(data.rows.map(\.netIdr)),
            cpmIdr: NullEncoded(ReportMath.cpm(grossIdr: gross, impressions: impressions)),
            cpeIdr: NullEncoded(ReportMath.cpe(grossIdr: gross, engagements: engagements)),
            medianDaysToPayment: NullEncoded(data.medianDaysToPayment.map { ($0 * 100).rounded() / 100 }))
        kols = data.rows.map { r in
            Row(
                kolId: r.kolID, fullName: r.fullName, registrationStatus: r.registrationStatus, deliverables: r.deliverables,
                deliverablesCompleted: r.deliverablesCompleted, reach: r.reach, impressions: r.impressions, views: r.views,
                engagements: r.engagements,
                engagementRate: NullEncoded(ReportMath.engagementRate(engagements: r.engagements, reach: r.reach)),
                payoutStatus: NullEncoded(r.payoutStatus), grossIdr: r.grossIdr, netIdr: r.netIdr,
                cpmIdr: NullEncoded(ReportMath.cpm(grossIdr: r.grossIdr, impressions: r.impressions)),
                cpeIdr: NullEncoded(ReportMath.cpe(grossIdr: r.grossIdr, engagements: r.engagements)))
        }
    }
}
