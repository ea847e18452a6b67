import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import PostgresNIO
import Testing

extension TestApp {
    /// Takes one deliverable from awaiting_draft to live (brand review off), with its post 8 days ago
    /// so that its insights are due.
    func makeLive(_ deliverable: String, _ cast: Cast) async throws {
        let draft = try #require(try await submitDraft(deliverable, by: cast.kol)["id"])
        #expect(try await review(draft, "approve", by: cast.officer).status == .created)
        let postedAt = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-8 * 24 * 3600))
        let posted = try await post(
            "/v1/deliverables/\(deliverable)/post", token: cast.kol.token,
            PostBody(url: "https://instagram.com/p/\(deliverable.prefix(8))", postedAt: postedAt))
        #expect(posted.status == .ok, "\(posted.text)")
        #expect(try await post("/v1/deliverables/\(deliverable)/post/verify", token: cast.officer.token)["status"] == "live")
    }

    /// Live, insights submitted and verified.
    func complete(_ deliverable: String, _ cast: Cast, views: Int) async throws {
        try await makeLive(deliverable, cast)
        let submitted = try await post("/v1/deliverables/\(deliverable)/insights", token: cast.kol.token, InsightsBody(views: views))
        #expect(submitted.status == .created, "\(submitted.text)")
        let verified = try await post("/v1/deliverables/\(deliverable)/insights/verify", token: cast.officer.token)
        #expect(verified["status"] == "completed", "\(verified.text)")
    }

    /// A production whose KOL finished every deliverable: its payout is calculated.
    func finishedProduction(views: [Int] = [100_000, 50_000, 30_000, 20_000]) async throws -> (Production, String) {
        let p = try await production { $0.brandReviewRequired = false }
        for (deliverable, count) in zip(p.deliverables, views) { try await complete(deliverable, p.cast, views: count) }
        let payouts = try await get("/v1/payouts?campaign_id=\(p.campaign)", token: p.cast.finance.token)
        let id = try #require(payouts.data.first?["id"] as? String)
        return (p, id)
    }
}

@Suite("Insights, payouts and batches")
struct PayoutTests {
    @Test func fromAcceptedKolToPaidPayout() async throws {
        try await TestApp.run { app in
            // setup: fee 1,500,000; 2,000 per 1,000 views capped at 500,000; 2.5% withheld.
            let (p, payoutID) = try await app.finishedProduction(views: [100_000, 50_000, 30_000, 20_000])
            let (finance, officer, kol) = (p.cast.finance, p.cast.officer, p.cast.kol)
            // validate the calculation: 200,000 views -> 400,000 bonus (under the cap).
            let payout = try await app.get("/v1/payouts/\(payoutID)", token: kol.token)
            #expect(payout["status"] == "calculated")
            #expect(payout.json["fee_idr"] as? Int == 1_500_000)
            #expect(payout.json["bonus_idr"] as? Int == 400_000)
            #expect(payout.json["gross_idr"] as? Int == 1_900_000)
            #expect(payout.json["tax_idr"] as? Int == 47_500)
            #expect(payout.json["net_idr"] as? Int == 1_852_500)
            let breakdown = payout.json["breakdown"] as? [String: Any]
            #expect(breakdown?["metric"] as? String == "views")
            #expect(breakdown?["metric_value"] as? Int == 200_000)
            #expect(breakdown?["withholding_bp"] as? Int == 250)
            // approve, batch, export, pay
            #expect(try await app.post("/v1/payouts/\(payoutID)/approve", token: officer.token)["status"] == "approved")
            let batch = try await app.post("/v1/payout-batches", token: finance.token)
            #expect(batch.status == .created)
            let batchID = try #require(batch["id"])
            #expect(batch.headers[.location] == "/v1/payout-batches/\(batchID)")
            #expect(batch.json["payout_count"] as? Int == 1)
            #expect(batch.json["total_net_idr"] as? Int == 1_852_500)
            #expect(try await app.get("/v1/payouts/\(payoutID)", token: finance.token)["status"] == "exported")
            let csv = try await app.get("/v1/payout-batches/\(batchID)/export.csv", token: finance.token)
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            let lines = csv.text.split(separator: "\n")
            #expect(lines.first == "reference_id,amount,bank_code,account_name,account_number,description,email")
            #expect(lines.count == 2)
            #expect(lines[1].hasPrefix("\(payoutID.lowercased()),1852500,BCA,Ibu Test,1234567890,Kolab Susu Bunda Ramadan,"))
            let paid = try await app.post(
                "/v1/payout-batches/\(batchID)/mark-paid", token: finance.token,
                MarkPaidBody(payoutIDs: [payoutID], bankReference: "BCA-20261122-0001"))
            #expect(paid["status"] == "settled")
            #expect(paid.json["paid_count"] as? Int == 1)
            let final = try await app.get("/v1/payouts/\(payoutID)", token: kol.token)
            #expect(final["status"] == "paid")
            #expect(final["bank_reference"] == "BCA-20261122-0001")
            #expect(final["paid_at"] != nil)
            // Paid is final.
            #expect(try await app.post("/v1/payouts/\(payoutID)/approve", token: finance.token).status == .conflict)
            #expect(
                try await app.post(
                    "/v1/payout-batches/\(batchID)/mark-failed", token: finance.token, MarkFailedBody(payoutIDs: [payoutID], reason: "x")
                ).status
                    == .conflict)
            // The timeline shows the payout's path.
            let events = try await app.get("/v1/campaigns/\(p.campaign)/events?limit=200", token: officer.token)
            #expect(
                events.data.filter { $0["entity_id"] as? String == payoutID }.compactMap { $0["to"] as? String }
                    == ["calculated", "approved", "exported", "paid"])
        }
    }

    @Test func theBonusIsCappedAndCancelledDeliverablesDoNotCount() async throws {
        try await TestApp.run { app in
            let p = try await app.production { $0.brandReviewRequired = false }
            try await app.complete(p.deliverables[0], p.cast, views: 900_000)
            #expect(try await app.get("/v1/payouts", token: p.cast.finance.token).data.isEmpty)  // not all done yet
            for deliverable in p.deliverables.dropFirst() {
                _ = try await app.post(
                    "/v1/deliverables/\(deliverable)/cancel", token: p.cast.officer.token, ReasonBody(reason: "Brand dropped stories"))
            }
            let payouts = try await app.get("/v1/payouts", token: p.cast.finance.token)
            #expect(payouts.data.count == 1)
            #expect(payouts.data.first?["bonus_idr"] as? Int == 500_000)  // 1,800,000 earned, capped
            #expect(payouts.data.first?["gross_idr"] as? Int == 2_000_000)
        }
    }

    @Test func insightsComeOnlyFromTheKolOnALiveDeliverableOnceDue() async throws {
        try await TestApp.run { app in
            let p = try await app.production { $0.brandReviewRequired = false }
            let d = p.feed
            #expect(
                try await app.post("/v1/deliverables/\(d)/insights", token: p.cast.kol.token, InsightsBody(views: 1)).status
                    == .conflict)
            let draft = try #require(try await app.submitDraft(d, by: p.cast.kol)["id"])
            _ = try await app.review(draft, "approve", by: p.cast.officer)
            let now = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-60))
            _ = try await app.post(
                "/v1/deliverables/\(d)/post", token: p.cast.kol.token, PostBody(url: "https://instagram.com/p/x", postedAt: now))
            _ = try await app.post("/v1/deliverables/\(d)/post/verify", token: p.cast.officer.token)
            let early = try await app.post("/v1/deliverables/\(d)/insights", token: p.cast.kol.token, InsightsBody(views: 1))
            #expect(early.status == .conflict)
            #expect(early["detail"]?.contains("due") == true)
            try await app.execute("UPDATE deliverables SET insights_due_at = now() - interval '1 hour'")
            var bad = InsightsBody(views: -1)
            bad.evidenceURLs = []
            bad.likes = 1
            let wrongType = try await app.post(
                "/v1/deliverables/\(d)/insights", token: p.cast.kol.token, RawJSON(bad, setting: ["likes": "many"]))  // on purpose
            #expect(wrongType.status == .unprocessableContent)
            #expect(wrongType.errorFields == ["likes"])
            let negative = try await app.post("/v1/deliverables/\(d)/insights", token: p.cast.kol.token, bad)
            #expect(Set(negative.errorFields) == ["views", "evidence_urls"])
            for account in [p.cast.officer, p.cast.brand, p.cast.finance] {
                #expect(
                    try await app.post("/v1/deliverables/\(d)/insights", token: account.token, InsightsBody(views: 1)).status
                        == .forbidden)
            }
            #expect(try await app.count("SELECT count(*)::int FROM insights") == 0)
            // Submitted, rejected with a reason, submitted again, verified: every submission is kept.
            #expect(
                try await app.post("/v1/deliverables/\(d)/insights", token: p.cast.kol.token, InsightsBody(views: 10)).status
                    == .created)
            #expect(try await app.post("/v1/deliverables/\(d)/insights/verify", token: p.cast.kol.token).status == .forbidden)
            let rejected = try await app.post(
                "/v1/deliverables/\(d)/insights/reject", token: p.cast.officer.token, ReasonBody(reason: "Screenshot is cropped"))
            #expect(rejected["status"] == "live")
            #expect(
                try await app.post("/v1/deliverables/\(d)/insights", token: p.cast.kol.token, InsightsBody(views: 12)).status
                    == .created)
            #expect(try await app.post("/v1/deliverables/\(d)/insights/verify", token: p.cast.officer.token)["status"] == "completed")
            let history = try await app.get("/v1/deliverables/\(d)/insights", token: p.cast.kol.token)
            #expect(history.data.compactMap { $0["status"] as? String } == ["rejected", "verified"])
            #expect(history.data.first?["rejection_reason"] as? String == "Screenshot is cropped")
        }
    }

    /// Insights past their due time, then insights waiting for the check, surface in the officer's worklist.
    @Test func theWorklistShowsOverdueInsightsThenInsightsToVerify() async throws {
        try await TestApp.run { app in
            let p = try await app.production { $0.brandReviewRequired = false }
            try await app.makeLive(p.feed, p.cast)
            func items(_ kind: String) async throws -> [[String: any Sendable]] {
                try await app.get("/v1/worklist", token: p.cast.officer.token).data.filter { $0["kind"] as? String == kind }
            }
            let overdue = try await items("overdue_insights")
            #expect(overdue.compactMap { $0["entity_id"] as? String } == [p.feed])
            #expect(overdue.first?["entity_type"] as? String == "deliverable")
            #expect(overdue.first?["due_at"] as? String != nil)
            #expect(overdue.first?["due_at"] as? String == overdue.first?["since"] as? String)
            #expect(try await items("insights_to_verify").isEmpty)

            #expect(
                try await app.post("/v1/deliverables/\(p.feed)/insights", token: p.cast.kol.token, InsightsBody(views: 10)).status
                    == .created)
            #expect(try await items("overdue_insights").isEmpty)
            let toVerify = try await items("insights_to_verify")
            #expect(toVerify.compactMap { $0["entity_id"] as? String } == [p.feed])
            #expect(toVerify.first?["due_at"] is NSNull)
            // Another officer's worklist does not show it.
            let other = try await app.user(.officer, by: p.cast.admin)
            #expect(try await app.get("/v1/worklist", token: other.token).data.isEmpty)

            #expect(try await app.post("/v1/deliverables/\(p.feed)/insights/verify", token: p.cast.officer.token)["status"] == "completed")
            #expect(try await items("insights_to_verify").isEmpty)
        }
    }

    @Test func whoSeesAndApprovesPayouts() async throws {
        try await TestApp.run { app in
            let (p, payoutID) = try await app.finishedProduction()
            // Brands never see payouts.
            #expect(try await app.get("/v1/payouts", token: p.cast.brand.token).status == .forbidden)
            #expect(try await app.get("/v1/payouts/\(payoutID)", token: p.cast.brand.token).status == .notFound)
            #expect(try await app.post("/v1/payouts/\(payoutID)/approve", token: p.cast.brand.token).status == .notFound)
            // Another KOL and another officer do not see it.
            let otherKol = try await app.kol()
            let otherOfficer = try await app.user(.officer, by: p.cast.admin)
            #expect(try await app.get("/v1/payouts/\(payoutID)", token: otherKol.token).status == .notFound)
            #expect(try await app.get("/v1/payouts", token: otherOfficer.token).data.isEmpty)
            #expect(try await app.get("/v1/payouts", token: otherKol.token).data.isEmpty)
            // The KOL sees hers but may not approve it.
            #expect(try await app.get("/v1/payouts", token: p.cast.kol.token).data.count == 1)
            #expect(try await app.post("/v1/payouts/\(payoutID)/approve", token: p.cast.kol.token).status == .forbidden)
            // Batches are finance's.
            for account in [p.cast.officer, p.cast.brand, p.cast.kol] {
                #expect(try await app.post("/v1/payout-batches", token: account.token).status == .forbidden)
                #expect(try await app.get("/v1/payout-batches", token: account.token).status == .forbidden)
            }
            #expect(try await app.post("/v1/payouts/\(payoutID)/approve", token: p.cast.finance.token)["status"] == "approved")
            #expect(try await app.post("/v1/payouts/\(payoutID)/approve", token: p.cast.officer.token).status == .conflict)
            #expect(try await app.get("/v1/payouts?status=approved", token: p.cast.officer.token).data.count == 1)
            #expect(try await app.get("/v1/payouts?status=pending", token: p.cast.finance.token).status == .unprocessableContent)
        }
    }

    @Test func aPayoutWithoutBankDetailsIsHeldOutOfBatches() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let brandID = try await app.brand(by: admin)
            let officer = try await app.user(.officer, by: admin)
            let cast = TestApp.Cast(
                admin: admin, officer: officer, finance: try await app.user(.finance, by: admin),
                brand: try await app.user(.brand, brandID: brandID, by: admin), brandID: brandID, kol: try await app.kol(bank: false))
            let campaign = try await app.recruitingCampaign(by: officer, brandID: brandID) { $0.brandReviewRequired = false }
            let registration = try await app.register(cast.kol, for: campaign)
            _ = try await app.act("accept", registration: registration, by: officer)
            let deliverables = try await app.get("/v1/registrations/\(registration)/deliverables", token: cast.kol.token)
            for d in deliverables.data.compactMap({ $0["id"] as? String }) { try await app.complete(d, cast, views: 1_000) }
            let payout = try #require(try await app.get("/v1/payouts", token: cast.finance.token).data.first)
            let id = try #require(payout["id"] as? String)
            #expect(payout["hold_reason"] as? String == "bank details missing")
            _ = try await app.post("/v1/payouts/\(id)/approve", token: cast.finance.token)
            let nothing = try await app.post("/v1/payout-batches", token: cast.finance.token)
            #expect(nothing.status == .conflict)
            #expect(try await app.count("SELECT count(*)::int FROM payout_batches") == 0)
            // Once the KOL adds her bank details, the payout can be batched.
            _ = try await app.patch(
                "/v1/kols/\(cast.kol.id)", token: cast.kol.token,
                KolUpdateBody(bank: BankBody(bankName: "BRI", bankCode: "BRI", accountNumber: "002101000123567", accountHolder: "Ibu")),
                ifMatch: "\"v1\"")
            #expect(try await app.get("/v1/payouts/\(id)", token: cast.finance.token).json["hold_reason"] is NSNull)
            #expect(try await app.post("/v1/payout-batches", token: cast.finance.token).status == .created)
        }
    }

    @Test func aFailedPayoutIsApprovedAgainIntoALaterBatchAndTheFirstExportNeverChanges() async throws {
        try await TestApp.run { app in
            let (p, payoutID) = try await app.finishedProduction()
            let finance = p.cast.finance
            _ = try await app.post("/v1/payouts/\(payoutID)/approve", token: finance.token)
            let first = try #require(try await app.post("/v1/payout-batches", token: finance.token)["id"])
            let before = try await app.get("/v1/payout-batches/\(first)/export.csv", token: finance.token).text
            let failed = try await app.post(
                "/v1/payout-batches/\(first)/mark-failed", token: finance.token,
                MarkFailedBody(payoutIDs: [payoutID], reason: "Account closed"))
            #expect(failed.json["failed_count"] as? Int == 1)
            #expect(try await app.get("/v1/payouts/\(payoutID)", token: finance.token)["failure_reason"] == "Account closed")
            #expect(try await app.post("/v1/payouts/\(payoutID)/approve", token: finance.token)["status"] == "approved")
            let second = try #require(try await app.post("/v1/payout-batches", token: finance.token)["id"])
            #expect(second != first)
            #expect(try await app.get("/v1/payouts/\(payoutID)", token: finance.token)["batch_id"] == second)
            let after = try await app.get("/v1/payout-batches/\(first)/export.csv", token: finance.token).text
            #expect(after == before)
            #expect(try await app.get("/v1/payout-batches/\(first)", token: finance.token)["status"] == "settled")
            // A payout of another batch cannot be settled through this one.
            let wrong = try await app.post(
                "/v1/payout-batches/\(first)/mark-paid", token: finance.token, MarkPaidBody(payoutIDs: [payoutID], bankReference: "REF"))
            #expect(wrong.status == .conflict)
            #expect(try await app.get("/v1/payouts/\(payoutID)", token: finance.token)["status"] == "exported")
        }
    }

    @Test func bankFileFieldsAreQuotedAndFormulasDefused() async throws {
        try await TestApp.run { app in
            let (p, payoutID) = try await app.finishedProduction()
            _ = try await app.patch(
                "/v1/kols/\(p.cast.kol.id)", token: p.cast.kol.token,
                KolUpdateBody(bank: BankBody(bankName: "BCA", accountHolder: "=HYPERLINK(\"x\"), Ibu")),
                ifMatch: "\"v1\"")
            _ = try await app.post("/v1/payouts/\(payoutID)/approve", token: p.cast.finance.token)
            let batch = try #require(try await app.post("/v1/payout-batches", token: p.cast.finance.token)["id"])
            let csv = try await app.get("/v1/payout-batches/\(batch)/export.csv", token: p.cast.finance.token).text
            #expect(csv.contains(",BCA,\"'=HYPERLINK(\"\"x\"\"), Ibu\",1234567890,"), "\(csv)")
            #expect(BankFile.field("=HYPERLINK(\"x\"), Ibu") == "\"'=HYPERLINK(\"\"x\"\"), Ibu\"")
        }
    }

    @Test func badSettlementsChangeNothing() async throws {
        try await TestApp.run { app in
            let (p, payoutID) = try await app.finishedProduction()
            let finance = p.cast.finance
            _ = try await app.post("/v1/payouts/\(payoutID)/approve", token: finance.token)
            let batch = try #require(try await app.post("/v1/payout-batches", token: finance.token)["id"])
            let empty = try await app.post(
                "/v1/payout-batches/\(batch)/mark-paid", token: finance.token, MarkPaidBody(payoutIDs: [], bankReference: ""))
            #expect(Set(empty.errorFields) == ["payout_ids", "bank_reference"])
            let notUUID = try await app.post(
                "/v1/payout-batches/\(batch)/mark-paid", token: finance.token, MarkPaidBody(payoutIDs: ["nope"], bankReference: "R"))
            #expect(notUUID.errorFields == ["payout_ids[0]"])
            let mixed = try await app.post(
                "/v1/payout-batches/\(batch)/mark-paid", token: finance.token,
                MarkPaidBody(payoutIDs: [payoutID, UUID().uuidString], bankReference: "R"))
            #expect(mixed.status == .conflict)
            #expect(try await app.get("/v1/payouts/\(payoutID)", token: finance.token)["status"] == "exported")
            #expect(try await app.get("/v1/payout-batches/\(UUID().uuidString)", token: finance.token).status == .notFound)
            #expect(try await app.get("/v1/payout-batches/\(batch)/export.csv", token: p.cast.officer.token).status == .notFound)
            #expect(
                try await app.post(
                    "/v1/payout-batches/\(batch)/mark-paid", token: p.cast.officer.token,
                    MarkPaidBody(payoutIDs: [payoutID], bankReference: "R")
                ).status == .notFound)
            await #expect(throws: (any Error).self) { try await app.execute("UPDATE payout_batch_lines SET amount_idr = 1") }
        }
    }

    @Test func concurrentBatchesFromTwoInstancesNeverShareAPayout() async throws {
        try await TestApp.runTwoInstances { first, second in
            let cast = try await first.cast()
            let campaign = try await first.recruitingCampaign(by: cast.officer, brandID: cast.brandID, slots: 50)
            // 40 approved payouts, made directly: what matters here is batching, not how they were earned.
            let registrations = try await (0..<40).asyncMap { _ in try await first.register(try await first.kol(), for: campaign) }
            for registration in registrations { _ = try await first.act("accept", registration: registration, by: cast.officer) }
            try await first.execute(
                """
                INSERT INTO payouts (registration_id, campaign_id, kol_id, status, fee_idr, bonus_idr, gross_idr, tax_idr, net_idr,
                                     metric_value, withholding_bp, approved_at)
                SELECT id, campaign_id, kol_id, 'approved', 1000000, 0, 1000000, 25000, 975000, 0, 250, now() FROM registrations
                """)
            let responses = try await withThrowingTaskGroup(of: APIResponse.self) { group in
                for index in 0..<8 {
                    let instance = index.isMultiple(of: 2) ? first : second
                    group.addTask { try await instance.post("/v1/payout-batches", token: cast.finance.token) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let made = responses.filter { $0.status == .created }
            #expect(!made.isEmpty)
            #expect(made.count + responses.filter { $0.status == .conflict }.count == 8)
            #expect(made.reduce(0) { $0 + ($1.json["payout_count"] as? Int ?? 0) } == 40)
            #expect(try await first.count("SELECT count(*)::int FROM payouts WHERE status = 'exported' AND batch_id IS NOT NULL") == 40)
            #expect(try await first.count("SELECT count(DISTINCT payout_id)::int FROM payout_batch_lines") == 40)
            #expect(try await first.count("SELECT count(*)::int FROM payout_batch_lines") == 40)
            // Each export adds up to its batch's total, to the rupiah.
            for batch in made {
                let id = try #require(batch["id"])
                let csv = try await second.get("/v1/payout-batches/\(id)/export.csv", token: cast.finance.token).text
                let amounts = csv.split(separator: "\n").dropFirst().map { Int($0.split(separator: ",")[1]) ?? 0 }
                #expect(amounts.reduce(0, +) == batch.json["total_net_idr"] as? Int)
                #expect(amounts.count == batch.json["payout_count"] as? Int)
            }
        }
    }

    @Test func theCampaignReportAddsUpAndEachRoleReadsWhatItMay() async throws {
        try await TestApp.run { app in
            let (p, payoutID) = try await app.finishedProduction(views: [100_000, 50_000, 30_000, 20_000])
            let report = try await app.get("/v1/campaigns/\(p.campaign)/report", token: p.cast.brand.token)
            #expect(report.status == .ok)
            let totals = try #require(report.json["totals"] as? [String: Any])
            #expect(totals["views"] as? Int == 200_000)
            #expect(totals["reach"] as? Int == 4_000)
            #expect(totals["impressions"] as? Int == 8_000)
            #expect(totals["engagements"] as? Int == 480)  // (100 + 10 + 5 + 5) x 4
            #expect(totals["engagement_rate"] as? Double == 0.12)
            #expect(totals["cost_gross_idr"] as? Int == 1_900_000)
            #expect(totals["cost_net_idr"] as? Int == 1_852_500)
            #expect(totals["cpm_idr"] as? Int == 237_500)  // 1,900,000 * 1000 / 8,000
            #expect(totals["cpe_idr"] as? Int == 3_958)  // floor(1,900,000 / 480)
            let funnel = try #require(report.json["funnel"] as? [String: [String: Int]])
            #expect(funnel["registrations"]?["accepted"] == 1)
            #expect(funnel["deliverables"]?["completed"] == 4)
            // Every status is counted, zero or not.
            #expect(Set(funnel["registrations"]?.keys ?? [:].keys) == Set(RegistrationStatus.allCases.map(\.rawValue)))
            #expect(Set(funnel["deliverables"]?.keys ?? [:].keys) == Set(DeliverableStatus.allCases.map(\.rawValue)))
            let rows = try #require(report.json["kols"] as? [[String: Any]])
            #expect(rows.count == 1)
            let row = try #require(rows.first)
            #expect(row["kol_id"] as? String == p.cast.kol.id)
            #expect(row["deliverables_completed"] as? Int == 4)
            #expect(row["views"] as? Int == 200_000)
            #expect(row["engagement_rate"] as? Double == 0.12)
            #expect(row["gross_idr"] as? Int == 1_900_000)
            #expect(row["payout_status"] as? String != nil)
            #expect(
                Set(row.keys) == [
                    "kol_id", "full_name", "registration_status", "deliverables", "deliverables_completed", "reach", "impressions",
                    "views", "engagements", "engagement_rate", "payout_status", "gross_idr", "net_idr", "cpm_idr", "cpe_idr",
                ])
            // Paying it gives the median days to payment.
            _ = try await app.post("/v1/payouts/\(payoutID)/approve", token: p.cast.finance.token)
            let batch = try #require(try await app.post("/v1/payout-batches", token: p.cast.finance.token)["id"])
            _ = try await app.post(
                "/v1/payout-batches/\(batch)/mark-paid", token: p.cast.finance.token,
                MarkPaidBody(payoutIDs: [payoutID], bankReference: "R1"))
            let paid = try await app.get("/v1/campaigns/\(p.campaign)/report", token: p.cast.officer.token)
            #expect((paid.json["totals"] as? [String: Any])?["median_days_to_payment"] as? Double != nil)
            let csv = try await app.get("/v1/campaigns/\(p.campaign)/report.csv", token: p.cast.finance.token)
            #expect(csv.text.hasPrefix("kol_id,full_name,"))
            #expect(csv.text.split(separator: "\n").count == 2)
            // A KOL reads only her own figures; strangers get 404.
            let other = try await app.kol()
            _ = try await app.register(other, for: p.campaign)
            let own = try await app.get("/v1/campaigns/\(p.campaign)/report", token: other.token)
            #expect(own.status == .ok)
            #expect((own.json["kols"] as? [Any])?.isEmpty == true)
            #expect((own.json["totals"] as? [String: Any])?["cost_gross_idr"] as? Int == 0)
            #expect((own.json["totals"] as? [String: Any])?["engagement_rate"] is NSNull)  // no reach: no rate, an explicit null
            #expect((own.json["totals"] as? [String: Any])?["cpm_idr"] is NSNull)
            #expect(!own.text.contains(p.cast.kol.id))
            let otherBrandID = try await app.brand(by: p.cast.admin)
            let otherBrand = try await app.user(.brand, brandID: otherBrandID, by: p.cast.admin)
            #expect(try await app.get("/v1/campaigns/\(p.campaign)/report", token: otherBrand.token).status == .notFound)
        }
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
