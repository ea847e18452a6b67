import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import PostgresNIO
import Testing

@Suite("Registrations and deliverables")
struct RegistrationTests {
    @Test func acceptingCreatesTheDeliverablesOfThePublishedBrief() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let id = try await app.recruitingCampaign(by: cast.officer, brandID: cast.brandID)
            let registration = try await app.register(cast.kol, for: id)
            #expect(try await app.act("shortlist", registration: registration, by: cast.officer)["status"] == "shortlisted")
            let accepted = try await app.act("accept", registration: registration, by: cast.officer)
            #expect(accepted["status"] == "accepted")
            #expect(accepted["decided_at"] != nil)
            let deliverables = try await app.get("/v1/registrations/\(registration)/deliverables", token: cast.kol.token)
            #expect(deliverables.data.count == 4)  // 1 feed post + 3 stories
            let keys = deliverables.data.map { "\($0["key"] as? String ?? ""):\($0["unit"] as? Int ?? 0)" }
            #expect(keys == ["ig-feed:1", "ig-story:1", "ig-story:2", "ig-story:3"])
            #expect(deliverables.data.allSatisfy { $0["status"] as? String == "awaiting_draft" })
            #expect(deliverables.data.first?["draft_due_at"] as? String == "2030-01-05T09:00:00Z")
            #expect(deliverables.data.first?["post_due_at"] as? String == "2030-01-10T09:00:00Z")
            let one = try #require(deliverables.data.first?["id"] as? String)
            for account in [cast.kol, cast.officer, cast.brand, cast.finance, cast.admin] {
                #expect(try await app.get("/v1/deliverables/\(one)", token: account.token).status == .ok)
            }
            let other = try await app.kol()
            #expect(try await app.get("/v1/deliverables/\(one)", token: other.token).status == .notFound)
            #expect(try await app.get("/v1/registrations/\(registration)/deliverables", token: other.token).status == .notFound)
            #expect(try await app.get("/v1/campaigns/\(id)", token: cast.officer.token).json["accepted_count"] as? Int == 1)
            // The brand now sees the KOL's profile, without bank details.
            let profile = try await app.get("/v1/kols/\(cast.kol.id)", token: cast.brand.token)
            #expect(profile.status == .ok)
            #expect(profile.json["bank"] == nil)
        }
    }

    @Test func oneRegistrationPerKolAndCampaign() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let id = try await app.recruitingCampaign(by: cast.officer, brandID: cast.brandID)
            _ = try await app.register(cast.kol, for: id)
            let again = try await app.post("/v1/campaigns/\(id)/registrations", token: cast.kol.token, RegistrationBody(pitch: "again"))
            #expect(again.status == .conflict)
            #expect(try await app.count("SELECT count(*)::int FROM registrations") == 1)
        }
    }

    @Test func registrationIsOpenOnlyWhileRecruitingAndBeforeItCloses() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let kols = [try await app.kol(), try await app.kol()]
            let closed = try await app.recruitingCampaign(by: cast.officer, brandID: cast.brandID)
            try await app.execute("UPDATE campaigns SET registration_closes_at = now() - interval '1 minute'")
            let late = try await app.post("/v1/campaigns/\(closed)/registrations", token: kols[0].token, RegistrationBody(pitch: ""))
            #expect(late.status == .conflict)
            let running = try await app.recruitingCampaign(by: cast.officer, brandID: cast.brandID)
            _ = try await app.post("/v1/campaigns/\(running)/close-registration", token: cast.officer.token)
            // A running campaign is no longer visible to KOLs who did not register: 404.
            #expect(
                try await app.post("/v1/campaigns/\(running)/registrations", token: kols[1].token, RegistrationBody(pitch: "")).status
                    == .notFound)
            #expect(try await app.count("SELECT count(*)::int FROM registrations") == 0)
        }
    }

    @Test func ineligibleKolsAreToldWhichRuleFailed() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let id = try await app.recruitingCampaign(by: cast.officer, brandID: cast.brandID) {
                $0.eligibility = EligibilityBody(minFollowers: 50_000, niches: ["parenting"], regions: ["Bali"])
            }
            let small = try await app.kol(niches: ["food"], followers: 1_000, region: "Jawa Barat")
            let response = try await app.post("/v1/campaigns/\(id)/registrations", token: small.token, RegistrationBody(pitch: ""))
            #expect(response.status == .unprocessableContent)
            #expect(response.errorFields == ["min_followers", "niches", "regions"])
            let fits = try await app.kol(niches: ["parenting"], followers: 60_000, region: "bali")
            #expect(
                try await app.post("/v1/campaigns/\(id)/registrations", token: fits.token, RegistrationBody(pitch: "")).status == .created)
        }
    }

    @Test func onlyKolsRegister() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let id = try await app.recruitingCampaign(by: cast.officer, brandID: cast.brandID)
            for account in [cast.officer, cast.brand, cast.finance, cast.admin] {
                #expect(
                    try await app.post("/v1/campaigns/\(id)/registrations", token: account.token, RegistrationBody(pitch: "")).status
                        == .forbidden)
            }
            let tooLong = try await app.post(
                "/v1/campaigns/\(id)/registrations", token: cast.kol.token, RegistrationBody(pitch: String(repeating: "x", count: 2001)))
            #expect(tooLong.errorFields == ["pitch"])
            #expect(try await app.count("SELECT count(*)::int FROM registrations") == 0)
        }
    }

    @Test func decisionsBelongToTheOfficerAndWithdrawalToTheKol() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let id = try await app.recruitingCampaign(by: cast.officer, brandID: cast.brandID)
            let registration = try await app.register(cast.kol, for: id)
            for action in ["shortlist", "accept", "reject"] {
                for account in [cast.brand, cast.finance, cast.kol] {
                    #expect(
                        try await app.act(action, registration: registration, by: account).status == .forbidden,
                        "\(action) by \(account.role)")
                }
            }
            for account in [cast.officer, cast.brand, cast.finance, cast.admin] {
                #expect(try await app.act("withdraw", registration: registration, by: account).status == .forbidden)
            }
            let other = try await app.kol()
            let otherOfficer = try await app.user(.officer, by: cast.admin)
            #expect(try await app.act("withdraw", registration: registration, by: other).status == .notFound)
            #expect(try await app.act("accept", registration: registration, by: otherOfficer).status == .notFound)
            #expect(try await app.get("/v1/registrations/\(registration)", token: other.token).status == .notFound)
            #expect(try await app.act("accept", registration: UUID().uuidString, by: cast.officer).status == .notFound)
            #expect(try await app.get("/v1/registrations/\(registration)", token: cast.kol.token)["status"] == "applied")
        }
    }

    @Test func illegalDecisionsAre409AndWithdrawingFreesTheSlot() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let id = try await app.recruitingCampaign(by: cast.officer, brandID: cast.brandID, slots: 1)
            let first = try await app.register(cast.kol, for: id)
            let secondKol = try await app.kol()
            let second = try await app.register(secondKol, for: id)
            #expect(try await app.act("accept", registration: first, by: cast.officer).status == .ok)
            let full = try await app.act("accept", registration: second, by: cast.officer)
            #expect(full.status == .conflict)
            #expect(full["detail"]?.contains("slots") == true)
            #expect(try await app.act("shortlist", registration: first, by: cast.officer).status == .conflict)
            #expect(try await app.act("withdraw", registration: first, by: cast.kol)["status"] == "withdrawn")
            let deliverables = try await app.get("/v1/registrations/\(first)/deliverables", token: cast.kol.token)
            #expect(deliverables.data.allSatisfy { $0["status"] as? String == "cancelled" })
            #expect(try await app.get("/v1/campaigns/\(id)", token: cast.officer.token).json["accepted_count"] as? Int == 0)
            #expect(try await app.act("accept", registration: first, by: cast.officer).status == .conflict)
            #expect(try await app.act("accept", registration: second, by: cast.officer).status == .ok)
            #expect(try await app.act("reject", registration: second, by: cast.officer).status == .conflict)
        }
    }

    @Test func registrationListsShowAKolOnlyHerOwn() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let other = try await app.kol()
            let id = try await app.recruitingCampaign(by: cast.officer, brandID: cast.brandID)
            let mine = try await app.register(cast.kol, for: id)
            let theirs = try await app.register(other, for: id)
            _ = try await app.act("shortlist", registration: theirs, by: cast.officer)
            let forKol = try await app.get("/v1/campaigns/\(id)/registrations", token: cast.kol.token)
            #expect(forKol.data.compactMap { $0["id"] as? String } == [mine])
            let forBrand = try await app.get("/v1/campaigns/\(id)/registrations", token: cast.brand.token)
            #expect(forBrand.data.compactMap { $0["id"] as? String } == [mine, theirs])
            let shortlisted = try await app.get("/v1/campaigns/\(id)/registrations?status=shortlisted", token: cast.officer.token)
            #expect(shortlisted.data.compactMap { $0["id"] as? String } == [theirs])
            #expect(
                try await app.get("/v1/campaigns/\(id)/registrations?status=maybe", token: cast.officer.token).status
                    == .unprocessableContent)
            let page = try await app.get("/v1/campaigns/\(id)/registrations?limit=1", token: cast.officer.token)
            let cursor = try #require(page["next_cursor"])
            #expect(
                try await app.get("/v1/campaigns/\(id)/registrations?limit=1&cursor=\(cursor)", token: cast.officer.token).data.count == 1)
            // A cursor of one campaign's list is foreign to another's.
            let otherCampaign = try await app.recruitingCampaign(by: cast.officer, brandID: cast.brandID)
            #expect(
                try await app.get("/v1/campaigns/\(otherCampaign)/registrations?cursor=\(cursor)", token: cast.officer.token).status
                    == .badRequest)
        }
    }

    @Test func theWorklistShowsAnOfficerTheRegistrationsToDecideOldestFirst() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let otherOfficer = try await app.user(.officer, by: cast.admin)
            let id = try await app.recruitingCampaign(by: cast.officer, brandID: cast.brandID)
            var registrations: [String] = []
            for _ in 0..<3 { registrations.append(try await app.register(try await app.kol(), for: id)) }
            _ = try await app.act("reject", registration: registrations[1], by: cast.officer)
            let worklist = try await app.get("/v1/worklist", token: cast.officer.token)
            #expect(worklist.status == .ok)
            #expect(worklist.data.compactMap { $0["entity_id"] as? String } == [registrations[0], registrations[2]])
            #expect(worklist.data.allSatisfy { $0["kind"] as? String == "registration_to_decide" && $0["campaign_id"] as? String == id })
            #expect(try await app.get("/v1/worklist", token: otherOfficer.token).data.isEmpty)
            #expect(try await app.get("/v1/worklist", token: cast.admin.token).data.count == 2)
            #expect(try await app.get("/v1/worklist", token: cast.brand.token).status == .ok)
            for account in [cast.kol, cast.finance] {
                #expect(try await app.get("/v1/worklist", token: account.token).status == .forbidden)
            }
        }
    }
}
