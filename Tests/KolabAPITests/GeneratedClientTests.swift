import Foundation
import Hummingbird
import HummingbirdTesting
import KolabAPI
import KolabDomain
import KolabFixtures
import KolabStore
import Logging
import Testing

/// openapi.json is meant to generate clients people can use: `scripts/python-client` generates one with
/// openapi-python-client (any generator warning fails it) and runs a short flow with nothing but the
/// generated code against a real server with the demo data.
@Suite("The Python client generated from openapi.json")
struct GeneratedClientTests {
    @Test func theGeneratedPythonClientSignsInAndCreatesACampaign() async throws {
        let url = try await TestDatabase.shared.makeDatabase()
        var configuration = Configuration(databaseURL: url, home: repositoryRoot)
        configuration.port = 0
        configuration.bcryptCost = 4
        configuration.logLevel = testLogger.logLevel
        configuration.leaseTimeout = .seconds(20)  // the suite's parallel load, not an outage
        let seeding = configuration
        try await Database.withTemporary(url, logger: testLogger) { database in
            let seeder = Seeder(services: Services(configuration: seeding, database: database, logger: testLogger))
            _ = try await seeder.seed(try Seeder.load(from: seeding.fixturesFolder))
        }
        let app = try buildApplication(configuration, logger: testLogger)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            // The first run installs the generator with pip into .build/venv-client; later runs reuse it.
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["scripts/python-client", "http://127.0.0.1:\(port)"]
            process.currentDirectoryURL = repositoryRoot
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let bytes = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(process.terminationStatus == 0, "scripts/python-client failed:\n\(text.suffix(4000))")
            #expect(text.contains("listed campaigns:"), "the new campaign was found in the list")
            #expect(text.contains("PYTHON CLIENT FLOW DONE"))
        }
        try await TestDatabase.shared.dropDatabase(url)
    }
}
