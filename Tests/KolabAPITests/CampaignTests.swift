import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import PostgresNIO
import Testing

@Suite("Campaigns")
struct CampaignTests {
    @Test func anOfficerRunsACampaignFromDraftToCompletedAndTheTimelineShowsEveryStep() async throws {
        try await TestApp.run { app in
            // setup
            let cast = try await app.cast()
            let created = try await app.post("/v1/campaigns", token: cast.officer.token, CampaignDraftBody(brandID: cast.brandID))
            #expect(created.status == .created)
            #expect(created["status"] == "draft")
            #expect(created["officer_id"] == cast.officer.id)
            #expect(created.json["accepted_count"] as? Int == 0)
            #expect((created.json["terms"] as? [String: Any])?["withholding_bp"] as? Int == 250)
            let bonus = (created.json["terms"] as? [String: Any])?["bonus"] as? [String: Any]
            #expect(bonus?["rate_idr_per_1000"] as? Int == 2_000)  // the contract's spelling, digits included
            #expect(bonus?["cap_idr"] as? Int == 500_000)
            #expect(created.json["brand_review_required"] as? Bool == true)
            #expect(created.json["max_revision_rounds"] as? Int == 2)
            #expect(created.json["insights_after_days"] as? Int == 7)
            let id = try #require(created["id"])
            #expect(created.headers[.location] == "/v1/campaigns/\(id)")
            // MUT
            try await app.publishBrief(id, by: cast.officer)
            #expect(try await app.post("/v1/campaigns/\(id)/publish", token: cast.officer.token)["status"] == "recruiting")
            let registration = try await app.register(cast.kol, for: id)
            #expect(try await app.act("accept", registration: registration, by: cast.officer)["status"] == "accepted")
            #expect(try await app.post("/v1/campaigns/\(id)/close-registration", token: cast.officer.token)["status"] == "running")
            let completed = try await app.post("/v1/campaigns/\(id)/complete", token: cast.officer.token)
            // validate
            #expect(completed["status"] == "completed")
            #expect(completed.json["accepted_count"] as? Int == 1)
            let events = try await app.get("/v1/campaigns/\(id)/events?limit=200", token: cast.officer.token)
            let steps = events.data.map {
                "\($0["entity_type"] as? String ?? ""):\($0["from"] as? String ?? "-")>\($0["to"] as? String ?? "-")"
            }
            #expect(
                steps == [
                    "campaign:->draft", "brief_version:->draft", "brief_version:draft>published", "campaign:draft>recruiting",
                    "registration:->applied", "registration:applied>accepted",
                    "deliverable:->awaiting_draft", "deliverable:->awaiting_draft", "deliverable:->awaiting_draft",
                    "deliverable:->awaiting_draft",
                    "campaign:recruiting>running", "campaign:running>completed",
                ])
            #expect(events.data.allSatisfy { $0["actor_id"] != nil && $0["at"] != nil })
        }
    }

    @Test func publishingNeedsAPublishedBriefAndAnOfficer() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let withoutBrief = try await app.draftCampaign(by: cast.officer, brandID: cast.brandID)
            let refused = try await app.post("/v1/campaigns/\(withoutBrief)/publish", token: cast.officer.token)
            #expect(refused.status == .conflict)
            #expect(refused["detail"]?.contains("published brief") == true)
            #expect(try await app.campaignStatus(withoutBrief) == "draft")

            let byAdmin = try await app.post("/v1/campaigns", token: cast.admin.token, CampaignDraftBody(brandID: cast.brandID))
            let id = try #require(byAdmin["id"])
            #expect(byAdmin.json["officer_id"] is NSNull)
            try await app.publishBrief(id, by: cast.admin)
            let noOfficer = try await app.post("/v1/campaigns/\(id)/publish", token: cast.admin.token)
            #expect(noOfficer.status == .conflict)
            #expect(noOfficer["detail"]?.contains("officer") == true)
            #expect(try await app.campaignStatus(id) == "draft")
        }
    }

    @Test func illegalTransitionsAre409AndChangeNothing() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let id = try await app.draftCampaign(by: cast.officer, brandID: cast.brandID)
            for action in ["close-registration", "complete"] {
                let response = try await app.post("/v1/campaigns/\(id)/\(action)", token: cast.officer.token)
                #expect(response.status == .conflict, "\(action)")
                #expect(response.isProblem)
            }
            #expect(try await app.post("/v1/campaigns/\(id)/cancel", token: cast.officer.token)["status"] == "cancelled")
            for action in ["publish", "cancel", "complete"] {
                #expect(try await app.post("/v1/campaigns/\(id)/\(action)", token: cast.officer.token).status == .conflict)
            }
            #expect(try await app.campaignStatus(id) == "cancelled")
            #expect(try await app.count("SELECT count(*)::int FROM events WHERE entity_type = 'campaign'") == 2)
        }
    }

    @Test(arguments: ["publish", "close-registration", "complete", "cancel"])
    func brandsAndFinanceSeeButMayNotMoveACampaign(action: String) async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let id = try await app.draftCampaign(by: cast.officer, brandID: cast.brandID)
            for account in [cast.brand, cast.finance] {
                #expect(try await app.get("/v1/campaigns/\(id)", token: account.token).status == .ok)
                #expect(try await app.post("/v1/campaigns/\(id)/\(action)", token: account.token).status == .forbidden)
            }
            // A KOL does not see a draft; another officer does not see a campaign not theirs.
            let otherOfficer = try await app.user(.officer, by: cast.admin)
            for account in [cast.kol, otherOfficer] {
                #expect(try await app.post("/v1/campaigns/\(id)/\(action)", token: account.token).status == .notFound)
            }
            #expect(try await app.campaignStatus(id) == "draft")
        }
    }

    @Test func kolsCannotCreateCampaignsAndFinanceNeither() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            for account in [cast.kol, cast.finance] {
                let response = try await app.post("/v1/campaigns", token: account.token, CampaignDraftBody(brandID: cast.brandID))
                #expect(response.status == .forbidden)
            }
            #expect(try await app.count("SELECT count(*)::int FROM campaigns") == 0)
        }
    }

    @Test func aBrandDraftsCampaignsForItselfOnly() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let otherBrand = try await app.brand(by: cast.admin)
            let own = try await app.post("/v1/campaigns", token: cast.brand.token, CampaignDraftBody(brandID: cast.brandID))
            #expect(own.status == .created)
            #expect(own["brand_id"] == cast.brandID)
            let body = CampaignDraftBody(brandID: nil)
            #expect(try await app.post("/v1/campaigns", token: cast.brand.token, body)["brand_id"] == cast.brandID)
            let foreign = try await app.post("/v1/campaigns", token: cast.brand.token, CampaignDraftBody(brandID: otherBrand))
            #expect(foreign.status == .unprocessableContent)
            #expect(foreign.errorFields == ["brand_id"])
            var assignment = CampaignDraftBody(brandID: cast.brandID)
            assignment.officerID = cast.officer.id
            let assigning = try await app.post("/v1/campaigns", token: cast.brand.token, assignment)
            #expect(assigning.errorFields == ["officer_id"])
            #expect(try await app.count("SELECT count(*)::int FROM campaigns") == 2)
        }
    }

    @Test func campaignFieldsAreValidatedAndStatusCannotBeSet() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            var invalid = CampaignDraftBody(brandID: cast.brandID, slots: 0)
            invalid.platforms = []
            invalid.title = " "
            invalid.maxRevisionRounds = -1
            invalid.terms = TermsBody(feeIDR: -5, bonus: BonusBody(rateIDRPer1000: -1, capIDR: -1), withholdingBP: 20_000)
            let bad = try await app.post("/v1/campaigns", token: cast.officer.token, invalid)
            #expect(bad.status == .unprocessableContent)
            #expect(
                Set(bad.errorFields) == [
                    "title", "platforms", "kol_slots", "max_revision_rounds", "terms.fee_idr", "terms.withholding_bp",
                    "terms.bonus.rate_idr_per_1000", "terms.bonus.cap_idr",
                ])
            let halfBonus = try await app.post(
                "/v1/campaigns", token: cast.officer.token,
                RawJSON(  // the bonus's rate and cap missing, on purpose
                    CampaignDraftBody(brandID: cast.brandID), setting: ["terms": ["fee_idr": 1, "bonus": ["metric": "views"]]]))
            #expect(halfBonus.status == .unprocessableContent)
            #expect(halfBonus.errorFields.first?.hasPrefix("terms.bonus.") == true)
            var likes = CampaignDraftBody(brandID: cast.brandID)
            likes.terms = TermsBody(feeIDR: 1, bonus: BonusBody(metric: "likes", rateIDRPer1000: 1, capIDR: 1))
            let badMetric = try await app.post("/v1/campaigns", token: cast.officer.token, likes)
            #expect(badMetric.errorFields == ["terms.bonus.metric"])
            var friendster = CampaignDraftBody(brandID: cast.brandID)
            friendster.platforms = ["friendster"]
            let badPlatform = try await app.post("/v1/campaigns", token: cast.officer.token, friendster)
            #expect(badPlatform.errorFields == ["platforms[0]"])
            #expect(try await app.count("SELECT count(*)::int FROM campaigns") == 0)
            // Mass assignment: status and counters are not the client's to set.
            let sneaky = try await app.post(
                "/v1/campaigns", token: cast.officer.token,
                RawJSON(  // members that are not the client's, on purpose
                    CampaignDraftBody(brandID: cast.brandID), setting: ["status": "running", "accepted_count": 5, "version": 99]))
            #expect(sneaky.status == .unprocessableContent)
            #expect(sneaky.errorFields.sorted() == ["accepted_count", "status", "version"])
            #expect(try await app.count("SELECT count(*)::int FROM campaigns") == 0)
        }
    }

    @Test func patchNeedsIfMatchAndFreezesTermsAfterPublishing() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let id = try await app.draftCampaign(by: cast.officer, brandID: cast.brandID)
            #expect(
                try await app.patch("/v1/campaigns/\(id)", token: cast.officer.token, CampaignUpdateBody(title: "New")).status.code == 428)
            let renamed = try await app.patch(
                "/v1/campaigns/\(id)", token: cast.officer.token, CampaignUpdateBody(title: "Ramadan 2030"), ifMatch: "\"v1\"")
            #expect(renamed.status == .ok)
            #expect(renamed["title"] == "Ramadan 2030")
            #expect(renamed.headers[.eTag] == "\"v2\"")
            let stale = try await app.patch(
                "/v1/campaigns/\(id)", token: cast.officer.token, CampaignUpdateBody(title: "Lost update"), ifMatch: "\"v1\"")
            #expect(stale.status == .preconditionFailed)
            // The brand may edit its draft.
            #expect(
                try await app.patch(
                    "/v1/campaigns/\(id)", token: cast.brand.token, CampaignUpdateBody(description: "by brand"), ifMatch: "\"v2\""
                ).status
                    == .ok)
            try await app.publishBrief(id, by: cast.officer)
            let published = try await app.post("/v1/campaigns/\(id)/publish", token: cast.officer.token)
            let etag = try #require(published.headers[.eTag])
            let terms = try await app.patch(
                "/v1/campaigns/\(id)", token: cast.officer.token, CampaignUpdateBody(terms: TermsBody(feeIDR: 1, bonus: nil)), ifMatch: etag
            )
            #expect(terms.status == .conflict)
            let byBrand = try await app.patch(
                "/v1/campaigns/\(id)", token: cast.brand.token, CampaignUpdateBody(title: "Brand"), ifMatch: etag)
            #expect(byBrand.status == .forbidden)
            let byFinance = try await app.patch(
                "/v1/campaigns/\(id)", token: cast.finance.token, CampaignUpdateBody(title: "F"), ifMatch: etag)
            #expect(byFinance.status == .forbidden)
            let byKol = try await app.patch("/v1/campaigns/\(id)", token: cast.kol.token, CampaignUpdateBody(title: "K"), ifMatch: etag)
            #expect(byKol.status == .forbidden)  // the KOL sees a recruiting campaign, but may not change it
            let slots = try await app.patch(
                "/v1/campaigns/\(id)", token: cast.officer.token, CampaignUpdateBody(kolSlots: 12), ifMatch: etag)
            #expect(slots.json["kol_slots"] as? Int == 12)
            let shown = try await app.get("/v1/campaigns/\(id)", token: cast.officer.token)
            #expect(shown["title"] == "Ramadan 2030")
            #expect((shown.json["terms"] as? [String: Any])?["fee_idr"] as? Int == 1_500_000)
        }
    }

    @Test func eachRoleListsTheCampaignsItMaySee() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let otherBrand = try await app.brand(by: cast.admin)
            let otherOfficer = try await app.user(.officer, by: cast.admin)
            let draft = try await app.draftCampaign(by: cast.officer, brandID: cast.brandID)
            let recruiting = try await app.recruitingCampaign(by: cast.officer, brandID: cast.brandID)
            let foreign = try await app.draftCampaign(by: otherOfficer, brandID: otherBrand)
            func ids(_ account: TestApp.Account, _ query: String = "") async throws -> Set<String> {
                let response = try await app.get("/v1/campaigns\(query)", token: account.token)
                #expect(response.status == .ok)
                return Set(response.data.compactMap { $0["id"] as? String })
            }
            #expect(try await ids(cast.admin) == [draft, recruiting, foreign])
            #expect(try await ids(cast.finance) == [draft, recruiting, foreign])
            #expect(try await ids(cast.officer) == [draft, recruiting])
            #expect(try await ids(otherOfficer) == [foreign])
            #expect(try await ids(cast.brand) == [draft, recruiting])
            #expect(try await ids(cast.kol) == [recruiting])
            #expect(try await ids(cast.admin, "?status=draft") == [draft, foreign])
            #expect(try await ids(cast.admin, "?brand_id=\(otherBrand)") == [foreign])
            #expect(try await app.get("/v1/campaigns?status=open", token: cast.admin.token).status == .unprocessableContent)
            // Invisible ones answer the same 404 as missing ones.
            let hidden = try await app.get("/v1/campaigns/\(foreign)", token: cast.brand.token)
            let missing = try await app.get("/v1/campaigns/\(UUID().uuidString)", token: cast.brand.token)
            #expect(hidden.status == .notFound && missing.status == .notFound)
            #expect(hidden["detail"] == missing["detail"])
            #expect(try await app.get("/v1/campaigns/\(draft)", token: cast.kol.token).status == .notFound)
        }
    }

    /// The list writes each campaign from its JSON kept by revision (`CampaignJSONCache`): whatever
    /// changes a listed campaign, by the API or by any statement at all, shows on the next page, and a
    /// listed campaign reads exactly as its own resource does.
    @Test func theListShowsEveryChangeOfACampaignAtOnce() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let id = try await app.recruitingCampaign(by: cast.officer, brandID: cast.brandID)
            func listed(by account: TestApp.Account) async throws -> [String: Any] {
                let response = try await app.get("/v1/campaigns", token: account.token)
                #expect(response.status == .ok)
                let item = try #require(response.data.first { $0["id"] as? String == id })
                let shown = try await app.get("/v1/campaigns/\(id)", token: account.token)
                func canonical(_ object: [String: Any]) throws -> String {
                    String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
                }
                #expect(try canonical(item) == canonical(shown.json), "the list and the resource differ")
                return item
            }
            for _ in 0..<2 {  // the second page comes from what the first one kept
                let item = try await listed(by: cast.kol)
                #expect(item["accepted_count"] as? Int == 0)
                #expect(item["published_brief_version"] as? Int == 1)
            }
            let registration = try await app.register(cast.kol, for: id)
            #expect(try await app.act("accept", registration: registration, by: cast.officer).status == .ok)
            #expect(try await listed(by: cast.kol)["accepted_count"] as? Int == 1)

            #expect(try await app.publishBrief(id, by: cast.officer) == 2)  // another table: part of the key
            #expect(try await listed(by: cast.officer)["published_brief_version"] as? Int == 2)

            let etag = try #require(try await app.get("/v1/campaigns/\(id)", token: cast.officer.token).headers[.eTag])
            let patched = try await app.patch(
                "/v1/campaigns/\(id)", token: cast.officer.token, CampaignUpdateBody(kolSlots: 12), ifMatch: etag)
            #expect(patched.status == .ok)
            #expect(try await listed(by: cast.kol)["kol_slots"] as? Int == 12)

            let uuid = try #require(UUID(uuidString: id))
            try await app.execute("UPDATE campaigns SET title = 'Renamed outside the service' WHERE id = \(uuid)")
            #expect(try await listed(by: cast.kol)["title"] as? String == "Renamed outside the service")

            #expect(try await app.post("/v1/campaigns/\(id)/close-registration", token: cast.officer.token).status == .ok)
            #expect(try await listed(by: cast.officer)["status"] as? String == "running")
        }
    }

    @Test func theTimelineIsForThoseWhoSeeTheCampaignAndAKolSeesOnlyHerOwnEvents() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let other = try await app.kol()
            let id = try await app.recruitingCampaign(by: cast.officer, brandID: cast.brandID)
            _ = try await app.register(cast.kol, for: id)
            _ = try await app.register(other, for: id)
            let mine = try await app.get("/v1/campaigns/\(id)/events", token: cast.kol.token)
            #expect(mine.status == .ok)
            let registrationEvents = mine.data.filter { $0["entity_type"] as? String == "registration" }
            #expect(registrationEvents.count == 1)
            let all = try await app.get("/v1/campaigns/\(id)/events", token: cast.brand.token)
            #expect(all.data.filter { $0["entity_type"] as? String == "registration" }.count == 2)
            let stranger = try await app.brand(by: cast.admin)
            let strangerUser = try await app.user(.brand, brandID: stranger, by: cast.admin)
            #expect(try await app.get("/v1/campaigns/\(id)/events", token: strangerUser.token).status == .notFound)
            // Events are append-only, in the database itself.
            await #expect(throws: (any Error).self) {
                try await app.execute("UPDATE events SET to_state = 'forged'")
            }
        }
    }
}
