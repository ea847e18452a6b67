import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import Logging
import NIOCore
import PostgresNIO
import Testing

@Suite("Health, readiness, metrics and the API document")
struct OperationsTests {
    @Test func healthAndReadyAnswerWithoutAToken() async throws {
        try await TestApp.run { app in
            #expect(try await app.get("/health").status == .ok)
            let ready = try await app.get("/ready")
            #expect(ready.status == .ok)
            #expect(ready["status"] == "ready")
        }
    }

    @Test func metricsCountRequestsByRouteAndStatusAndShowThePool() async throws {
        try await TestApp.run { app in
            _ = try await app.get("/v1/me")
            let metrics = try await app.get("/metrics")
            #expect(metrics.status == .ok)
            let text = metrics.text
            #expect(text.contains("hb_requests{http_route=\"/v1/me\",http_request_method=\"GET\",http_response_status_code=\"401\"}"))
            #expect(text.contains("http_server_request_duration_bucket"))
            #expect(text.contains("kolab_db_pool_connections_in_use"))
            #expect(text.contains("kolab_db_pool_connections_max"))
        }
    }

    @Test func theOpenAPIDocumentIsServedAsCheckedIn() async throws {
        try await TestApp.run { app in
            let served = try await app.get("/v1/openapi.json")
            #expect(served.status == .ok)
            let checkedIn = try Data(contentsOf: repositoryRoot.appendingPathComponent("openapi.json"))
            #expect(Data(served.body.readableBytesView) == checkedIn)
            #expect(served["openapi"] == "3.1.0")
        }
    }

    /// Fails when the router has a route the document lacks, or the document one the router lacks.
    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() throws {
        let document =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: repositoryRoot.appendingPathComponent("openapi.json"))) as? [String: Any]
        let paths = document?["paths"] as? [String: [String: Any]] ?? [:]
        var documented = Set<String>()
        for (path, operations) in paths {
            for method in operations.keys where ["get", "post", "put", "patch", "delete"].contains(method) {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        let url = DatabaseURL(host: "127.0.0.1", port: 1, username: "unused", password: nil, database: "unused")
        let configuration = Configuration(databaseURL: url, home: repositoryRoot)
        let client = PostgresClientFactory.unstarted(url)
        let services = Services(
            configuration: configuration, database: Database(client: client, maximumConnections: 1, logger: testLogger), logger: testLogger)
        let routed = Set(try buildRoutes(services).routes)
        #expect(routed.subtracting(documented).sorted() == [], "routes missing from openapi.json")
        #expect(documented.subtracting(routed).sorted() == [], "documented routes the router lacks")
        #expect(routed.count > 15)
    }
}
