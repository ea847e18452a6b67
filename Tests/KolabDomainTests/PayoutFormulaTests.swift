import Foundation
import KolabDomain
import Testing

/// The payout formula checked against an independent calculation in `Decimal` (38 significant digits,
/// so no intermediate product of bigint values loses a digit), over random and boundary inputs.
@Suite("Payout formula")
struct PayoutFormulaTests {
    static func floorDiv(_ a: Decimal, _ b: Decimal) -> Decimal {
        var quotient = a / b
        var result = Decimal()
        NSDecimalRound(&result, &quotient, 0, .down)
        // Decimal division can land a hair under an exact integer; correct by checking the remainder.
        if (result + 1) * b <= a { result += 1 }
        if result * b > a { result -= 1 }
        return result
    }

    static func expected(fee: Int64, metric: Int64, rate: Int64?, cap: Int64?, bp: Int) -> (gross: Decimal, tax: Decimal, net: Decimal) {
        var bonus = Decimal(0)
        if let rate, let cap {
            bonus = min(Decimal(cap), floorDiv(Decimal(metric) * Decimal(rate), 1000))
        }
        let gross = Decimal(fee) + bonus
        let tax = floorDiv(gross * Decimal(bp), 10_000)
        return (gross, tax, gross - tax)
    }

    static func check(fee: Int64, metric: Int64, rate: Int64?, cap: Int64?, bp: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let bonus = rate.flatMap { r in cap.map { Bonus(metric: .views, rateIdrPer1000: r, capIdr: $0) } }
        let b = PayoutCalculator.calculate(terms: Terms(feeIdr: fee, bonus: bonus, withholdingBp: bp), metricValue: metric)
        let want = expected(fee: fee, metric: metric, rate: rate, cap: cap, bp: bp)
        #expect(
            Decimal(b.grossIdr) == want.gross,
            "fee \(fee) metric \(metric) rate \(String(describing: rate)) cap \(String(describing: cap)) bp \(bp)",
            sourceLocation: sourceLocation)
        #expect(Decimal(b.taxIdr) == want.tax, sourceLocation: sourceLocation)
        #expect(Decimal(b.netIdr) == want.net, sourceLocation: sourceLocation)
        #expect(b.grossIdr == b.feeIdr + b.bonusIdr, sourceLocation: sourceLocation)
        #expect(b.netIdr == b.grossIdr - b.taxIdr, sourceLocation: sourceLocation)
        #expect(b.bonusIdr >= 0 && b.taxIdr >= 0 && b.netIdr >= 0, sourceLocation: sourceLocation)
    }

    @Test func theContractsExample() {
        // Rp1,500,000 fee; 250,000 views at Rp2,000 per 1,000 = Rp500,000, capped at Rp400,000; 2.5% withheld.
        let terms = Terms(feeIdr: 1_500_000, bonus: Bonus(metric: .views, rateIdrPer1000: 2_000, capIdr: 400_000), withholdingBp: 250)
        let b = PayoutCalculator.calculate(terms: terms, metricValue: 250_000)
        #expect(b.bonusIdr == 400_000)
        #expect(b.grossIdr == 1_900_000)
        #expect(b.taxIdr == 47_500)
        #expect(b.netIdr == 1_852_500)
        #expect(b.metric == .views && b.metricValue == 250_000 && b.withholdingBp == 250)
    }

    @Test func boundaries() {
        let big = Int64.max
        let cases: [(Int64, Int64, Int64?, Int64?, Int)] = [
            (0, 0, nil, nil, 250), (0, 0, 1, 1, 0), (1_000_000, 0, 2_000, 500_000, 250),
            // The cap exactly, one under, one over.
            (0, 250_000, 2_000, 500_000, 250), (0, 249_999, 2_000, 500_000, 250), (0, 250_001, 2_000, 500_000, 250),
            // Flooring at the per-1,000 boundary: 999 views at Rp1 earn nothing; 1,000 earn Rp1.
            (0, 999, 1, 1_000, 0), (0, 1_000, 1, 1_000, 0), (0, 1_999, 1, 1_000, 0),
            // Tax flooring: 39 * 250 / 10000 = 0.975 -> 0; 40 -> 1.
            (39, 0, nil, nil, 250), (40, 0, nil, nil, 250), (10_000, 0, nil, nil, 10_000), (9_999, 0, nil, nil, 1),
            // Near the top of bigint: products that would overflow 64 bits.
            (0, big, big, 1_000_000_000_000, 250), (1_000_000_000_000, big, 1, 1_000_000_000_000, 10_000),
            (1_000_000_000_000, big / 1000, 1_000, 1_000_000_000_000, 9_999), (0, big, 0, 1_000_000_000_000, 250),
        ]
        for (fee, metric, rate, cap, bp) in cases {
            Self.check(fee: fee, metric: metric, rate: rate, cap: cap, bp: bp)
        }
    }

    @Test(arguments: 0..<20)
    func randomInputsAgreeWithTheIndependentCalculation(seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        for _ in 0..<500 {
            func pick(_ ranges: [ClosedRange<Int64>]) -> Int64 { Int64.random(in: ranges.randomElement(using: &rng)!, using: &rng) }
            let fee = pick([0...0, 0...10_000_000, 0...1_000_000_000_000])
            let metric = pick([0...0, 0...5_000_000, 0...Int64.max, Int64.max - 1_000...Int64.max])
            let rate = pick([0...0, 0...10_000, 0...Int64.max])
            let cap = pick([0...0, 0...10_000_000, 0...1_000_000_000_000])
            let bp = Int.random(in: [0...0, 0...500, 0...10_000].randomElement(using: &rng)!, using: &rng)
            Self.check(fee: fee, metric: metric, rate: Bool.random(using: &rng) ? rate : nil, cap: cap, bp: bp)
        }
    }

    @Test func theMetricIsSummedOverTheRegistrationsVerifiedInsights() {
        let a = Insights(
            reach: 100, impressions: 150, views: 1_000, likes: 10, comments: 2, shares: 1, saves: 3, clicks: 5,
            evidenceUrls: ["https://x.id/1"])
        let b = Insights(
            reach: 50, impressions: 60, views: 500, likes: 4, comments: 0, shares: 0, saves: 1, clicks: 0, evidenceUrls: ["https://x.id/2"])
        #expect(PayoutCalculator.metricValue(.views, over: [a, b]) == 1_500)
        #expect(PayoutCalculator.metricValue(.reach, over: [a, b]) == 150)
        #expect(PayoutCalculator.metricValue(.engagements, over: [a, b]) == 21)
        #expect(PayoutCalculator.metricValue(nil, over: [a, b]) == 0)
        let huge = Insights(
            reach: .max, impressions: 0, views: .max, likes: .max, comments: .max, shares: 0, saves: 0, clicks: 0, evidenceUrls: [])
        #expect(PayoutCalculator.metricValue(.views, over: [huge, huge]) == .max)
        #expect(huge.engagements == .max)
    }

    @Test func aPayoutIsDueWhenEveryDeliverableNotCancelledIsCompleted() {
        #expect(PayoutCalculator.isDue([.completed, .completed]))
        #expect(PayoutCalculator.isDue([.completed, .cancelled]))
        #expect(!PayoutCalculator.isDue([.completed, .live]))
        #expect(!PayoutCalculator.isDue([.cancelled, .cancelled]))
        #expect(!PayoutCalculator.isDue([]))
    }

    static let payoutTable: [PayoutStatus: [PayoutAction: PayoutStatus]] = [
        .calculated: [.approve: .approved], .approved: [.export: .exported], .exported: [.markPaid: .paid, .markFailed: .failed],
        .failed: [.approve: .approved], .paid: [:],
    ]

    @Test(arguments: PayoutStatus.allCases, PayoutAction.allCases)
    func payoutStates(status: PayoutStatus, action: PayoutAction) {
        for role in Role.allCases {
            let mayAct = action == .approve ? [.officer, .finance, .admin].contains(role) : [.finance, .admin].contains(role)
            let want = Self.payoutTable[status]?[action]
            do {
                let next = try PayoutMachine.transition(from: status, action, by: role)
                #expect(mayAct && next == want)
            } catch {
                #expect(error.code == (mayAct ? .conflict : .forbidden))
                #expect(!mayAct || want == nil)
            }
        }
    }

    /// A batch: (action, role) -> the batch's state or its lines' next state; only finance and admins act.
    @Test(arguments: Role.allCases)
    func payoutBatches(role: Role) {
        let finance = role == .finance || role == .admin
        #expect((try? PayoutBatchMachine.create(by: role)) == (finance ? .exported : nil))
        #expect((try? PayoutBatchMachine.settle(paid: true, by: role)) == (finance ? .paid : nil))
        #expect((try? PayoutBatchMachine.settle(paid: false, by: role)) == (finance ? .failed : nil))
        do {
            _ = try PayoutBatchMachine.settle(paid: true, by: role)
        } catch {
            #expect(error.code == .forbidden)
        }
        #expect(PayoutBatchMachine.nothingToTake.code == .conflict)
    }

    @Test(arguments: [(3, 0, 0), (3, 2, 0), (3, 2, 1), (3, 0, 3), (1, 1, 0), (0, 0, 0)])
    func aBatchIsSettledWhenEveryLineIsPaidOrFailed(count: Int, paid: Int, failed: Int) {
        #expect(
            PayoutBatchMachine.status(payoutCount: count, paid: paid, failed: failed) == (paid + failed >= count ? .settled : .exported))
    }

    @Test func reportRatesAreIntegerRupiah() {
        #expect(ReportMath.cpm(grossIdr: 1_900_000, impressions: 300_000) == 6_333)
        #expect(ReportMath.cpm(grossIdr: 1, impressions: 0) == nil)
        #expect(ReportMath.cpe(grossIdr: 1_900_000, engagements: 7_000) == 271)
        #expect(ReportMath.engagementRate(engagements: 21, reach: 150) == 0.14)
    }

    @Test func bankFileFieldsAreQuotedAndDefused() {
        #expect(BankFile.field("Ayu Lestari") == "Ayu Lestari")
        #expect(BankFile.field("Lestari, Ayu") == "\"Lestari, Ayu\"")
        #expect(BankFile.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(BankFile.field("=SUM(A1)") == "'=SUM(A1)")
    }
}

/// A small seeded generator, so a failing case can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
