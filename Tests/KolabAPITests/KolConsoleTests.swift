import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import PostgresNIO
import Testing

@Suite("Web console: a KOL's pages")
struct KolConsoleTests {
    @Test func aKolFindsACampaignRegistersAcknowledgesAndSendsADraftFromThePages() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let campaign = try await app.recruitingCampaign(by: cast.officer, brandID: cast.brandID)
            var kol = ConsoleVisitor(app)
            _ = try await kol.signIn(cast.kol.email)
            let open = try await kol.get("/app/campaigns")
            #expect(open.status == .ok)
            #expect(open.text.contains("/app/campaigns/\(campaign)") && open.text.contains("You can register."))

            let page = try await kol.get("/app/campaigns/\(campaign)")
            #expect(page.text.contains("<label for=\"pitch\">"))
            let csrf = try #require(ConsoleVisitor.field("csrf_token", in: page))
            let key = try #require(ConsoleVisitor.field("idempotency_key", in: page))
            let form = ["csrf_token": csrf, "idempotency_key": key, "pitch": "Ibu dua anak, suka masak"]
            let registered = try await kol.post("/app/campaigns/\(campaign)/registrations", form: form)
            #expect(registered.status == .seeOther)
            #expect(try await kol.post("/app/campaigns/\(campaign)/registrations", form: form).status == .seeOther)
            #expect(try await app.count("SELECT count(*)::int FROM registrations WHERE campaign_id = \(UUID(uuidString: campaign)!)") == 1)
            let registration = String(try #require(registered.headers[.location]).split(separator: "/").last!)

            _ = try await app.act("accept", registration: registration, by: cast.officer)
            let accepted = try await kol.get("/app/registrations/\(registration)")
            #expect(accepted.text.contains("I have read the brief"))
            let acknowledged = try await kol.post(
                "/app/registrations/\(registration)/brief-acknowledgement",
                form: ["csrf_token": csrf, "version": try #require(ConsoleVisitor.field("version", in: accepted))])
            #expect(acknowledged.status == .seeOther)
            let registrationJSON = try await app.get("/v1/registrations/\(registration)", token: cast.kol.token)
            #expect(registrationJSON.json["brief_version_acknowledged"] as? Int == 1)

            let home = try await kol.get("/app")
            #expect(home.text.contains("Send your draft"))
            let deliverables = try await app.get("/v1/registrations/\(registration)/deliverables", token: cast.kol.token)
            let deliverable = try #require(deliverables.data.first?["id"] as? String)
            let deliverablePage = try await kol.get("/app/deliverables/\(deliverable)")
            #expect(deliverablePage.text.contains("type=\"url\""))
            let draftKey = try #require(ConsoleVisitor.field("idempotency_key", in: deliverablePage))
            let draftForm = [
                "csrf_token": csrf, "idempotency_key": draftKey, "caption": "Sahur ceria #SusuBunda",
                "media_1": "https://cdn.example.id/ayu/sahur.jpg", "notes": "Foto pagi",
            ]
            #expect(try await kol.post("/app/deliverables/\(deliverable)/drafts", form: draftForm).status == .seeOther)
            #expect(try await kol.post("/app/deliverables/\(deliverable)/drafts", form: draftForm).status == .seeOther)
            #expect(try await app.count("SELECT count(*)::int FROM drafts WHERE deliverable_id = \(UUID(uuidString: deliverable)!)") == 1)
            #expect(try await app.deliverableStatus(deliverable, as: cast.officer) == "draft_submitted")
        }
    }

    @Test func theKolReadsTheOfficersWordsNeverTheBrandsAndIsToldWhenRoundsRunOut() async throws {
        try await TestApp.run { app in
            let production = try await app.production { $0.maxRevisionRounds = 1 }
            let cast = production.cast
            let draft = try #require(try await app.submitDraft(production.feed, by: cast.kol)["id"])
            _ = try await app.review(draft, "forward", "Mohon dicek", by: cast.officer)
            _ = try await app.review(draft, "request_changes", "Logonya terlalu kecil, kompetitor kelihatan", by: cast.brand)
            _ = try await app.review(draft, "relay", "Tolong perbesar logo Susu Bunda", by: cast.officer)
            var kol = ConsoleVisitor(app)
            _ = try await kol.signIn(cast.kol.email)
            let page = try await kol.get("/app/deliverables/\(production.feed)")
            #expect(page.text.contains("Tolong perbesar logo Susu Bunda"))
            #expect(!page.text.contains("kompetitor kelihatan"), "the brand's own words never reach the KOL")
            #expect(page.text.contains("name=\"caption\""), "one revision round is left")

            let second = try #require(try await app.submitDraft(production.feed, by: cast.kol, caption: "Revisi #SusuBunda")["id"])
            _ = try await app.review(second, "request_changes", "Sekali lagi", by: cast.officer)
            let capped = try await kol.get("/app/deliverables/\(production.feed)?lang=id")
            #expect(capped.text.contains("bisa memberi satu putaran lagi"))
            #expect(!capped.text.contains("name=\"caption\""))
        }
    }

    @Test func profilePayoutsAndIsolation() async throws {
        try await TestApp.run { app in
            let production = try await app.production()
            let cast = production.cast
            var kol = ConsoleVisitor(app)
            _ = try await kol.signIn(cast.kol.email)
            let profile = try await kol.get("/app/profile")
            #expect(profile.status == .ok && profile.text.contains("name=\"account_number\""))
            let csrf = try #require(ConsoleVisitor.field("csrf_token", in: profile))
            let version = try #require(ConsoleVisitor.field("version", in: profile))
            let saved = try await kol.post(
                "/app/profile",
                form: [
                    "csrf_token": csrf, "version": version, "full_name": "Ayu Lestari", "city": "Bandung", "region": "Jawa Barat",
                    "niches": "parenting, cooking", "social_accounts[0].platform": "instagram", "social_accounts[0].handle": "ayu.masak",
                    "social_accounts[0].followers": "30000", "bank_name": "BCA", "bank_code": "014", "account_number": "1234567890",
                    "account_holder": "Ayu Lestari",
                ])
            #expect(saved.status == .seeOther)
            let me = try await app.get("/v1/kols/\(cast.kol.id)", token: cast.kol.token)
            #expect(me["city"] == "Bandung")
            // The same form again (an old version) does not overwrite what changed since.
            let stale = try await kol.post(
                "/app/profile", form: ["csrf_token": csrf, "version": version, "full_name": "X", "city": "Y", "region": "Z"])
            #expect(stale.status == .conflict)

            #expect(try await kol.get("/app/payouts").status == .ok)

            let other = try await app.kol()
            var stranger = ConsoleVisitor(app)
            _ = try await stranger.signIn(other.email)
            #expect(try await stranger.get("/app/deliverables/\(production.feed)").status == .notFound)
            #expect(try await stranger.get("/app/registrations/\(production.registration)").status == .notFound)
            var brand = ConsoleVisitor(app)
            _ = try await brand.signIn(cast.brand.email)
            #expect(try await brand.get("/app/profile").status == .notFound)
            #expect(try await brand.get("/app/deliverables/\(production.feed)").status == .notFound)
        }
    }

    @Test func theKolSendsHerPostLinkAndInsightsFromTheDeliverablePage() async throws {
        try await TestApp.run { app in
            let production = try await app.production { $0.insightsAfterDays = 1 }
            let cast = production.cast
            let draft = try #require(try await app.submitDraft(production.feed, by: cast.kol)["id"])
            _ = try await app.review(draft, "forward", "Mohon dicek", by: cast.officer)
            _ = try await app.review(draft, "approve", by: cast.brand)
            var kol = ConsoleVisitor(app)
            _ = try await kol.signIn(cast.kol.email)
            let approved = try await kol.get("/app/deliverables/\(production.feed)")
            #expect(approved.text.contains("name=\"url\" type=\"url\""))
            let csrf = try #require(ConsoleVisitor.field("csrf_token", in: approved))
            // Posted two days ago, 18:30 in Jakarta (the form's datetime-local is WIB).
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "Asia/Jakarta")
            formatter.dateFormat = "yyyy-MM-dd'T'HH:mm"
            let postedAt = formatter.string(from: Date().addingTimeInterval(-2 * 86_400))
            let postURL = "https://www.instagram.com/p/C9xYz12AbCd/"
            let posted = try await kol.post(
                "/app/deliverables/\(production.feed)/post", form: ["csrf_token": csrf, "url": postURL, "posted_at": postedAt])
            #expect(posted.status == .seeOther)
            let deliverable = try await app.get("/v1/deliverables/\(production.feed)", token: cast.kol.token)
            #expect(deliverable["post_url"] == postURL && deliverable["status"] == "posted")
            #expect(deliverable["posted_at"].flatMap { ISO8601DateFormatter().date(from: $0) } == formatter.date(from: postedAt))
            #expect(try await app.post("/v1/deliverables/\(production.feed)/post/verify", token: cast.officer.token).status == .ok)

            let live = try await kol.get("/app/deliverables/\(production.feed)")
            #expect(live.text.contains("name=\"reach\""))
            let bad = try await kol.post(
                "/app/deliverables/\(production.feed)/insights", form: ["csrf_token": csrf, "reach": "banyak", "evidence_url_1": "x"])
            #expect(bad.status == .unprocessableContent)
            let sent = try await kol.post(
                "/app/deliverables/\(production.feed)/insights",
                form: [
                    "csrf_token": csrf, "reach": "12000", "impressions": "15000", "views": "9000", "likes": "800", "comments": "45",
                    "shares": "12", "saves": "30", "clicks": "7", "evidence_url_1": "https://cdn.example.id/ayu/insights.png",
                ])
            #expect(sent.status == .seeOther)
            let insights = try await app.get("/v1/deliverables/\(production.feed)/insights", token: cast.kol.token)
            #expect(insights.data.first?["reach"] as? Int == 12_000 && insights.data.count == 1)
            #expect(try await app.deliverableStatus(production.feed, as: cast.officer) == "insights_submitted")
        }
    }

    @Test func theOfficersStartPageIsHerWorklist() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let campaign = try await app.recruitingCampaign(by: cast.officer, brandID: cast.brandID)
            _ = try await app.register(cast.kol, for: campaign)
            var officer = ConsoleVisitor(app, language: "id")
            _ = try await officer.signIn(cast.officer.email)
            let home = try await officer.get("/app")
            #expect(home.status == .ok)
            #expect(home.text.contains("Pendaftaran untuk diputuskan") && home.text.contains("/app/campaigns/\(campaign)"))
            var kol = ConsoleVisitor(app)
            _ = try await kol.signIn(cast.kol.email)
            #expect(!(try await kol.get("/app")).text.contains("worklist"))
        }
    }
}
