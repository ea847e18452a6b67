import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import NIOCore
import PostgresNIO
import Testing

/// Issue 11: nothing a client sends can crash Kolab, corrupt a rule, or leak what it should not.
/// Each test names the finding it holds.
@Suite("Trust: hostile input, races and leaks")
struct TrustTests {
    // MARK: 1. Dates

    @Test func timesOutsideRFC3339OrTheCenturyAre422AndChangeNothing() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let refused = [
                "300000-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "2026-02-30T09:00:00Z", "1999-12-31T23:59:59Z",
                "2101-01-01T00:00:00Z", "2026-12-01T09:00:00", "2026-12-01 09:00:00Z", "2026-12-01", "2026-13-01T00:00:00Z",
                "2026-12-01T24:00:00Z", "2026-12-01T09:00:60Z", "tomorrow", "2026-12-01T09:00:00+25:00",
            ]
            for text in refused {
                var body = CampaignDraftBody(brandID: cast.brandID)
                body.registrationClosesAt = text
                let response = try await app.post("/v1/campaigns", token: cast.officer.token, body)
                #expect(response.status == .unprocessableContent, "\(text): \(response.text)")
                #expect(response.errorFields == ["registration_closes_at"], "\(text)")
            }
            #expect(try await app.count("SELECT count(*)::int FROM campaigns") == 0)
            // A zone other than UTC is read as the instant it names; answers are in UTC.
            var inJakarta = CampaignDraftBody(brandID: cast.brandID)
            inJakarta.registrationClosesAt = "2030-01-10T16:00:00.5+07:00"
            let jakarta = try await app.post("/v1/campaigns", token: cast.officer.token, inJakarta)
            #expect(jakarta.status == .created, "\(jakarta.text)")
            #expect(jakarta["registration_closes_at"] == "2030-01-10T09:00:00Z")
        }
    }

    @Test func aStoredTimeOutsideTheRangeNeverTakesAListDown() async throws {
        try await TestApp.run { app in
            let p = try await app.production()
            // As an older version or a hand-made fix could have stored them.
            for (index, text) in ["0001-01-01T00:00:00Z", "10000-06-01T00:00:00Z"].enumerated() {
                try await app.execute(
                    "UPDATE deliverables SET posted_at = \(text)::timestamptz WHERE id = \(UUID(uuidString: p.deliverables[index])!)")
            }
            let list = try await app.get("/v1/registrations/\(p.registration)/deliverables", token: p.cast.officer.token)
            #expect(list.status == .ok)
            let postedAt = list.data.compactMap { $0["posted_at"] as? String }
            #expect(postedAt.contains("0001-01-01T00:00:00Z"))
            #expect(postedAt.contains("10000-06-01T00:00:00Z"))
            #expect(try await app.get("/v1/deliverables/\(p.feed)", token: p.cast.kol.token).status == .ok)
        }
    }

    // MARK: 2. Races

    /// A KOL withdrawing while the officer approves (a campaign without brand review): whichever
    /// commits first wins; an approved deliverable is never cancelled by a withdrawal.
    @Test func withdrawalAndApprovalRacedOverTwoConnectionsNeverBothWin() async throws {
        try await TestApp.run(configure: { $0.databasePoolSize = 8 }) { app in
            let cast = try await app.cast()
            let campaign = try await app.recruitingCampaign(
                by: cast.officer, brandID: cast.brandID, slots: 40
            ) { $0.brandReviewRequired = false }
            var outcomes: [String: Int] = [:]
            for _ in 0..<20 {
                let kol = try await app.kol()
                let registration = try await app.register(kol, for: campaign)
                _ = try await app.act("accept", registration: registration, by: cast.officer)
                let deliverable = try #require(
                    try await app.get("/v1/registrations/\(registration)/deliverables", token: kol.token).data.first?["id"] as? String)
                let draft = try #require(try await app.submitDraft(deliverable, by: kol)["id"])
                async let approve = app.review(draft, "approve", by: cast.officer)
                async let withdraw = app.act("withdraw", registration: registration, by: kol)
                let (approved, withdrawn) = try await (approve, withdraw)
                #expect(!(approved.status == .created && withdrawn.status == .ok), "both won: \(approved.text) \(withdrawn.text)")
                let status = try await app.deliverableStatus(deliverable, as: cast.officer)
                let registrationStatus = try await app.get("/v1/registrations/\(registration)", token: cast.officer.token)["status"]
                if approved.status == .created {
                    #expect(status == "approved")
                    #expect(registrationStatus == "accepted")
                } else {
                    #expect(status == "cancelled")
                    #expect(registrationStatus == "withdrawn")
                }
                outcomes[approved.status == .created ? "approved" : "withdrawn", default: 0] += 1
            }
            print("race withdraw/approve: \(outcomes)")
        }
    }

    /// A campaign cancelled while the officer forwards drafts and accepts KOLs: nothing moves after
    /// the cancel commits, and the cancel closes what was open, each with its event.
    @Test func aCancelRacedAgainstForwardsAndAcceptsLeavesNothingMovingAfterIt() async throws {
        try await TestApp.run(configure: { $0.databasePoolSize = 8 }) { app in
            for round in 0..<8 {
                let cast = try await app.cast()
                let campaign = try await app.recruitingCampaign(by: cast.officer, brandID: cast.brandID, slots: 5)
                let registration = try await app.register(cast.kol, for: campaign)
                _ = try await app.act("accept", registration: registration, by: cast.officer)
                let deliverable = try #require(
                    try await app.get("/v1/registrations/\(registration)/deliverables", token: cast.kol.token).data.first?["id"] as? String)
                let draft = try #require(try await app.submitDraft(deliverable, by: cast.kol)["id"])
                let waiting = try await app.register(try await app.kol(), for: campaign)
                let pending = try await app.register(try await app.kol(), for: campaign)
                async let cancel = app.post("/v1/campaigns/\(campaign)/cancel", token: cast.officer.token)
                async let forward = app.review(draft, "forward", by: cast.officer)
                async let accept = app.act("accept", registration: waiting, by: cast.officer)
                let (cancelled, forwarded, accepted) = try await (cancel, forward, accept)
                #expect(cancelled.status == .ok, "round \(round): \(cancelled.text)")
                // Whatever won the race, after the cancel every deliverable is cancelled and no
                // registration is left open.
                let open = try await app.count(
                    """
                    SELECT count(*)::int FROM deliverables WHERE campaign_id = \(UUID(uuidString: campaign)!)
                    AND status NOT IN ('cancelled', 'completed')
                    """)
                #expect(open == 0, "round \(round): forward \(forwarded.status.code), accept \(accepted.status.code)")
                let undecided = try await app.count(
                    "SELECT count(*)::int FROM registrations WHERE campaign_id = \(UUID(uuidString: campaign)!) AND status IN ('applied', 'shortlisted')"
                )
                #expect(undecided == 0)
                #expect(try await app.get("/v1/registrations/\(pending)", token: cast.officer.token)["status"] == "rejected")
                // Each closing has its event, after the cancel's.
                let events = try await app.get("/v1/campaigns/\(campaign)/events?limit=200", token: cast.officer.token).data
                let cancelAt = try #require(
                    events.firstIndex { $0["entity_type"] as? String == "campaign" && $0["to"] as? String == "cancelled" })
                let after = events[(cancelAt + 1)...]
                #expect(after.contains { $0["entity_id"] as? String == deliverable && $0["to"] as? String == "cancelled" })
                #expect(after.contains { $0["entity_id"] as? String == pending && $0["to"] as? String == "rejected" })
                #expect(!after.contains { $0["to"] as? String == "in_brand_review" || $0["to"] as? String == "accepted" })
                // And nothing moves afterwards.
                #expect(try await app.post("/v1/deliverables/\(deliverable)/extra-round", token: cast.officer.token).status == .conflict)
                #expect(try await app.review(draft, "forward", by: cast.officer).status == .conflict)
                #expect(try await app.act("accept", registration: pending, by: cast.officer).status == .conflict)
            }
        }
    }

    // MARK: 3. NUL and invalid text

    @Test func nulCharactersAre422NamingTheFieldEvenWithoutAToken() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let brand = try await app.post("/v1/brands", token: admin.token, raw: #"{"name": "Kopi\u0000Ibu"}"#)
            #expect(brand.status == .unprocessableContent)
            #expect(brand.errorFields == ["name"])
            let login = try await app.post("/v1/auth/tokens", raw: #"{"email": "a\u0000@kolab.id", "password": "x"}"#)
            #expect(login.status == .unprocessableContent)
            #expect(login.errorFields == ["email"])
            var signUp = KolSignUpBody(email: "nul@example.id")
            signUp.fullName = "Rani\u{0}Putri"
            let refused = try await app.post("/v1/kols", signUp)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.errorFields == ["full_name"])
            let nested = try await app.post(
                "/v1/kols",
                raw: KolSignUpBody(email: "nul2@example.id").jsonText.replacingOccurrences(
                    of: "\"parenting\"", with: #""par\u0000enting""#))
            #expect(nested.errorFields == ["niches[0]"])
            // Query parameters too.
            let search = try await app.get("/v1/kols?niche=par%00enting", token: admin.token)
            #expect(search.status == .unprocessableContent)
            #expect(search.errorFields == ["niche"])
            let badUTF8 = try await app.get("/v1/kols?region=%FF", token: admin.token)
            #expect(badUTF8.status == .unprocessableContent)
            #expect(try await app.count("SELECT count(*)::int FROM brands") == 0)
            #expect(try await app.count("SELECT count(*)::int FROM users WHERE email LIKE 'nul%'") == 0)
        }
    }

    /// bcrypt reads 72 bytes: a password is never cut silently (`"\u0000Secret"` logging in with `"\u0000"`).
    @Test func passwordsAreNeverCutSilently() async throws {
        try await TestApp.run { app in
            let long = String(repeating: "a", count: 72)
            var signUp = KolSignUpBody(email: "long@example.id")
            signUp.password = long + "b"
            #expect(try await app.post("/v1/kols", signUp).status == .unprocessableContent)
            signUp.password = long
            #expect(try await app.post("/v1/kols", signUp).status == .created)
            // The same 72 bytes with more after them is not the password.
            let longer = try await app.post("/v1/auth/tokens", LoginBody(email: "long@example.id", password: long + "zzz"))
            #expect(longer.status == .unprocessableContent || longer.status == .unauthorized)
            #expect(try await app.post("/v1/auth/tokens", LoginBody(email: "long@example.id", password: long)).status == .created)
            let nul = try await app.post("/v1/auth/tokens", raw: #"{"email": "long@example.id", "password": "\u0000"}"#)
            #expect(nul.status == .unprocessableContent)
        }
    }

    // MARK: 4. Leaks

    @Test func aBrandsTimelineHoldsNoPayouts() async throws {
        try await TestApp.run { app in
            let (p, payoutID) = try await app.finishedProduction()
            _ = try await app.post("/v1/payouts/\(payoutID)/approve", token: p.cast.finance.token)
            let brandView = try await app.get("/v1/campaigns/\(p.campaign)/events?limit=200", token: p.cast.brand.token)
            #expect(brandView.status == .ok)
            #expect(!brandView.data.isEmpty)
            #expect(!brandView.data.contains { ["payout", "payout_batch"].contains($0["entity_type"] as? String) })
            #expect(!brandView.text.contains("gross_idr"))
            #expect(!brandView.text.contains(payoutID))
            let officerView = try await app.get("/v1/campaigns/\(p.campaign)/events?limit=200", token: p.cast.officer.token)
            #expect(officerView.data.contains { $0["entity_id"] as? String == payoutID })
        }
    }

    @Test func storedAnswersAreSealedAndLoginsAreNeverStored() async throws {
        try await TestApp.run { app in
            var signUp = KolSignUpBody(email: "sealed@example.id")
            signUp.bank = BankBody(accountNumber: "9876543210", accountHolder: "Sealed")
            let first = try await app.post("/v1/kols", signUp, headers: .idempotencyKey("signup-1"))
            #expect(first.status == .created, "\(first.text)")
            #expect(first.text.contains("9876543210"))
            let again = try await app.post("/v1/kols", signUp, headers: .idempotencyKey("signup-1"))
            #expect(again.status == .created)
            #expect(again.headers[.init("Idempotent-Replayed")!] == "true")
            #expect(again["id"] == first["id"])
            var other = signUp
            other.fullName = "Someone Else"
            #expect(try await app.post("/v1/kols", other, headers: .idempotencyKey("signup-1")).status == .unprocessableContent)
            #expect(try await app.count("SELECT count(*)::int FROM users WHERE email = 'sealed@example.id'") == 1)
            // The stored answer does not hold the account number (or any of the answer) in clear.
            #expect(try await app.count("SELECT count(*)::int FROM idempotency_keys WHERE position('9876543210'::bytea IN body) > 0") == 0)
            #expect(try await app.count("SELECT count(*)::int FROM idempotency_keys WHERE position('sealed@'::bytea IN body) > 0") == 0)
            #expect(try await app.count("SELECT count(*)::int FROM idempotency_keys") == 1)
            // A login's answer is a token: never stored, even when a key is sent.
            let login = try await app.post(
                "/v1/auth/tokens", LoginBody(email: "sealed@example.id", password: testPassword), headers: .idempotencyKey("login-1"))
            #expect(login.status == .created)
            let second = try await app.post(
                "/v1/auth/tokens", LoginBody(email: "sealed@example.id", password: testPassword), headers: .idempotencyKey("login-1"))
            #expect(second["token"] != login["token"])
            #expect(try await app.count("SELECT count(*)::int FROM idempotency_keys") == 1)
            // Any other anonymous POST is answered 401 first: its key is not even looked at.
            for _ in 0..<3 {
                let anonymous = try await app.post(
                    "/v1/payouts/\(UUID())/approve", raw: "{}", headers: .idempotencyKey("same-key-1"))
                #expect(anonymous.status == .unauthorized)
            }
            #expect(try await app.count("SELECT count(*)::int FROM idempotency_keys") == 1)
        }
    }

    // MARK: 6. Ids in lower case

    @Test func idsAreWrittenInLowerCaseAndReadInEither() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let created = try await app.post("/v1/brands", token: admin.token, BrandBody(name: "Kopi Ibu"))
            let id = try #require(created["id"])
            #expect(id == id.lowercased())
            #expect(created.headers[.location] == "/v1/brands/\(id)")
            #expect(try await app.get("/v1/brands/\(id.uppercased())", token: admin.token)["id"] == id)
            let cast = try await app.cast()
            let campaign = try await app.post(
                "/v1/campaigns", token: cast.officer.token, CampaignDraftBody(brandID: cast.brandID.uppercased()))
            #expect(campaign.status == .created)
            #expect(campaign["brand_id"] == cast.brandID.lowercased())
            #expect(campaign.headers[.location] == campaign.headers[.location]?.lowercased())
        }
    }

    // MARK: 8. Idempotency of answers other than 2xx

    @Test func aStateRefusalIsStoredAndReplayedLikeASuccess() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let campaign = try await app.draftCampaign(by: cast.officer, brandID: cast.brandID)
            // Publishing without a published brief: 409, stored under the key.
            let first = try await app.post(
                "/v1/campaigns/\(campaign)/publish", token: cast.officer.token, headers: .idempotencyKey("pub-1"))
            #expect(first.status == .conflict)
            let replay = try await app.post(
                "/v1/campaigns/\(campaign)/publish", token: cast.officer.token, headers: .idempotencyKey("pub-1"))
            #expect(replay.status == .conflict)
            #expect(replay.headers[.init("Idempotent-Replayed")!] == "true")
            #expect(replay.text == first.text)
            // The same key with another body is refused, even though the first answer was a 409.
            let other = try await app.post(
                "/v1/campaigns/\(campaign)/publish", token: cast.officer.token, raw: "{}", headers: .idempotencyKey("pub-1"))
            #expect(other.status == .unprocessableContent)
            #expect(other.errorFields == ["Idempotency-Key"])
            // A body the service could not read is not stored: fixed, the same key runs.
            let brand = try await app.post("/v1/brands", token: cast.admin.token, raw: "{", headers: .idempotencyKey("brand-x"))
            #expect(brand.status == .badRequest)
            let fixed = try await app.post(
                "/v1/brands", token: cast.admin.token, BrandBody(name: "Fixed"), headers: .idempotencyKey("brand-x"))
            #expect(fixed.status == .created)
            #expect(try await app.campaignStatus(campaign) == "draft")
        }
    }

    // MARK: 9. Lists and links

    @Test func theShortListsPageAndEveryLocationCanBeRead() async throws {
        try await TestApp.run { app in
            let p = try await app.production()
            let (kol, officer) = (p.cast.kol, p.cast.officer)
            // Deliverables of a registration, one per page.
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await app.get(
                    "/v1/registrations/\(p.registration)/deliverables?limit=1" + (cursor.map { "&cursor=\($0)" } ?? ""), token: kol.token)
                #expect(page.status == .ok)
                #expect(page.data.count <= 1)
                seen += page.data.compactMap { $0["id"] as? String }
                cursor = page["next_cursor"]
            } while cursor != nil
            #expect(seen == p.deliverables)
            // Drafts: two versions, one per page.
            let draft = try #require(try await app.submitDraft(p.feed, by: kol)["id"])
            _ = try await app.review(draft, "request_changes", "Lebih terang", by: officer)
            _ = try await app.submitDraft(p.feed, by: kol, caption: "v2")
            let firstDrafts = try await app.get("/v1/deliverables/\(p.feed)/drafts?limit=1", token: officer.token)
            #expect(firstDrafts.data.map { $0["version"] as? Int } == [1])
            let next = try #require(firstDrafts["next_cursor"])
            let secondDrafts = try await app.get("/v1/deliverables/\(p.feed)/drafts?limit=1&cursor=\(next)", token: officer.token)
            #expect(secondDrafts.data.map { $0["version"] as? Int } == [2])
            #expect(secondDrafts.json["next_cursor"] is NSNull)
            // A cursor of one list is refused by another.
            #expect(
                try await app.get("/v1/registrations/\(p.registration)/deliverables?cursor=\(next)", token: kol.token).status == .badRequest
            )
            // Brief versions page, and the Location of a new version answers a GET.
            let brief = try await app.post("/v1/campaigns/\(p.campaign)/brief-versions", token: officer.token, BriefBody())
            let location = try #require(brief.headers[.location])
            let read = try await app.get(location, token: officer.token)
            #expect(read.status == .ok)
            #expect(read.json["version"] as? Int == brief.json["version"] as? Int)
            #expect(try await app.get(location, token: p.cast.brand.token).status == .ok)
            #expect(try await app.get("/v1/campaigns/\(p.campaign)/brief-versions/99", token: officer.token).status == .notFound)
            let versions = try await app.get("/v1/campaigns/\(p.campaign)/brief-versions?limit=1", token: officer.token)
            #expect(versions.data.count == 1)
            #expect(versions["next_cursor"] != nil)
            // The token's Location too.
            let login = try await app.post("/v1/auth/tokens", LoginBody(email: officer.email, password: testPassword))
            let tokenLocation = try #require(login.headers[.location])
            let current = try await app.get(tokenLocation, token: login["token"])
            #expect(current.status == .ok)
            #expect(current["user_id"] == officer.id)
            #expect(current["expires_at"] == login["expires_at"])
            #expect(current["token"] == nil)
        }
    }

    // MARK: 10. Unknown fields and partial eligibility

    @Test func unknownFieldsAre422NamingEachAndEligibilityMembersDefault() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            // Unknown members, on purpose.
            let typo = try await app.post("/v1/brands", token: admin.token, RawJSON(["nmae": "Kopi Ibu"]))
            #expect(typo.status == .unprocessableContent)
            #expect(typo.errorFields == ["name", "nmae"])  // the missing field and the typo, at once
            let both = try await app.post(
                "/v1/brands", token: admin.token, RawJSON(BrandBody(name: "Kopi Ibu"), setting: ["nmae": "Kopi Ibu"]))
            #expect(both.errorFields == ["nmae"])
            let cast = try await app.cast()
            let nested = try await app.post(
                "/v1/campaigns", token: cast.officer.token,
                RawJSON(
                    CampaignDraftBody(brandID: cast.brandID),
                    setting: ["brand_reveiw_required": false, "eligibility": ["min_followers": 1, "regoins": ["Bali"]]]))
            #expect(nested.status == .unprocessableContent)
            #expect(nested.errorFields.sorted() == ["brand_reveiw_required", "eligibility.regoins"])
            #expect(try await app.count("SELECT count(*)::int FROM brands") == 1)  // the cast's own
            // Eligibility members may be left out: they take their defaults.
            var minimum = CampaignDraftBody(brandID: cast.brandID)
            minimum.eligibility = EligibilityBody(minFollowers: 5_000)
            let partial = try await app.post("/v1/campaigns", token: cast.officer.token, minimum)
            #expect(partial.status == .created, "\(partial.text)")
            let eligibility = partial.json["eligibility"] as? [String: Any]
            #expect(eligibility?["min_followers"] as? Int == 5_000)
            #expect((eligibility?["regions"] as? [Any])?.isEmpty == true)
            #expect((eligibility?["niches"] as? [Any])?.isEmpty == true)
            var anyone = CampaignDraftBody(brandID: cast.brandID)
            anyone.eligibility = EligibilityBody()  // {}
            let none = try await app.post("/v1/campaigns", token: cast.officer.token, anyone)
            #expect(none.status == .created)
        }
    }

    /// Issue 13: every fault of a body in one answer, not the first one.
    @Test func everyFaultOfABodyIsNamedAtOnce() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            // Wrongly typed, missing and unknown members, on purpose.
            let body = RawJSON(
                CampaignDraftBody(brandID: cast.brandID),
                setting: [
                    "title": 5, "kol_slots": "five", "platforms": ["instagram", "friendster"], "registration_closes_at": "next week",
                    "terms": ["bonus": ["metric": "likes", "rate_idr_per_1000": 1.5, "cap_idr": 1]], "brand_reveiw_required": false,
                ])
            let response = try await app.post("/v1/campaigns", token: cast.officer.token, body)
            #expect(response.status == .unprocessableContent)
            #expect(
                Set(response.errorFields) == [
                    "title", "kol_slots", "platforms[1]", "registration_closes_at", "terms.fee_idr", "terms.bonus.metric",
                    "terms.bonus.rate_idr_per_1000", "brand_reveiw_required",
                ], "\(response.text)")
            #expect(try await app.count("SELECT count(*)::int FROM campaigns") == 0)
        }
    }

    @Test func hostileJsonShapesAreRefusedWithoutHarm() async throws {
        try await TestApp.run { app in
            let admin = try await app.admin()
            let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
            for raw in [#"{"name": "a", "name": "b"}"#, "{\"name\": " + deep + "}", #"{"name": "\ud800"}"#, #"{"name": 1e999}"#] {
                let response = try await app.post("/v1/brands", token: admin.token, raw: raw)
                #expect([.badRequest, .unprocessableContent].contains(response.status), "\(raw.prefix(40)): \(response.text)")
                #expect(response.isProblem)
            }
            let cast = try await app.cast()
            for slots in ["1.5", "1e3", "99999999999999999999", "\"5\"", "true"] {
                let raw = CampaignDraftBody(brandID: cast.brandID).jsonText.replacingOccurrences(
                    of: "\"kol_slots\":5", with: "\"kol_slots\":\(slots)")
                let response = try await app.post("/v1/campaigns", token: cast.officer.token, raw: raw)
                #expect(response.status == .unprocessableContent, "kol_slots \(slots): \(response.text)")
                #expect(response.errorFields == ["kol_slots"])
            }
            #expect(try await app.count("SELECT count(*)::int FROM brands") == 1)
            #expect(try await app.count("SELECT count(*)::int FROM campaigns") == 0)
        }
    }

    // MARK: 12. The timeline's end is commit-safe

    /// A transaction that wrote an event of the campaign and has not committed holds back the next
    /// writer of that campaign's events, so the later one cannot be numbered, served and passed by a
    /// reader before the earlier one commits: polling from `resume_cursor` reads both.
    @Test func tailingTheTimelineNeverSkipsAnEventThatCommitsLater() async throws {
        try await TestApp.run(configure: { $0.databasePoolSize = 8 }) { app in
            let p = try await app.production()
            let officer = p.cast.officer
            let draft = try #require(try await app.submitDraft(p.feed, by: p.cast.kol)["id"])
            let start = try await app.get("/v1/campaigns/\(p.campaign)/events?limit=200", token: officer.token)
            let resume = try #require(start["resume_cursor"])
            #expect(start.json["next_cursor"] is NSNull)
            let campaignID = UUID(uuidString: p.campaign)!
            // A slow writer: its event is written (and numbered) first, its commit comes last.
            let forward = try await app.sql { database in
                try await database.withTransaction { connection -> Task<APIResponse, any Error> in
                    try await EventStore(logger: testLogger).record(
                        by: nil, campaignID: campaignID, entity: .campaign, entityID: campaignID, from: "recruiting", to: "recruiting",
                        data: ["note": "slow"], on: connection)
                    // Meanwhile the officer forwards the draft through the API: it waits for the slow writer.
                    let forward = Task { try await app.review(draft, "forward", by: officer) }
                    try await Task.sleep(for: .milliseconds(300))
                    let meanwhile = try await app.get("/v1/campaigns/\(p.campaign)/events?cursor=\(resume)", token: officer.token)
                    #expect(meanwhile.data.isEmpty, "nothing new is visible before the slow writer commits: \(meanwhile.text)")
                    return forward
                }
            }
            #expect(try await forward.value.status == .created)
            let after = try await app.get("/v1/campaigns/\(p.campaign)/events?cursor=\(resume)", token: officer.token)
            let notes = after.data.map { ($0["data"] as? [String: Any])?["note"] as? String ?? ($0["to"] as? String ?? "") }
            #expect(notes.contains("slow"))
            #expect(notes.contains("in_brand_review"))
            #expect(notes.first == "slow", "the slow writer's event comes first: \(notes)")
        }
    }
}
