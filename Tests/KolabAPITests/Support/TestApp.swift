import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KolabAPI
import KolabDomain
import KolabStore
import Logging
import NIOCore
import PostgresNIO
import Testing

/// A JSON answer as the client sees it.
struct APIResponse: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: ByteBuffer

    var text: String { String(buffer: body) }

    /// The body as a JSON object (empty when it is not one).
    var json: [String: any Sendable] {
        (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: any Sendable] ?? [:]
    }

    var data: [[String: any Sendable]] { json["data"] as? [[String: any Sendable]] ?? [] }

    subscript(key: String) -> String? { json[key] as? String }

    /// The field names of a problem document's `errors`.
    var errorFields: [String] {
        (json["errors"] as? [[String: any Sendable]] ?? []).compactMap { $0["field"] as? String }
    }

    var isProblem: Bool { headers[.contentType] == "application/problem+json" }
}

/// A test's own database and service, driven through the real HTTP stack.
struct TestApp: Sendable {
    let client: any TestClientProtocol
    let databaseURL: DatabaseURL

    /// Runs `test` against a fresh database and a running application (pool and router together).
    static func run(
        configure: @Sendable (inout Configuration) -> Void = { _ in },
        logger: Logger = testLogger,
        _ test: @Sendable (TestApp) async throws -> Void
    ) async throws {
        let url = try await TestDatabase.shared.makeDatabase()
        var configuration = Configuration(databaseURL: url, home: repositoryRoot)
        configuration.bcryptCost = 4  // tests only: real deployments refuse below 10
        configuration.databasePoolSize = 6
        configuration.logLevel = testLogger.logLevel
        // The whole suite runs in parallel on 2 cores: a request may wait longer than production's
        // 1.5 s for a connection without anything being down (the outage tests set their own).
        configuration.leaseTimeout = .seconds(20)
        configure(&configuration)
        let app = try buildApplication(configuration, logger: logger)
        try await app.test(.router) { client in
            try await test(TestApp(client: client, databaseURL: url))
        }
        try await TestDatabase.shared.dropDatabase(url)
    }

    /// Runs `test` with two service instances (each its own pool and router) on one fresh database:
    /// what several deployed instances look like to the invariants kept in PostgreSQL.
    static func runTwoInstances(
        poolSize: Int = 10, configure: @Sendable (inout Configuration) -> Void = { _ in },
        _ test: @Sendable (TestApp, TestApp) async throws -> Void
    ) async throws {
        let url = try await TestDatabase.shared.makeDatabase()
        let sharedKey = SecretBox(base64: SecretBox.newKeyBase64())!
        func configuration() -> Configuration {
            var configuration = Configuration(databaseURL: url, home: repositoryRoot)
            configuration.bcryptCost = 4
            configuration.databasePoolSize = poolSize
            configuration.leaseTimeout = .seconds(20)
            configuration.secretBox = sharedKey  // instances of one deployment share the service key
            configuration.logLevel = testLogger.logLevel
            configure(&configuration)
            return configuration
        }
        let first = try buildApplication(configuration(), logger: testLogger)
        let second = try buildApplication(configuration(), logger: testLogger)
        try await first.test(.router) { firstClient in
            try await second.test(.router) { secondClient in
                try await test(TestApp(client: firstClient, databaseURL: url), TestApp(client: secondClient, databaseURL: url))
            }
        }
        try await TestDatabase.shared.dropDatabase(url)
    }

    /// Sends a request; `body` is the raw text sent (a typed body's `jsonText`, or `RawJSON`'s text).
    @discardableResult
    func request(
        _ method: HTTPRequest.Method, _ path: String, token: String? = nil, body: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> APIResponse {
        var headers = headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        let buffer = body.map { ByteBuffer(string: $0) }
        if buffer != nil && headers[.contentType] == nil { headers[.contentType] = "application/json" }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: buffer)
        return APIResponse(status: response.status, headers: response.headers, body: response.body)
    }

    func get(_ path: String, token: String? = nil) async throws -> APIResponse {
        try await request(.get, path, token: token)
    }

    func post(_ path: String, token: String? = nil, headers: HTTPFields = [:]) async throws -> APIResponse {
        try await request(.post, path, token: token, headers: headers)
    }

    func post(_ path: String, token: String? = nil, _ body: some RequestBody, headers: HTTPFields = [:]) async throws -> APIResponse {
        try await request(.post, path, token: token, body: body.jsonText, headers: headers)
    }

    /// Sends a body malformed on purpose.
    func post(_ path: String, token: String? = nil, _ body: RawJSON, headers: HTTPFields = [:]) async throws -> APIResponse {
        try await request(.post, path, token: token, body: body.text, headers: headers)
    }

    func post(_ path: String, token: String? = nil, raw: String, headers: HTTPFields = [:]) async throws -> APIResponse {
        try await request(.post, path, token: token, body: raw, headers: headers)
    }

    func patch(_ path: String, token: String? = nil, _ body: some RequestBody, ifMatch: String? = nil) async throws -> APIResponse {
        try await request(.patch, path, token: token, body: body.jsonText, headers: ifMatch.map { [.ifMatch: $0] } ?? [:])
    }

    /// Sends a body malformed on purpose.
    func patch(_ path: String, token: String? = nil, _ body: RawJSON, ifMatch: String? = nil) async throws -> APIResponse {
        try await request(.patch, path, token: token, body: body.text, headers: ifMatch.map { [.ifMatch: $0] } ?? [:])
    }

    /// Runs SQL against the test's database directly: to check what was stored, never to set up state
    /// the API could set up.
    /// Runs one statement directly (to age a token, say: something time does, not the API).
    func execute(_ query: PostgresQuery) async throws {
        try await sql { db in
            try await db.withConnection { _ = try await $0.query(query, logger: testLogger) }
        }
    }

    /// A single integer the database answers (`SELECT count(*)::int ...`).
    func count(_ query: PostgresQuery) async throws -> Int {
        try await sql { db in
            try await db.withConnection { connection in
                for try await value in try await connection.query(query, logger: testLogger).decode(Int.self) { return value }
                return 0
            }
        }
    }

    func sql<T: Sendable>(_ body: @Sendable (Database) async throws -> T) async throws -> T {
        try await Database.withTemporary(databaseURL, maximumConnections: 1, logger: testLogger, body)
    }
}

/// A pool that is never started: enough to build the router and list its routes.
enum PostgresClientFactory {
    static func unstarted(_ url: DatabaseURL) -> PostgresClient {
        PostgresClient(configuration: url.clientConfiguration(maximumConnections: 1), backgroundLogger: testLogger)
    }
}
