import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import PostgresNIO
import Testing

@Suite("Versioned briefs")
struct BriefTests {
    @Test func aNewVersionSupersedesThePublishedOneWhichNeverChanges() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let id = try await app.draftCampaign(by: cast.officer, brandID: cast.brandID)
            #expect(try await app.get("/v1/campaigns/\(id)/brief", token: cast.officer.token).status == .notFound)
            #expect(try await app.publishBrief(id, by: cast.officer) == 1)
            let v1 = try await app.get("/v1/campaigns/\(id)/brief", token: cast.officer.token)
            #expect(v1.json["version"] as? Int == 1)
            #expect(v1["status"] == "published")
            #expect(v1.json["hashtags"] as? [String] == ["#SusuBunda", "#RamadanBersama"])
            #expect(v1.json["mentions"] as? [String] == ["@susubunda.id"])
            var body = BriefBody()
            body.keyMessages = ["A second, better message"]
            #expect(try await app.publishBrief(id, by: cast.officer, body: body) == 2)
            let versions = try await app.get("/v1/campaigns/\(id)/brief-versions", token: cast.brand.token)
            #expect(versions.data.map { $0["status"] as? String } == ["superseded", "published"])
            #expect((versions.data.first?["key_messages"] as? [String]) == ["Susu Bunda helps little ones sleep after sahur"])
            #expect(try await app.get("/v1/campaigns/\(id)/brief", token: cast.brand.token).json["version"] as? Int == 2)
            // Publishing the superseded version again, or a published one, is refused.
            #expect(try await app.post("/v1/campaigns/\(id)/brief-versions/1/publish", token: cast.officer.token).status == .conflict)
            #expect(try await app.post("/v1/campaigns/\(id)/brief-versions/2/publish", token: cast.officer.token).status == .conflict)
            #expect(try await app.post("/v1/campaigns/\(id)/brief-versions/9/publish", token: cast.officer.token).status == .notFound)
            // The database itself refuses to edit a written version.
            await #expect(throws: (any Error).self) {
                try await app.execute("UPDATE brief_versions SET key_messages = '{forged}' WHERE version = 2")
            }
        }
    }

    @Test func briefDeliverablesAreValidated() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let id = try await app.draftCampaign(by: cast.officer, brandID: cast.brandID)
            var body = BriefBody()
            body.references = ["javascript:alert(1)"]
            body.deliverables = [
                BriefDeliverableBody(
                    key: "yt", platform: "youtube", format: "video", quantity: 0, draftDueAt: "2030-01-05T09:00:00Z",
                    postDueAt: "2030-01-01T09:00:00Z"),
                BriefDeliverableBody(key: "yt", format: "reel", draftDueAt: "2030-01-05T09:00:00Z", postDueAt: "2030-01-06T09:00:00Z"),
            ]
            let response = try await app.post("/v1/campaigns/\(id)/brief-versions", token: cast.officer.token, body)
            #expect(response.status == .unprocessableContent)
            #expect(
                Set(response.errorFields) == [
                    "references[0]", "deliverables[0].platform", "deliverables[0].quantity", "deliverables[0].post_due_at",
                    "deliverables[1].key",
                ])
            var badFormat = BriefBody()
            badFormat.deliverables = [
                BriefDeliverableBody(key: "x", format: "carousel", draftDueAt: "2030-01-05T09:00:00Z", postDueAt: "2030-01-06T09:00:00Z")
            ]
            let format = try await app.post("/v1/campaigns/\(id)/brief-versions", token: cast.officer.token, badFormat)
            #expect(format.errorFields == ["deliverables[0].format"])
            var badDate = BriefBody()
            badDate.deliverables = [
                BriefDeliverableBody(key: "x", format: "story", draftDueAt: "tomorrow", postDueAt: "2030-01-06T09:00:00Z")
            ]
            let date = try await app.post("/v1/campaigns/\(id)/brief-versions", token: cast.officer.token, badDate)
            #expect(date.errorFields == ["deliverables[0].draft_due_at"], "\(date.text)")
            #expect(try await app.count("SELECT count(*)::int FROM brief_versions") == 0)
        }
    }

    @Test func onlyTheOfficerOrAnAdminWritesBriefsAndKolsReadOnlyThePublishedOne() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let id = try await app.recruitingCampaign(by: cast.officer, brandID: cast.brandID)
            for account in [cast.brand, cast.finance, cast.kol] {
                let write = try await app.post("/v1/campaigns/\(id)/brief-versions", token: account.token, BriefBody())
                #expect(write.status == .forbidden, "\(account.role)")
                #expect(try await app.post("/v1/campaigns/\(id)/brief-versions/1/publish", token: account.token).status == .forbidden)
            }
            #expect(try await app.get("/v1/campaigns/\(id)/brief-versions", token: cast.kol.token).status == .forbidden)
            #expect(try await app.get("/v1/campaigns/\(id)/brief", token: cast.kol.token).status == .ok)
            let otherOfficer = try await app.user(.officer, by: cast.admin)
            #expect(
                try await app.post("/v1/campaigns/\(id)/brief-versions", token: otherOfficer.token, BriefBody()).status == .notFound)
            #expect(try await app.count("SELECT count(*)::int FROM brief_versions") == 1)
        }
    }

    @Test func acceptedKolsAcknowledgeTheVersionTheyReadAndAgainAfterANewOne() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            let id = try await app.recruitingCampaign(by: cast.officer, brandID: cast.brandID)
            let registration = try await app.register(cast.kol, for: id)
            let early = try await app.post(
                "/v1/registrations/\(registration)/brief-acknowledgement", token: cast.kol.token, BriefAcknowledgementBody(version: 1))
            #expect(early.status == .conflict)  // not accepted yet
            let accepted = try await app.act("accept", registration: registration, by: cast.officer)
            #expect(accepted.json["brief_acknowledgement_required"] as? Bool == true)
            let wrong = try await app.post(
                "/v1/registrations/\(registration)/brief-acknowledgement", token: cast.kol.token, BriefAcknowledgementBody(version: 7))
            #expect(wrong.status == .unprocessableContent)
            let byOfficer = try await app.post(
                "/v1/registrations/\(registration)/brief-acknowledgement", token: cast.officer.token, BriefAcknowledgementBody(version: 1))
            #expect(byOfficer.status == .forbidden)
            let ack = try await app.post(
                "/v1/registrations/\(registration)/brief-acknowledgement", token: cast.kol.token, BriefAcknowledgementBody(version: 1))
            #expect(ack.status == .ok)
            #expect(ack.json["brief_version_acknowledged"] as? Int == 1)
            #expect(ack.json["brief_acknowledgement_required"] as? Bool == false)
            try await app.publishBrief(id, by: cast.officer)
            let after = try await app.get("/v1/registrations/\(registration)", token: cast.kol.token)
            #expect(after.json["brief_acknowledgement_required"] as? Bool == true)
            let again = try await app.post(
                "/v1/registrations/\(registration)/brief-acknowledgement", token: cast.kol.token, BriefAcknowledgementBody(version: 2))
            #expect(again.json["brief_version_acknowledged"] as? Int == 2)
        }
    }
}
