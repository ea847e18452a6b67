import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import PostgresNIO
import Testing

/// An accepted KOL with her deliverables, on a campaign of `cast.brand` run by `cast.officer`.
struct Production: Sendable {
    let cast: TestApp.Cast
    let campaign: String
    let registration: String
    let deliverables: [String]
    var feed: String { deliverables[0] }
}

extension TestApp {
    /// `change` sets what the campaign does differently from the usual `CampaignDraftBody`.
    func production(_ change: (inout CampaignDraftBody) -> Void = { _ in }) async throws -> Production {
        let cast = try await cast()
        let campaign = try await recruitingCampaign(by: cast.officer, brandID: cast.brandID, change)
        let registration = try await register(cast.kol, for: campaign)
        _ = try await act("accept", registration: registration, by: cast.officer)
        let deliverables = try await get("/v1/registrations/\(registration)/deliverables", token: cast.kol.token)
        let ids = deliverables.data.compactMap { $0["id"] as? String }
        // A failed set-up is a failed test, not a crash of the whole run (`feed` reads the first).
        try #require(!ids.isEmpty, "the accepted registration has no deliverables: \(deliverables.text.prefix(300))")
        return Production(cast: cast, campaign: campaign, registration: registration, deliverables: ids)
    }

    func submitDraft(_ deliverable: String, by kol: Account, caption: String = "Sahur ceria bersama si kecil #SusuBunda") async throws
        -> APIResponse
    {
        try await post(
            "/v1/deliverables/\(deliverable)/drafts", token: kol.token,
            DraftBody(caption: caption, media: [MediaBody(url: "https://cdn.example.id/ayu/sahur.jpg")], notes: "Foto pagi"))
    }

    func review(_ draft: String, _ decision: String, _ message: String = "", by account: Account) async throws -> APIResponse {
        try await post("/v1/drafts/\(draft)/reviews", token: account.token, ReviewBody(decision: decision, message: message))
    }

    func deliverableStatus(_ id: String, as account: Account) async throws -> String {
        try await get("/v1/deliverables/\(id)", token: account.token)["status"] ?? "?"
    }
}

@Suite("Content review")
struct ContentReviewTests {
    @Test func twoBrandFeedbackRoundsRelayedByTheOfficerThenApprovedPostedAndLive() async throws {
        try await TestApp.run { app in
            let p = try await app.production()
            let (kol, officer, brand) = (p.cast.kol, p.cast.officer, p.cast.brand)
            var draft = try #require(try await app.submitDraft(p.feed, by: kol)["id"])
            for round in 1...2 {
                #expect(try await app.review(draft, "forward", "Untuk dicek tim brand", by: officer).status == .created)
                #expect(try await app.deliverableStatus(p.feed, as: officer) == "in_brand_review")
                #expect(
                    try await app.review(draft, "request_changes", "Brand round \(round): logo too small", by: brand).status == .created)
                #expect(try await app.deliverableStatus(p.feed, as: officer) == "brand_feedback")
                #expect(
                    try await app.review(draft, "relay", "Mbak, tolong perbesar kemasan susunya (ronde \(round))", by: officer).status
                        == .created)
                #expect(try await app.deliverableStatus(p.feed, as: kol) == "changes_requested")
                let revision = try await app.submitDraft(p.feed, by: kol, caption: "Revisi \(round)")
                #expect(revision.status == .created)
                #expect(revision.json["version"] as? Int == round + 1)
                draft = try #require(revision["id"])
            }
            let afterRevisions = try await app.get("/v1/deliverables/\(p.feed)", token: officer.token)
            #expect(afterRevisions.json["revision_rounds_used"] as? Int == 2)
            #expect(afterRevisions.json["current_draft_version"] as? Int == 3)
            #expect(try await app.review(draft, "forward", by: officer).status == .created)
            #expect(try await app.review(draft, "approve", "Bagus!", by: brand).status == .created)
            #expect(try await app.deliverableStatus(p.feed, as: kol) == "approved")
            let posted = try await app.post(
                "/v1/deliverables/\(p.feed)/post", token: kol.token,
                PostBody(url: "https://www.instagram.com/p/SahurCeria1/", postedAt: "2026-11-01T10:00:00Z"))
            #expect(posted["status"] == "posted")
            #expect(posted["post_url"] == "https://www.instagram.com/p/SahurCeria1/")
            let live = try await app.post("/v1/deliverables/\(p.feed)/post/verify", token: officer.token)
            #expect(live["status"] == "live")
            #expect(live["insights_due_at"] == "2026-11-08T10:00:00Z")  // posted_at + 7 days
            // The timeline holds the whole path of the deliverable, in order.
            let events = try await app.get("/v1/campaigns/\(p.campaign)/events?limit=200", token: officer.token)
            let path = events.data.filter { $0["entity_id"] as? String == p.feed }.compactMap { $0["to"] as? String }
            #expect(
                path == [
                    "awaiting_draft", "draft_submitted", "in_brand_review", "brand_feedback", "changes_requested", "draft_submitted",
                    "in_brand_review", "brand_feedback", "changes_requested", "draft_submitted", "in_brand_review", "approved", "posted",
                    "live",
                ])
            // Every review is kept with its draft.
            let drafts = try await app.get("/v1/deliverables/\(p.feed)/drafts", token: officer.token)
            #expect(drafts.data.map { ($0["reviews"] as? [Any])?.count ?? -1 } == [3, 3, 2])
        }
    }

    @Test func theBrandsWordsNeverReachTheKol() async throws {
        try await TestApp.run { app in
            let p = try await app.production()
            let secret = "BRAND-ONLY-\(UUID().uuidString)"
            let forwardNote = "OFFICER-TO-BRAND-\(UUID().uuidString)"
            let draft = try #require(try await app.submitDraft(p.feed, by: p.cast.kol)["id"])
            _ = try await app.review(draft, "forward", forwardNote, by: p.cast.officer)
            _ = try await app.review(draft, "request_changes", secret, by: p.cast.brand)
            _ = try await app.review(draft, "relay", "Tolong ganti latar belakangnya", by: p.cast.officer)
            // Everything the KOL can fetch about this work.
            let kolViews = [
                "/v1/drafts/\(draft)", "/v1/deliverables/\(p.feed)/drafts", "/v1/deliverables/\(p.feed)",
                "/v1/registrations/\(p.registration)", "/v1/registrations/\(p.registration)/deliverables",
                "/v1/campaigns/\(p.campaign)/events?limit=200", "/v1/campaigns/\(p.campaign)",
            ]
            for path in kolViews {
                let response = try await app.get(path, token: p.cast.kol.token)
                #expect(response.status == .ok, "\(path)")
                #expect(!response.text.contains(secret), "the brand's feedback leaked through \(path)")
                #expect(!response.text.contains(forwardNote), "the forwarding note leaked through \(path)")
            }
            let forKol = try await app.get("/v1/drafts/\(draft)", token: p.cast.kol.token)
            let kolReviews = forKol.json["reviews"] as? [[String: Any]] ?? []
            #expect(kolReviews.map { $0["message"] as? String } == ["Tolong ganti latar belakangnya"])
            // The officer and the brand see the brand's words.
            for account in [p.cast.officer, p.cast.brand, p.cast.admin] {
                #expect(try await app.get("/v1/drafts/\(draft)", token: account.token).text.contains(secret))
            }
        }
    }

    @Test func revisionsPastTheCapWaitForAnExtraRound() async throws {
        try await TestApp.run { app in
            let p = try await app.production {
                $0.maxRevisionRounds = 1
                $0.brandReviewRequired = false
            }
            var draft = try #require(try await app.submitDraft(p.feed, by: p.cast.kol)["id"])
            _ = try await app.review(draft, "request_changes", "Kurang terang", by: p.cast.officer)
            draft = try #require(try await app.submitDraft(p.feed, by: p.cast.kol)["id"])  // round 1 of 1
            _ = try await app.review(draft, "request_changes", "Masih kurang", by: p.cast.officer)
            let capped = try await app.submitDraft(p.feed, by: p.cast.kol)
            #expect(capped.status == .conflict)
            #expect(capped["detail"]?.contains("extra round") == true)
            #expect(try await app.count("SELECT count(*)::int FROM drafts") == 2)
            #expect(try await app.post("/v1/deliverables/\(p.feed)/extra-round", token: p.cast.kol.token).status == .forbidden)
            #expect(try await app.post("/v1/deliverables/\(p.feed)/extra-round", token: p.cast.brand.token).status == .forbidden)
            let granted = try await app.post("/v1/deliverables/\(p.feed)/extra-round", token: p.cast.officer.token)
            #expect(granted.json["extra_rounds"] as? Int == 1)
            #expect(granted["status"] == "changes_requested")
            let third = try await app.submitDraft(p.feed, by: p.cast.kol)
            #expect(third.status == .created)
            #expect(third.json["version"] as? Int == 3)
            // Without brand review the officer approves directly.
            #expect(try await app.review(try #require(third["id"]), "approve", by: p.cast.officer).status == .created)
            let shown = try await app.get("/v1/deliverables/\(p.feed)", token: p.cast.kol.token)
            #expect(shown["status"] == "approved")
            #expect(shown.json["revision_rounds_used"] as? Int == 2)
        }
    }

    @Test func whoMayReviewWhat() async throws {
        try await TestApp.run { app in
            let p = try await app.production()
            let draft = try #require(try await app.submitDraft(p.feed, by: p.cast.kol)["id"])
            // The campaign needs brand review: the officer may not approve it directly.
            #expect(try await app.review(draft, "approve", by: p.cast.officer).status == .conflict)
            #expect(try await app.review(draft, "forward", by: p.cast.brand).status == .forbidden)
            #expect(try await app.review(draft, "relay", "x", by: p.cast.brand).status == .forbidden)
            for decision in ["forward", "approve", "request_changes"] {
                #expect(try await app.review(draft, decision, "x", by: p.cast.kol).status == .forbidden)
                #expect(try await app.review(draft, decision, "x", by: p.cast.finance).status == .forbidden)
            }
            let otherKol = try await app.kol()
            let otherBrandID = try await app.brand(by: p.cast.admin)
            let otherBrand = try await app.user(.brand, brandID: otherBrandID, by: p.cast.admin)
            let otherOfficer = try await app.user(.officer, by: p.cast.admin)
            for stranger in [otherKol, otherBrand, otherOfficer] {
                #expect(try await app.get("/v1/drafts/\(draft)", token: stranger.token).status == .notFound)
                #expect(try await app.review(draft, "approve", "x", by: stranger).status == .notFound)
            }
            #expect(try await app.submitDraft(p.feed, by: otherKol).status == .notFound)
            for account in [p.cast.officer, p.cast.brand, p.cast.finance] {
                #expect(try await app.submitDraft(p.deliverables[1], by: account).status == .forbidden)
            }
            #expect(try await app.count("SELECT count(*)::int FROM reviews") == 0)
            #expect(try await app.deliverableStatus(p.feed, as: p.cast.officer) == "draft_submitted")
        }
    }

    @Test func concurrentReviewsOfOneDraftLetExactlyOneWin() async throws {
        try await TestApp.run(configure: { $0.databasePoolSize = 12 }) { app in
            let p = try await app.production()
            let draft = try #require(try await app.submitDraft(p.feed, by: p.cast.kol)["id"])
            let decisions = [
                "forward", "request_changes", "forward", "request_changes", "forward", "request_changes", "forward", "forward",
            ]
            let responses = try await withThrowingTaskGroup(of: APIResponse.self) { group in
                for decision in decisions {
                    group.addTask { try await app.review(draft, decision, "Catatan", by: p.cast.officer) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(responses.filter { $0.status == .created }.count == 1)
            #expect(responses.filter { $0.status == .conflict }.count == decisions.count - 1)
            #expect(try await app.count("SELECT count(*)::int FROM reviews") == 1)
        }
    }

    @Test func onlyTheLatestVersionCanBeReviewed() async throws {
        try await TestApp.run { app in
            let p = try await app.production()
            let first = try #require(try await app.submitDraft(p.feed, by: p.cast.kol)["id"])
            _ = try await app.review(first, "request_changes", "Ganti caption", by: p.cast.officer)
            _ = try await app.submitDraft(p.feed, by: p.cast.kol)
            let old = try await app.review(first, "forward", by: p.cast.officer)
            #expect(old.status == .conflict)
            #expect(old["detail"]?.contains("latest") == true)
        }
    }

    @Test func badContentIsRefusedAndChangesNothing() async throws {
        try await TestApp.run { app in
            let p = try await app.production()
            let kol = p.cast.kol
            let empty = try await app.post("/v1/deliverables/\(p.feed)/drafts", token: kol.token, DraftBody(caption: " ", media: []))
            #expect(empty.status == .unprocessableContent)
            #expect(empty.errorFields == ["caption"])
            let badMedia = try await app.post(
                "/v1/deliverables/\(p.feed)/drafts", token: kol.token,
                DraftBody(caption: "x", media: [MediaBody(url: "not a url"), MediaBody(url: "https://x.id/a.gif", kind: "gif")]))
            #expect(badMedia.status == .unprocessableContent)
            #expect(badMedia.errorFields == ["media[1].kind"])
            let badURL = try await app.post(
                "/v1/deliverables/\(p.feed)/drafts", token: kol.token,
                DraftBody(caption: "x", media: [MediaBody(url: "javascript:alert(1)")]))
            #expect(badURL.errorFields == ["media[0].url"])
            #expect(try await app.post("/v1/deliverables/\(p.feed)/drafts", token: kol.token, raw: "{\"caption\":").status == .badRequest)
            #expect(
                try await app.post("/v1/deliverables/\(UUID().uuidString)/drafts", token: kol.token, DraftBody(caption: "x")).status
                    == .notFound)
            #expect(try await app.count("SELECT count(*)::int FROM drafts") == 0)

            let draft = try #require(try await app.submitDraft(p.feed, by: kol)["id"])
            #expect(try await app.review(draft, "request_changes", "", by: p.cast.officer).errorFields == ["message"])
            #expect(try await app.review(draft, "maybe", "x", by: p.cast.officer).errorFields == ["decision"])
            // A second draft while one waits for review is out of turn.
            #expect(try await app.submitDraft(p.feed, by: kol).status == .conflict)
            // Post proof only on an approved deliverable, never in the future.
            let early = try await app.post(
                "/v1/deliverables/\(p.feed)/post", token: kol.token,
                PostBody(url: "https://instagram.com/p/1", postedAt: "2026-11-01T10:00:00Z"))
            #expect(early.status == .conflict)
            let future = try await app.post(
                "/v1/deliverables/\(p.feed)/post", token: kol.token,
                PostBody(url: "https://instagram.com/p/1", postedAt: "2099-01-01T00:00:00Z"))
            #expect(future.errorFields == ["posted_at"])
            #expect(try await app.count("SELECT count(*)::int FROM reviews") == 0)
            #expect(try await app.deliverableStatus(p.feed, as: kol) == "draft_submitted")
            await #expect(throws: (any Error).self) { try await app.execute("UPDATE drafts SET caption = 'forged'") }
        }
    }

    @Test func theOfficerRejectsAPostProofAndCancelsDeliverables() async throws {
        try await TestApp.run { app in
            let p = try await app.production { $0.brandReviewRequired = false }
            let draft = try #require(try await app.submitDraft(p.feed, by: p.cast.kol)["id"])
            _ = try await app.review(draft, "approve", by: p.cast.officer)
            _ = try await app.post(
                "/v1/deliverables/\(p.feed)/post", token: p.cast.kol.token,
                PostBody(url: "https://instagram.com/p/wrong", postedAt: "2026-11-01T10:00:00Z"))
            #expect(try await app.post("/v1/deliverables/\(p.feed)/post/verify", token: p.cast.kol.token).status == .forbidden)
            #expect(
                try await app.post("/v1/deliverables/\(p.feed)/post/reject", token: p.cast.officer.token, ReasonBody(reason: ""))
                    .errorFields == [
                        "reason"
                    ])
            let rejected = try await app.post(
                "/v1/deliverables/\(p.feed)/post/reject", token: p.cast.officer.token, ReasonBody(reason: "Link ke post lain"))
            #expect(rejected["status"] == "approved")
            #expect(rejected.json["post_url"] is NSNull)
            // Cancelling: the officer, with a reason; never twice.
            #expect(
                try await app.post("/v1/deliverables/\(p.deliverables[1])/cancel", token: p.cast.kol.token, ReasonBody(reason: "x")).status
                    == .forbidden)
            #expect(
                try await app.post("/v1/deliverables/\(p.deliverables[1])/cancel", token: p.cast.brand.token, ReasonBody(reason: "x"))
                    .status
                    == .forbidden)
            let cancelled = try await app.post(
                "/v1/deliverables/\(p.deliverables[1])/cancel", token: p.cast.officer.token, ReasonBody(reason: "Brand cut stories"))
            #expect(cancelled["status"] == "cancelled")
            #expect(
                try await app.post("/v1/deliverables/\(p.deliverables[1])/cancel", token: p.cast.officer.token, ReasonBody(reason: "again"))
                    .status
                    == .conflict)
            let events = try await app.get("/v1/campaigns/\(p.campaign)/events?limit=200", token: p.cast.officer.token)
            let cancelEvent = events.data.last { $0["entity_id"] as? String == p.deliverables[1] }
            #expect((cancelEvent?["data"] as? [String: Any])?["reason"] as? String == "Brand cut stories")
        }
    }

    @Test func theWorklistShowsWhatWaitsOnTheOfficerAndTheBrand() async throws {
        try await TestApp.run { app in
            let p = try await app.production()
            let (kol, officer, brand) = (p.cast.kol, p.cast.officer, p.cast.brand)
            let d0 = try #require(try await app.submitDraft(p.deliverables[0], by: kol)["id"])
            let d1 = try #require(try await app.submitDraft(p.deliverables[1], by: kol)["id"])
            _ = try await app.review(d1, "forward", by: officer)
            let d2 = try #require(try await app.submitDraft(p.deliverables[2], by: kol)["id"])
            _ = try await app.review(d2, "forward", by: officer)
            _ = try await app.review(d2, "request_changes", "Brand: ganti musik", by: brand)
            // The fourth deliverable's draft is overdue.
            try await app.execute(
                "UPDATE deliverables SET draft_due_at = now() - interval '2 days' WHERE id = \(UUID(uuidString: p.deliverables[3])!)")
            let officerItems = try await app.get("/v1/worklist", token: officer.token)
            let kinds = Dictionary(grouping: officerItems.data, by: { $0["kind"] as? String ?? "" }).mapValues {
                $0.compactMap { $0["entity_id"] as? String }
            }
            #expect(kinds["draft_to_review"] == [d0])
            #expect(kinds["brand_feedback_to_relay"] == [p.deliverables[2]])
            #expect(kinds["overdue_draft"] == [p.deliverables[3]])
            // Oldest first: the overdue draft (due two days ago) leads.
            #expect(officerItems.data.first?["kind"] as? String == "overdue_draft")
            let brandItems = try await app.get("/v1/worklist", token: brand.token)
            #expect(brandItems.data.map { $0["kind"] as? String } == ["draft_to_review"])
            #expect(brandItems.data.compactMap { $0["entity_id"] as? String } == [d1])
            let otherBrandID = try await app.brand(by: p.cast.admin)
            let otherBrand = try await app.user(.brand, brandID: otherBrandID, by: p.cast.admin)
            #expect(try await app.get("/v1/worklist", token: otherBrand.token).data.isEmpty)
            // A page at a time, oldest first.
            let page = try await app.get("/v1/worklist?limit=2", token: officer.token)
            let cursor = try #require(page["next_cursor"])
            let rest = try await app.get("/v1/worklist?limit=2&cursor=\(cursor)", token: officer.token)
            #expect(page.data.count + rest.data.count == officerItems.data.count)
        }
    }
}
