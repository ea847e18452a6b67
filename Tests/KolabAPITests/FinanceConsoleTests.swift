import Foundation
import HTTPTypes
import KolabDomain
import PostgresNIO
import Testing

@testable import KolabAPI

extension ConsoleVisitor {
    /// Posts a form whose fields may repeat (the `payout_ids` checkboxes), in the order given.
    func post(_ path: String, fields: [(String, String)]) async throws -> APIResponse {
        let body = fields.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") }
        if let language { headers[.acceptLanguage] = language }
        return try await app.request(.post, path, body: body, headers: headers)
    }
}

/// A line of a finance page's table, and its totals row, as the page's `data-` attributes state them.
struct FinanceLine: Equatable {
    var id: String
    var gross: Int
    var tax: Int
    var net: Int
}

extension APIResponse {
    /// The payout lines of a finance page, in page order.
    var payoutLines: [FinanceLine] {
        let pattern = try! Regex(#"<tr id="payout-([0-9a-f-]+)"[^>]*data-gross-idr="(\d+)" data-tax-idr="(\d+)" data-net-idr="(\d+)""#)
        return text.matches(of: pattern).map { match in
            let part = { (index: Int) in String(match.output[index].substring ?? "") }
            return FinanceLine(id: part(1), gross: Int(part(2)) ?? -1, tax: Int(part(3)) ?? -1, net: Int(part(4)) ?? -1)
        }
    }

    /// The totals row of a finance page's table: count, gross, tax, net.
    var totalsLine: (count: Int, gross: Int, tax: Int, net: Int)? {
        let pattern = try! Regex(#"<tr class="totals" data-count="(\d+)" data-gross-idr="(\d+)" data-tax-idr="(\d+)" data-net-idr="(\d+)""#)
        guard let match = text.firstMatch(of: pattern) else { return nil }
        let number = { (index: Int) in Int(String(match.output[index].substring ?? "")) ?? -1 }
        return (number(1), number(2), number(3), number(4))
    }
}

@Suite("Web console: finance")
struct FinanceConsoleTests {
    /// Two KOLs' payouts, earned through the API and approved by finance: what waits for a batch.
    func twoApprovedPayouts(_ app: TestApp) async throws -> (finance: TestApp.Account, payouts: [String], productions: [Production]) {
        let (first, firstPayout) = try await app.finishedProduction(views: [100_000, 50_000, 30_000, 20_000])
        let (second, secondPayout) = try await app.finishedProduction(views: [10_000, 7_000, 3_000, 1_000])
        let finance = first.cast.finance
        for payout in [firstPayout, secondPayout] {
            #expect(try await app.post("/v1/payouts/\(payout)/approve", token: finance.token)["status"] == "approved")
        }
        return (finance, [firstPayout, secondPayout], [first, second])
    }

    /// The payout as the API shows it to finance: gross, tax, net.
    func amounts(_ app: TestApp, _ payout: String, _ finance: TestApp.Account) async throws -> FinanceLine {
        let json = try await app.get("/v1/payouts/\(payout)", token: finance.token).json
        return FinanceLine(
            id: payout, gross: json["gross_idr"] as? Int ?? -1, tax: json["tax_idr"] as? Int ?? -1, net: json["net_idr"] as? Int ?? -1)
    }

    /// Signs finance in and creates a batch from the home page's form; returns the batch's id.
    func batchFromThePage(_ visitor: inout ConsoleVisitor) async throws -> String {
        let home = try await visitor.get("/app")
        let form = [
            "csrf_token": try #require(ConsoleVisitor.field("csrf_token", in: home)),
            "idempotency_key": try #require(ConsoleVisitor.field("idempotency_key", in: home)),
        ]
        let made = try await visitor.post("/app/payout-batches", form: form)
        #expect(made.status == .seeOther)
        let location = try #require(made.headers[.location])
        return try #require(location.split(separator: "/").last?.split(separator: "?").first.map(String.init))
    }

    @Test func financeSeesApprovedPayoutsWaitingWithTotalsThatAddUp() async throws {
        try await TestApp.run { app in
            // setup
            let (finance, payouts, _) = try await twoApprovedPayouts(app)
            let expected = try await payouts.asyncMap { try await amounts(app, $0, finance) }
            var visitor = ConsoleVisitor(app)
            _ = try await visitor.signIn(finance.email)
            // MUT
            let home = try await visitor.get("/app")
            // validate: each line links to its payout, with the API's amounts; the totals are their sums.
            #expect(home.status == .ok)
            #expect(Set(home.payoutLines.map(\.id)) == Set(payouts))
            #expect(Set(home.payoutLines.map { [$0.gross, $0.tax, $0.net] }) == Set(expected.map { [$0.gross, $0.tax, $0.net] }))
            for payout in payouts { #expect(home.text.contains("href=\"/app/payouts/\(payout)\"")) }
            let totals = try #require(home.totalsLine)
            #expect(totals.count == 2)
            #expect(totals.gross == home.payoutLines.reduce(0) { $0 + $1.gross })
            #expect(totals.tax == home.payoutLines.reduce(0) { $0 + $1.tax })
            #expect(totals.net == home.payoutLines.reduce(0) { $0 + $1.net })
            #expect(totals.net == expected.reduce(0) { $0 + $1.net })
            #expect(home.text.contains(ConsoleFormat.money(Int64(totals.net), .en)))
            #expect(home.text.contains("action=\"/app/payout-batches\""))
            #expect(!home.text.contains("<script"))

            // In Bahasa Indonesia, with rupiah written the Indonesian way.
            var indonesian = ConsoleVisitor(app, language: "id-ID,id;q=0.9")
            _ = try await indonesian.signIn(finance.email)
            let halaman = try await indonesian.get("/app")
            #expect(halaman.text.contains("Pembayaran yang menunggu batch"))
            #expect(halaman.text.contains(ConsoleFormat.money(Int64(totals.net), .id)))

            // The payouts page lists them under Approved, with the same totals.
            let approved = try await visitor.get("/app/payouts?status=approved")
            #expect(approved.status == .ok)
            #expect(Set(approved.payoutLines.map(\.id)) == Set(payouts))
            #expect(approved.totalsLine?.net == totals.net)
            #expect(try await visitor.get("/app/payouts?status=nonsense").status == .unprocessableContent)
            // A payout's own page shows its breakdown.
            let page = try await visitor.get("/app/payouts/\(payouts[0])")
            #expect(page.status == .ok)
            #expect(page.text.contains(ConsoleFormat.money(Int64(expected[0].net), .en)))
            #expect(page.text.contains("2.5%"))
        }
    }

    @Test func aBatchMadeFromThePageTwiceOrAtOnceIsOneBatch() async throws {
        try await TestApp.run { app in
            // setup
            let (finance, payouts, _) = try await twoApprovedPayouts(app)
            var visitor = ConsoleVisitor(app)
            _ = try await visitor.signIn(finance.email)
            let home = try await visitor.get("/app")
            let csrf = try #require(ConsoleVisitor.field("csrf_token", in: home))
            let key = try #require(ConsoleVisitor.field("idempotency_key", in: home))
            // MUT: two people press at the same moment (two page loads, two keys).
            let clicks = [key, "another-page-\(UUID())"]
            let browser = visitor
            let byKey = try await withThrowingTaskGroup(of: (String, APIResponse).self) { group in
                for click in clicks {
                    group.addTask {
                        (click, try await browser.post("/app/payout-batches", fields: [("csrf_token", csrf), ("idempotency_key", click)]))
                    }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            let answers = Array(byKey.values)
            // validate: one batch; the other press is told there was nothing left, and what to do.
            #expect(answers.map(\.status.code).sorted() == [303, 409])
            #expect(try await app.count("SELECT count(*)::int FROM payout_batches") == 1)
            #expect(try await app.count("SELECT count(*)::int FROM payout_batch_lines") == 2)
            let nothing = try #require(answers.first { $0.status == .conflict })
            #expect(nothing.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(nothing.text.contains("Nothing to put in a batch"))
            #expect(nothing.text.contains("href=\"/app/payouts?status=calculated\""))

            // The same form sent again (a double click) replays the first answer and makes nothing.
            let again = try await visitor.post("/app/payout-batches", form: ["csrf_token": csrf, "idempotency_key": key])
            #expect(again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(again.status == byKey[key]?.status)
            #expect(again.headers[.location] == byKey[key]?.headers[.location])
            #expect(try await app.count("SELECT count(*)::int FROM payout_batches") == 1)
            for payout in payouts { #expect(try await app.get("/v1/payouts/\(payout)", token: finance.token)["status"] == "exported") }
            let empty = try await visitor.get("/app")
            #expect(empty.payoutLines.isEmpty)
            #expect(!empty.text.contains("action=\"/app/payout-batches\""), "nothing waits: no button")
        }
    }

    @Test func theBankFileDownloadIsTheApisExportByteForByte() async throws {
        try await TestApp.run { app in
            let (finance, _, _) = try await twoApprovedPayouts(app)
            var visitor = ConsoleVisitor(app)
            _ = try await visitor.signIn(finance.email)
            let batch = try await batchFromThePage(&visitor)
            let page = try await visitor.get("/app/payout-batches/\(batch)")
            #expect(page.text.contains("href=\"/app/payout-batches/\(batch)/export.csv\""))
            // MUT
            let download = try await visitor.get("/app/payout-batches/\(batch)/export.csv")
            let api = try await app.get("/v1/payout-batches/\(batch)/export.csv", token: finance.token)
            // validate
            #expect(download.status == .ok && api.status == .ok)
            #expect(Array(download.body.readableBytesView) == Array(api.body.readableBytesView))
            #expect(download.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(download.headers[.contentDisposition] == api.headers[.contentDisposition])
            #expect(download.text.split(separator: "\n").count == 3)
        }
    }

    @Test func financeMarksOneLinePaidAndAnotherFailedThenApprovesTheFailedOneAgain() async throws {
        try await TestApp.run { app in
            // setup
            let (finance, payouts, _) = try await twoApprovedPayouts(app)
            var visitor = ConsoleVisitor(app)
            _ = try await visitor.signIn(finance.email)
            let batch = try await batchFromThePage(&visitor)
            let page = try await visitor.get("/app/payout-batches/\(batch)?done=created")
            #expect(page.text.contains("Batch created."))
            let api = try await app.get("/v1/payout-batches/\(batch)", token: finance.token).json
            let totals = try #require(page.totalsLine)
            #expect(page.payoutLines.count == 2)
            #expect(totals.gross == page.payoutLines.reduce(0) { $0 + $1.gross } && totals.gross == api["total_gross_idr"] as? Int)
            #expect(totals.tax == page.payoutLines.reduce(0) { $0 + $1.tax } && totals.tax == api["total_tax_idr"] as? Int)
            #expect(totals.net == page.payoutLines.reduce(0) { $0 + $1.net } && totals.net == api["total_net_idr"] as? Int)
            for payout in payouts { #expect(page.text.contains("name=\"payout_ids\" value=\"\(payout)\"")) }
            #expect(page.text.contains("<label for=\"bank_reference\">") && page.text.contains("<label for=\"reason\">"))
            let csrf = try #require(ConsoleVisitor.field("csrf_token", in: page))
            let key = try #require(ConsoleVisitor.field("idempotency_key", in: page))
            let (paid, failed) = (payouts[0], payouts[1])

            // MUT: a reference is needed to mark paid.
            let blank = try await visitor.post(
                "/app/payout-batches/\(batch)/mark-paid",
                fields: [("csrf_token", csrf), ("payout_ids", paid), ("bank_reference", "  "), ("idempotency_key", "k-blank")])
            #expect(blank.status == .unprocessableContent)
            #expect(blank.text.contains("bank_reference"))
            #expect(try await app.get("/v1/payouts/\(paid)", token: finance.token)["status"] == "exported")

            let markedPaid = try await visitor.post(
                "/app/payout-batches/\(batch)/mark-paid",
                fields: [
                    ("csrf_token", csrf), ("payout_ids", paid), ("bank_reference", "BCA-20261122-0001"), ("reason", ""),
                    ("idempotency_key", "\(key)-paid"),
                ])
            #expect(markedPaid.status == .seeOther)
            #expect(markedPaid.headers[.location] == "/app/payout-batches/\(batch)?done=paid")
            let paidPayout = try await app.get("/v1/payouts/\(paid)", token: finance.token)
            #expect(paidPayout["status"] == "paid" && paidPayout["bank_reference"] == "BCA-20261122-0001")

            // Both checkboxes reach the workflow: one of them is paid already, so neither is marked (all or none).
            let both = try await visitor.post(
                "/app/payout-batches/\(batch)/mark-failed",
                fields: [
                    ("csrf_token", csrf), ("payout_ids", paid), ("payout_ids", failed), ("reason", "Rekening ditutup"),
                    ("idempotency_key", "k-both"),
                ])
            #expect(both.status == .conflict)
            #expect(try await app.get("/v1/payouts/\(failed)", token: finance.token)["status"] == "exported")
            #expect(try await app.get("/v1/payouts/\(paid)", token: finance.token)["status"] == "paid")

            let markedFailed = try await visitor.post(
                "/app/payout-batches/\(batch)/mark-failed",
                fields: [
                    ("csrf_token", csrf), ("payout_ids", failed), ("bank_reference", ""), ("reason", "Rekening ditutup"),
                    ("idempotency_key", "\(key)-failed"),
                ])
            #expect(markedFailed.status == .seeOther)
            let failedPayout = try await app.get("/v1/payouts/\(failed)", token: finance.token)
            #expect(failedPayout["status"] == "failed" && failedPayout["failure_reason"] == "Rekening ditutup")

            // validate: the batch is settled, shows the reference and the reason, and still adds up.
            let settled = try await visitor.get("/app/payout-batches/\(batch)")
            #expect(settled.text.contains("BCA-20261122-0001") && settled.text.contains("Rekening ditutup"))
            #expect(settled.text.contains("Settled"))
            #expect(!settled.text.contains("name=\"payout_ids\""), "nothing is left to settle")
            #expect(settled.totalsLine?.net == totals.net)
            #expect(settled.totalsLine?.net == settled.payoutLines.reduce(0) { $0 + $1.net })
            let list = try await visitor.get("/app/payout-batches")
            #expect(list.text.contains("href=\"/app/payout-batches/\(batch)\""))
            #expect(list.totalsLine?.net == totals.net)

            // The failed one is listed with its reason and can be approved again for a later batch.
            let failedList = try await visitor.get("/app/payouts?status=failed")
            #expect(failedList.payoutLines.map(\.id) == [failed])
            #expect(failedList.text.contains("Rekening ditutup"))
            #expect(failedList.text.contains("action=\"/app/payouts/\(failed)/approve\""))
            #expect(!failedList.text.contains("action=\"/app/payouts/\(paid)/approve\""))
            let reapproveKey = try #require(ConsoleVisitor.field("idempotency_key", in: failedList))
            let reapproved = try await visitor.post(
                "/app/payouts/\(failed)/approve", form: ["csrf_token": csrf, "idempotency_key": reapproveKey])
            #expect(reapproved.status == .seeOther)
            #expect(try await app.get("/v1/payouts/\(failed)", token: finance.token)["status"] == "approved")
            let home = try await visitor.get("/app")
            #expect(home.payoutLines.map(\.id) == [failed], "it waits for the next batch")
            let second = try await batchFromThePage(&visitor)
            #expect(second != batch)
            let first = try await visitor.get("/app/payout-batches/\(batch)")
            #expect(first.text.contains("href=\"/app/payout-batches/\(second)\""), "the first batch points to the later one")
            #expect(first.totalsLine?.net == totals.net)
        }
    }

    @Test func kolsAndBrandsGetNotFoundOnFinancePagesAndOfficersWhatTheApiAllows() async throws {
        try await TestApp.run { app in
            // setup
            let (finance, payouts, productions) = try await twoApprovedPayouts(app)
            var financeVisitor = ConsoleVisitor(app)
            _ = try await financeVisitor.signIn(finance.email)
            let batch = try await batchFromThePage(&financeVisitor)
            let cast = productions[0].cast
            let pages = [
                "/app/payout-batches", "/app/payout-batches/\(batch)", "/app/payout-batches/\(batch)/export.csv",
                "/app/payouts/\(payouts[0])", "/app/payouts/\(payouts[1])",
            ]
            // MUT + validate: the KOL (whose payout it is) and the brand.
            for account in [cast.kol, cast.brand] {
                var visitor = ConsoleVisitor(app, language: "id-ID,id;q=0.9")
                _ = try await visitor.signIn(account.email)
                for page in pages {
                    let answer = try await visitor.get(page)
                    #expect(answer.status == .notFound, "\(account.role) \(page)")
                    #expect(answer.text.contains("Tidak ditemukan"))
                }
                let home = try await visitor.get("/app")
                let csrf = try #require(ConsoleVisitor.field("csrf_token", in: home))
                let attempts = [
                    ("/app/payout-batches", [("csrf_token", csrf)]),
                    (
                        "/app/payout-batches/\(batch)/mark-paid",
                        [("csrf_token", csrf), ("payout_ids", payouts[0]), ("bank_reference", "X")]
                    ),
                    ("/app/payouts/\(payouts[0])/approve", [("csrf_token", csrf)]),
                ]
                for (path, fields) in attempts {
                    #expect(try await visitor.post(path, fields: fields).status == .notFound, "\(account.role) \(path)")
                }
            }
            var brand = ConsoleVisitor(app)
            _ = try await brand.signIn(cast.brand.email)
            #expect(try await brand.get("/app/payouts").status == .notFound)
            var kol = ConsoleVisitor(app)
            _ = try await kol.signIn(cast.kol.email)
            let kolPayouts = try await kol.get("/app/payouts")
            #expect(!kolPayouts.text.contains(payouts[1]), "a KOL's payouts page is her own")
            #expect(!kolPayouts.text.contains("/app/payout-batches"))
            #expect(try await app.get("/v1/payouts/\(payouts[0])", token: finance.token)["status"] == "exported")

            // The officer: the payouts of her campaigns (and no others); batches as the API answers them.
            var officer = ConsoleVisitor(app)
            _ = try await officer.signIn(cast.officer.email)
            let officerPayouts = try await officer.get("/app/payouts")
            #expect(officerPayouts.status == .ok)
            #expect(officerPayouts.payoutLines.map(\.id) == [payouts[0]])
            #expect(!officerPayouts.text.contains("href=\"/app/payout-batches"))
            #expect(try await officer.get("/app/payouts/\(payouts[1])").status == .notFound)
            #expect(try await officer.get("/app/payout-batches").status == .forbidden)
            #expect(try await officer.get("/app/payout-batches/\(batch)").status == .notFound)
            #expect(try await officer.get("/app/payout-batches/\(batch)/export.csv").status == .notFound)
        }
    }

    @Test func financeFormsWithoutTheirCsrfTokenChangeNothing() async throws {
        try await TestApp.run { app in
            let (finance, payouts, _) = try await twoApprovedPayouts(app)
            var visitor = ConsoleVisitor(app)
            _ = try await visitor.signIn(finance.email)
            for csrf in [nil, "forged"] {
                var fields = [("idempotency_key", "k-\(csrf ?? "none")")]
                if let csrf { fields.append(("csrf_token", csrf)) }
                let refused = try await visitor.post("/app/payout-batches", fields: fields)
                #expect(refused.status == .forbidden)
                #expect(refused.headers[.contentType]?.hasPrefix("text/html") == true)
            }
            #expect(try await app.count("SELECT count(*)::int FROM payout_batches") == 0)
            let batch = try await batchFromThePage(&visitor)
            for csrf in [nil, "forged"] {
                var fields = [("payout_ids", payouts[0]), ("bank_reference", "REF-1")]
                if let csrf { fields.append(("csrf_token", csrf)) }
                #expect(try await visitor.post("/app/payout-batches/\(batch)/mark-paid", fields: fields).status == .forbidden)
                #expect(
                    try await visitor.post("/app/payout-batches/\(batch)/mark-failed", fields: fields + [("reason", "x")]).status
                        == .forbidden)
            }
            for payout in payouts { #expect(try await app.get("/v1/payouts/\(payout)", token: finance.token)["status"] == "exported") }
            // Nothing left to batch, asked for in earnest: the 409 page says what to do next, in Indonesian too.
            var indonesian = ConsoleVisitor(app, language: "id")
            _ = try await indonesian.signIn(finance.email)
            let home = try await indonesian.get("/app")
            let nothing = try await indonesian.post(
                "/app/payout-batches",
                form: ["csrf_token": try #require(ConsoleVisitor.field("csrf_token", in: home)), "idempotency_key": "k-nothing"])
            #expect(nothing.status == .conflict)
            #expect(nothing.text.contains("Tidak ada yang bisa dimasukkan ke batch"))
            #expect(try await app.count("SELECT count(*)::int FROM payout_batches") == 1)
        }
    }
}
