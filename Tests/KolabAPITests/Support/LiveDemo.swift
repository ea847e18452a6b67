import Foundation
import Hummingbird
import HummingbirdTesting
import KolabAPI
import KolabFixtures
import KolabStore
import Logging

/// A real server on a real port, over a fresh database loaded with `fixtures/`: what a newcomer, a
/// README reader or a generated client meets. `test` gets the port.
enum LiveDemo {
    static func run(_ test: @Sendable (Int) async throws -> Void) async throws {
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
            guard let port = client.port else { throw CocoaError(.featureUnsupported) }
            try await test(port)
        }
        try await TestDatabase.shared.dropDatabase(url)
    }

    /// Runs `bash arguments...` in `folder`; its exit status and everything it printed. The wait
    /// happens on a Dispatch thread: blocking one of Swift's cooperative threads (two on a 2-core
    /// machine) could starve the very server the script is talking to.
    static func bash(_ arguments: [String], in folder: URL) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: "/bin/bash")
                    process.arguments = arguments
                    process.currentDirectoryURL = folder
                    let output = Pipe()
                    process.standardOutput = output
                    process.standardError = output
                    try process.run()
                    let bytes = output.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    continuation.resume(returning: (process.terminationStatus, String(decoding: bytes, as: UTF8.self)))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
