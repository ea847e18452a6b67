import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabFixtures
import KolabStore
import PostgresNIO
import Testing

@Suite("Demo data")
struct SeedTests {
    @Test func theFixturesLoadOnceAndTheirCampaignsAreAtTheirStages() async throws {
        try await TestApp.run { app in
            let fixtures = try Seeder.load(from: repositoryRoot.appendingPathComponent("fixtures"))
            let url = app.databaseURL
            let (first, second) = try await app.sql { database in
                var configuration = Configuration(databaseURL: url, home: repositoryRoot)
                configuration.bcryptCost = 4
                let seeder = Seeder(services: Services(configuration: configuration, database: database, logger: testLogger))
                return (try await seeder.seed(fixtures), try await seeder.seed(fixtures))
            }
            #expect(first.created == 2 + 6 + 12 + 4)
            #expect(first.existing == 0)
            #expect(second.created == 0)
            #expect(second.existing == first.created)
            #expect(try await app.count("SELECT count(*)::int FROM users WHERE role = 'kol'") == 12)
            #expect(try await app.count("SELECT count(*)::int FROM kol_profiles WHERE bank_name IS NOT NULL") == 11)
            #expect(try await app.count("SELECT count(*)::int FROM campaigns WHERE status = 'running'") == 2)
            #expect(try await app.count("SELECT count(*)::int FROM payouts WHERE status = 'exported'") == 2)
            #expect(try await app.count("SELECT count(*)::int FROM payout_batches") == 1)
            #expect(try await app.count("SELECT count(*)::int FROM campaigns WHERE status = 'recruiting'") == 1)
            #expect(try await app.count("SELECT count(*)::int FROM campaigns WHERE status = 'draft'") == 1)
            #expect(try await app.count("SELECT count(*)::int FROM registrations WHERE status = 'accepted'") == 5)
            #expect(try await app.count("SELECT count(*)::int FROM deliverables") == 14)
            // Demo content in several states of review.
            #expect(try await app.count("SELECT count(DISTINCT status)::int FROM deliverables") == 7)
            #expect(try await app.count("SELECT count(*)::int FROM deliverables WHERE status = 'live'") == 1)
            #expect(try await app.count("SELECT count(*)::int FROM deliverables WHERE status = 'changes_requested'") == 1)
            // The demo accounts log in with the password the README gives.
            let officer = try await app.login("officer.sari@kolab.id", password: "kolab-demo-2026", role: .officer)
            let worklist = try await app.get("/v1/worklist", token: officer.token)
            #expect(worklist.status == .ok)
            let budi = try await app.login("officer.budi@kolab.id", password: "kolab-demo-2026", role: .officer)
            #expect(try await app.get("/v1/worklist", token: budi.token).data.count == 3)
        }
    }

    /// The hand-written documents (campaigns, deliverables, worklist items) carry exactly the fields
    /// their OpenAPI schemas list, nested objects included.
    @Test func theHandWrittenDocumentsMatchTheirSchemas() async throws {
        let schema = try SchemaCheck(document: repositoryRoot.appendingPathComponent("openapi.json"))
        try await TestApp.run { app in
            let fixtures = try Seeder.load(from: repositoryRoot.appendingPathComponent("fixtures"))
            let url = app.databaseURL
            _ = try await app.sql { database in
                var configuration = Configuration(databaseURL: url, home: repositoryRoot)
                configuration.bcryptCost = 4
                return try await Seeder(services: Services(configuration: configuration, database: database, logger: testLogger)).seed(
                    fixtures)
            }
            let officer = try await app.login("officer.sari@kolab.id", password: "kolab-demo-2026", role: .officer)
            let campaigns = try await app.get("/v1/campaigns", token: officer.token).data
            #expect(!campaigns.isEmpty)
            // Types, required members, enums and formats, through nested objects: not only the key sets.
            for campaign in campaigns { #expect(schema.problems(campaign, against: "Campaign") == []) }
            let items = try await app.get("/v1/worklist", token: officer.token).data
            #expect(!items.isEmpty)
            for item in items { #expect(schema.problems(item, against: "WorklistItem") == []) }
            let deliverableIDs = items.filter { $0["entity_type"] as? String == "deliverable" }.compactMap { $0["entity_id"] as? String }
            #expect(!deliverableIDs.isEmpty)
            for id in deliverableIDs {
                let deliverable = try await app.get("/v1/deliverables/\(id)", token: officer.token)
                #expect(deliverable.status == .ok)
                #expect(schema.problems(deliverable.json, against: "Deliverable") == [])
            }
            // The checker itself can fail: a wrong type, a missing member and an upper-case id are caught.
            var broken = try #require(campaigns.first)
            broken["kol_slots"] = "five"
            broken["status"] = "paused"
            broken["id"] = (broken["id"] as? String)?.uppercased()
            broken["title"] = nil
            #expect(schema.problems(broken, against: "Campaign").count == 4)
        }
    }
}
