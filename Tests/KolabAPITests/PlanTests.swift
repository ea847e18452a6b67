import Foundation
import KolabDomain
import KolabStore
import Logging
import PostgresNIO
import Testing

/// Every list query reaches its rows through an index at the scale shape: the benchmark's dataset
/// (`scripts/bench.d/dataset.sql`, the same SQL at a twentieth of its size: 5,000 KOLs, 300 campaigns,
/// 10,000 registrations, 15,000 deliverables, about 50,000 events, analysed), and the lists called
/// through the stores themselves, so that what is EXPLAINed is exactly what the service sends. Each
/// statement is held to it twice: with its values, and as the generic plan PostgreSQL may switch a
/// prepared statement to.
@Suite("Query plans at the scale shape")
struct PlanTests {
    /// Tables that grow with the platform; a sequential scan of any of them in a list is a failure.
    static let large: Set<String> = [
        "users", "kol_profiles", "kol_social_accounts", "registrations", "deliverables", "drafts", "reviews", "events", "payouts",
        "payout_batch_lines", "insights", "auth_tokens",
    ]

    @Test func everyListQueryUsesAnIndex() async throws {
        let url = try await TestDatabase.shared.makeDatabase()
        defer { Task { try? await TestDatabase.shared.dropDatabase(url) } }
        try loadDataset(into: url, scale: 0.05)

        try await Database.withTemporary(url, logger: testLogger) { database in
            try await database.withConnection { connection in
                let ids = try await Self.shapeIDs(on: connection)
                let recorder = PlanRecorder()
                try await PlanRecorder.$current.withValue(recorder) {
                    try await Self.runEveryList(ids, on: connection)
                }
                let plans = recorder.plans
                #expect(plans.count >= 74, "37 statements, each EXPLAINed twice; got \(plans.count) plans")
                for plan in plans where !Self.readsWholeBatch(plan.sql) {
                    let scanned = try Self.sequentialScans(plan.json)
                    #expect(
                        scanned.isDisjoint(with: Self.large),
                        "\(plan.kind) plan scans \(scanned.sorted()) sequentially:\n\(plan.sql)\n\(plan.json)")
                }

                // And an index serves every one of them, the batch reads included: with sequential
                // scans priced out, none is left that has no other way to its rows.
                try await connection.query("SET enable_seqscan = off", logger: testLogger)
                let indexOnly = PlanRecorder()
                try await PlanRecorder.$current.withValue(indexOnly) {
                    try await Self.runEveryList(ids, on: connection)
                }
                try await connection.query("RESET enable_seqscan", logger: testLogger)
                for plan in indexOnly.plans {
                    let scanned = try Self.sequentialScans(plan.json)
                    #expect(scanned.isDisjoint(with: Self.large), "no index serves \(scanned.sorted()) in:\n\(plan.sql)")
                }
            }
        }
    }

    /// The dataset holds one batch of every payout (as the benchmark's export asks), so a statement
    /// scoped to that batch reads the whole of `payouts` or `payout_batch_lines`, where reading the
    /// table is the right plan. The second pass still holds them to having an index.
    static func readsWholeBatch(_ sql: String) -> Bool {
        sql.contains("batch_id = ")
    }

    struct ShapeIDs {
        var kol: UUID
        var officer: UUID
        var brand: UUID
        var campaign: UUID
        var registration: UUID
        var deliverable: UUID
        var batch: UUID
        var position: PagePosition
    }

    /// A KOL with registrations, the officer with a tenth of the campaigns, the busiest campaign.
    static func shapeIDs(on connection: PostgresConnection) async throws -> ShapeIDs {
        let rows = try await connection.query(
            """
            SELECT (SELECT kol_id FROM registrations ORDER BY created_at LIMIT 1),
                   (SELECT id FROM users WHERE email = 'officer1@bench.kolab.id'),
                   (SELECT id FROM brands ORDER BY name LIMIT 1),
                   (SELECT campaign_id FROM registrations GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1),
                   (SELECT registration_id FROM deliverables ORDER BY created_at LIMIT 1),
                   (SELECT id FROM deliverables ORDER BY created_at LIMIT 1),
                   (SELECT id FROM payout_batches ORDER BY created_at LIMIT 1)
            """, logger: testLogger
        ).collect()
        let r = try rows[0].decode((UUID, UUID, UUID, UUID, UUID, UUID, UUID).self)
        return ShapeIDs(
            kol: r.0, officer: r.1, brand: r.2, campaign: r.3, registration: r.4, deliverable: r.5, batch: r.6,
            position: PagePosition(micros: 1_700_000_000_000_000, id: r.3))
    }

    /// Calls every list of the API as the roles that use it, first pages and later pages.
    static func runEveryList(_ ids: ShapeIDs, on connection: PostgresConnection) async throws {
        let logger = testLogger
        let kol = Actor(userID: ids.kol, role: .kol, brandID: nil)
        let officer = Actor(userID: ids.officer, role: .officer, brandID: nil)
        let brand = Actor(userID: UUID(), role: .brand, brandID: ids.brand)
        let finance = Actor(userID: UUID(), role: .finance, brandID: nil)
        let campaigns = CampaignStore(logger: logger)
        let registrations = RegistrationStore(logger: logger)
        let worklist = WorklistStore(logger: logger)
        let events = EventStore(logger: logger)
        let payouts = PayoutStore(logger: logger)
        let kols = KolStore(logger: logger)
        let accounts = AccountStore(logger: logger)
        let content = ContentStore(logger: logger)

        for after in [nil, ids.position] {
            _ = try await campaigns.list(visibleTo: kol, CampaignFilter(status: .recruiting), after: after, limit: 50, on: connection)
            _ = try await campaigns.list(visibleTo: kol, CampaignFilter(), after: after, limit: 50, on: connection)
            _ = try await campaigns.list(visibleTo: officer, CampaignFilter(), after: after, limit: 50, on: connection)
            _ = try await campaigns.list(visibleTo: brand, CampaignFilter(status: .running), after: after, limit: 50, on: connection)
            _ = try await worklist.officerItems(officerID: ids.officer, now: Date(), after: after, limit: 50, on: connection)
            _ = try await worklist.brandItems(brandID: ids.brand, after: after, limit: 50, on: connection)
            _ = try await registrations.list(
                campaignID: ids.campaign, kolID: nil, status: nil, after: after, limit: 50, on: connection)
            _ = try await registrations.list(
                campaignID: ids.campaign, kolID: nil, status: .applied, after: after, limit: 50, on: connection)
            _ = try await payouts.list(visibleTo: finance, PayoutFilter(), after: after, limit: 50, on: connection)
            _ = try await payouts.list(visibleTo: kol, PayoutFilter(), after: after, limit: 50, on: connection)
            _ = try await payouts.list(visibleTo: finance, PayoutFilter(batchID: ids.batch), after: after, limit: 50, on: connection)
            _ = try await kols.search(KolSearch(niche: "food", minFollowers: 100_000), after: after, limit: 50, on: connection)
            _ = try await kols.search(KolSearch(region: "Bali"), after: after, limit: 50, on: connection)
            _ = try await accounts.listUsers(role: .kol, brandID: nil, after: after, limit: 50, on: connection)
            _ = try await payouts.listBatches(after: after, limit: 50, on: connection)
        }
        for after in [nil, PagePosition(micros: 100, id: ids.campaign)] {
            _ = try await events.timeline(campaignID: ids.campaign, audience: .everything, after: after, limit: 50, on: connection)
            _ = try await events.timeline(campaignID: ids.campaign, audience: .brand, after: after, limit: 50, on: connection)
            _ = try await events.timeline(campaignID: ids.campaign, audience: .kol(ids.kol), after: after, limit: 50, on: connection)
        }
        _ = try await registrations.deliverables(registrationID: ids.registration, on: connection)
        _ = try await content.drafts(deliverableID: ids.deliverable, on: connection)
        // The export streams every line once, in order, across its 512-line rows.
        var streamed = ByteBuffer()
        try await payouts.streamLines(batchID: ids.batch, on: connection) { chunk in
            var chunk = chunk
            streamed.writeBuffer(&chunk)
        }
        var expected = ByteBuffer()
        var lines = 0
        for try await csv in try await connection.query(
            "SELECT csv FROM payout_batch_lines WHERE batch_id = \(ids.batch) ORDER BY line", logger: testLogger
        ).decode(String.self) {
            expected.writeString(csv)
            lines += 1
        }
        #expect(lines > 1_024, "the plan dataset's batch crosses several 512-line rows")
        #expect(streamed == expected)
    }

    /// The tables an EXPLAIN (FORMAT JSON) document reads with a sequential scan.
    static func sequentialScans(_ json: String) throws -> Set<String> {
        var found: Set<String> = []
        func walk(_ node: [String: Any]) {
            if node["Node Type"] as? String == "Seq Scan", let table = node["Relation Name"] as? String { found.insert(table) }
            for child in node["Plans"] as? [[String: Any]] ?? [] { walk(child) }
        }
        let document = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]
        for entry in document ?? [] {
            if let plan = entry["Plan"] as? [String: Any] { walk(plan) }
        }
        return found
    }

    /// psql: next to the server programs, on PATH, or under /usr/lib/postgresql/N/bin.
    static func psql() throws -> URL {
        var candidates = [try EmbeddedPostgres.binFolder().appendingPathComponent("psql")]
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates.append(URL(fileURLWithPath: String(dir)).appendingPathComponent("psql"))
        }
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap(Int.init)
        for version in versions.sorted(by: >) {
            candidates.append(URL(fileURLWithPath: "/usr/lib/postgresql/\(version)/bin/psql"))
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            Issue.record("psql was not found (install postgresql-client); the plan check needs it to load the dataset")
            throw CancellationError()
        }
        return found
    }

    /// Runs the benchmark's dataset script at `scale` with psql (it sits next to the server programs).
    func loadDataset(into url: DatabaseURL, scale: Double) throws {
        let process = Process()
        process.executableURL = try Self.psql()
        process.arguments = [
            "-h", url.host, "-p", "\(url.port)", "-U", url.username, "-d", url.database, "-q", "-v", "ON_ERROR_STOP=1",
            "-v", "scale=\(scale)", "-f", repositoryRoot.appendingPathComponent("scripts/bench.d/dataset.sql").path,
        ]
        var environment = ProcessInfo.processInfo.environment
        if let password = url.password { environment["PGPASSWORD"] = password }
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            Issue.record("dataset.sql failed (\(process.terminationStatus)):\n\(text)")
            throw CancellationError()
        }
    }
}
