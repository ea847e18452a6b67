import Foundation

/// What a KOL reports of a live post. Every count is a non-negative integer.
public struct Insights: Sendable, Codable, Equatable {
    public var reach: Int64
    public var impressions: Int64
    public var views: Int64
    public var likes: Int64
    public var comments: Int64
    public var shares: Int64
    public var saves: Int64
    public var clicks: Int64
    public var evidenceUrls: [String]

    public init(
        reach: Int64, impressions: Int64, views: Int64, likes: Int64, comments: Int64, shares: Int64, saves: Int64, clicks: Int64,
        evidenceUrls: [String]
    ) {
        self.reach = reach
        self.impressions = impressions
        self.views = views
        self.likes = likes
        self.comments = comments
        self.shares = shares
        self.saves = saves
        self.clicks = clicks
        self.evidenceUrls = evidenceUrls
    }

    /// likes + comments + shares + saves, saturating rather than overflowing.
    public var engagements: Int64 {
        Money.clamp(Int128(likes) + Int128(comments) + Int128(shares) + Int128(saves))
    }

    public func validate(into v: inout Validator) {
        for (name, value) in [
            ("reach", reach), ("impressions", impressions), ("views", views), ("likes", likes), ("comments", comments),
            ("shares", shares), ("saves", saves), ("clicks", clicks),
        ] {
            v.check(value >= 0, name, "must not be negative")
        }
        v.check(!evidenceUrls.isEmpty, "evidence_urls", "at least one screenshot link is needed")
        v.check(evidenceUrls.count <= 20, "evidence_urls", "at most 20 links")
        for (index, url) in evidenceUrls.enumerated() {
            v.check(BriefRules.isWebURL(url) && url.count <= 2000, "evidence_urls[\(index)]", "must be an http or https URL")
        }
    }

    public func value(of metric: BonusMetric) -> Int64 {
        switch metric {
        case .views: views
        case .reach: reach
        case .engagements: engagements
        }
    }
}

public enum Money {
    /// Clamps a wide intermediate into bigint range (metric sums near the top of bigint saturate).
    public static func clamp(_ value: Int128) -> Int64 {
        if value > Int128(Int64.max) { return .max }
        if value < Int128(Int64.min) { return .min }
        return Int64(value)
    }
}

/// A payout's amounts and how they were reached; stored with the payout.
public struct PayoutBreakdown: Sendable, Codable, Equatable {
    public var feeIdr: Int64
    public var bonusIdr: Int64
    public var grossIdr: Int64
    public var taxIdr: Int64
    public var netIdr: Int64
    public var metric: BonusMetric?
    public var metricValue: Int64
    public var rateIdrPer1000: Int64?
    public var capIdr: Int64?
    public var withholdingBp: Int

    public init(
        feeIdr: Int64, bonusIdr: Int64, grossIdr: Int64, taxIdr: Int64, netIdr: Int64, metric: BonusMetric?, metricValue: Int64,
        rateIdrPer1000: Int64?, capIdr: Int64?, withholdingBp: Int
    ) {
        self.feeIdr = feeIdr
        self.bonusIdr = bonusIdr
        self.grossIdr = grossIdr
        self.taxIdr = taxIdr
        self.netIdr = netIdr
        self.metric = metric
        self.metricValue = metricValue
        self.rateIdrPer1000 = rateIdrPer1000
        self.capIdr = capIdr
        self.withholdingBp = withholdingBp
    }
}

/// The contract's formula, in integer rupiah:
/// gross = fee + min(cap, floor(metric * rate / 1000)); tax = floor(gross * bp / 10000); net = gross - tax.
/// Intermediates are 128-bit, so no product overflows; results saturate at bigint's top.
public enum PayoutCalculator {
    public static func calculate(terms: Terms, metricValue: Int64) -> PayoutBreakdown {
        let metricValue = max(0, metricValue)
        var bonus: Int128 = 0
        if let b = terms.bonus {
            let earned = Int128(metricValue) * Int128(b.rateIdrPer1000) / 1000  // floor: all operands are non-negative
            bonus = min(Int128(b.capIdr), earned)
        }
        let gross = Int128(terms.feeIdr) + bonus
        let tax = gross * Int128(terms.withholdingBp) / 10_000
        return PayoutBreakdown(
            feeIdr: terms.feeIdr, bonusIdr: Money.clamp(bonus), grossIdr: Money.clamp(gross), taxIdr: Money.clamp(tax),
            netIdr: Money.clamp(gross - tax), metric: terms.bonus?.metric, metricValue: metricValue,
            rateIdrPer1000: terms.bonus?.rateIdrPer1000, capIdr: terms.bonus?.capIdr, withholdingBp: terms.withholdingBp)
    }

    /// The bonus metric summed over the registration's verified insights.
    public static func metricValue(_ metric: BonusMetric?, over insights: [Insights]) -> Int64 {
        guard let metric else { return 0 }
        return Money.clamp(insights.reduce(Int128(0)) { $0 + Int128($1.value(of: metric)) })
    }

    /// A registration is due its payout when at least one deliverable is completed and every one
    /// that is not cancelled is completed.
    public static func isDue(_ statuses: [DeliverableStatus]) -> Bool {
        statuses.contains(.completed) && statuses.allSatisfy { $0 == .completed || $0 == .cancelled }
    }
}

public enum PayoutStatus: String, Sendable, Codable, CaseIterable {
    case calculated, approved, exported, paid, failed
}

public enum PayoutAction: String, Sendable, CaseIterable {
    case approve, export, markPaid = "mark_paid", markFailed = "mark_failed"
}

/// `calculated -> approved` (officer or finance) `-> exported` (in exactly one batch) `-> paid | failed`;
/// `failed -> approved` again for a later batch.
public enum PayoutMachine {
    public static func transition(from status: PayoutStatus, _ action: PayoutAction, by role: Role) throws(KolabError) -> PayoutStatus {
        let allowed: Set<Role> =
            switch action {
            case .approve: [.officer, .finance, .admin]
            case .export, .markPaid, .markFailed: [.finance, .admin]
            }
        guard allowed.contains(role) else {
            throw KolabError.forbidden(
                "Your role (\(role.rawValue)) may not \(action.rawValue.replacingOccurrences(of: "_", with: " ")) payouts.")
        }
        switch (status, action) {
        case (.calculated, .approve), (.failed, .approve): return .approved
        case (.approved, .export): return .exported
        case (.exported, .markPaid): return .paid
        case (.exported, .markFailed): return .failed
        default:
            throw KolabError.conflict(
                "A payout that is \(status.rawValue) cannot \(action.rawValue.replacingOccurrences(of: "_", with: " ")).")
        }
    }

    /// Finance sees every payout; officers those of their campaigns; a KOL her own; brands none.
    public static func mayList(_ role: Role) -> Bool { role != .brand }

    /// Batches (making, reading, exporting, settling) are finance's (and admins').
    /// Who sees payout batches at all: to others a batch's id names nothing.
    public static func seesBatches(_ role: Role) -> Bool { role == .finance || role == .admin }

    public static func checkBatchAccess(_ role: Role) throws(KolabError) {
        guard role == .finance || role == .admin else { throw KolabError.forbidden("Payout batches are for finance.") }
    }
}

public enum PayoutBatchStatus: String, Sendable, Codable, CaseIterable {
    /// Its lines are in the bank file; some are not settled yet.
    case exported
    /// Every line is paid or failed.
    case settled
}

/// A payout batch: made by finance from every approved payout not yet in one (atomically, in SQL),
/// `exported` at once (its CSV is the bank file), `settled` when each line is marked paid or failed.
/// Its lines move through `PayoutMachine`.
public enum PayoutBatchMachine {
    /// Who may make one; nothing to take is a 409 (`nothingToTake`).
    public static func create(by role: Role) throws(KolabError) -> PayoutBatchStatus {
        try PayoutMachine.checkBatchAccess(role)
        return .exported
    }

    public static var nothingToTake: KolabError {
        KolabError.conflict("No approved payout is waiting for a batch (payouts held for missing bank details wait too).")
    }

    /// Marking lines of a batch paid or failed: the state each line moves to (from `exported`).
    public static func settle(paid: Bool, by role: Role) throws(KolabError) -> PayoutStatus {
        try PayoutMachine.checkBatchAccess(role)
        return try PayoutMachine.transition(from: .exported, paid ? .markPaid : .markFailed, by: role)
    }

    /// A batch's state from its lines.
    public static func status(payoutCount: Int, paid: Int, failed: Int) -> PayoutBatchStatus {
        paid + failed >= payoutCount ? .settled : .exported
    }
}

/// The bank bulk-transfer file: its header, and the field rule its lines follow (the lines themselves
/// are written by PostgreSQL's `bank_file_line` when a batch is made; the report CSV uses `field` here).
public enum BankFile {
    public static let header = "reference_id,amount,bank_code,account_name,account_number,description,email"

    /// A CSV field: quoted when it holds a comma, quote or line break, and defused when a spreadsheet
    /// would read it as a formula.
    public static func field(_ value: String) -> String {
        // Fast path: nothing to defuse or quote (the usual bank code, name, number, e-mail).
        if let first = value.utf8.first, !"=+-@\t\r".utf8.contains(first),
            !value.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 })
        {
            return value
        }
        var text = value
        if let first = text.first, "=+-@\t\r".contains(first) { text = "'" + text }
        if text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return text
    }

}

/// The rates of a campaign report, in integer rupiah where they are money.
public enum ReportMath {
    /// Cost per 1,000 impressions: floor(gross * 1000 / impressions); nil without impressions.
    public static func cpm(grossIdr: Int64, impressions: Int64) -> Int64? {
        guard impressions > 0 else { return nil }
        return Money.clamp(Int128(grossIdr) * 1000 / Int128(impressions))
    }

    /// Cost per engagement: floor(gross / engagements); nil without engagements.
    public static func cpe(grossIdr: Int64, engagements: Int64) -> Int64? {
        guard engagements > 0 else { return nil }
        return grossIdr / engagements
    }

    /// Engagements per reach, rounded to 4 decimals (a ratio, not money); nil without reach.
    public static func engagementRate(engagements: Int64, reach: Int64) -> Double? {
        guard reach > 0 else { return nil }
        return (Double(engagements) / Double(reach) * 10_000).rounded() / 10_000
    }

    public static func sum(_ values: [Int64]) -> Int64 {
        Money.clamp(values.reduce(Int128(0)) { $0 + Int128($1) })
    }
}
