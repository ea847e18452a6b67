import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import Metrics
import NIOCore
import Prometheus

/// Health, readiness, metrics and the API document: what operators and clients read without a token.
struct OperationsController {
    let services: Services
    let openAPI: Data
    private let poolInUse: Metrics.Gauge
    private let poolWaiting: Metrics.Gauge
    private let poolMaximum: Metrics.Gauge

    init(services: Services, openAPI: Data) {
        self.services = services
        self.openAPI = openAPI
        _ = MetricsRegistry.shared
        self.poolInUse = Metrics.Gauge(label: "kolab_db_pool_connections_in_use")
        self.poolWaiting = Metrics.Gauge(label: "kolab_db_pool_requests_waiting")
        self.poolMaximum = Metrics.Gauge(label: "kolab_db_pool_connections_max")
    }

    /// `GET /`: where to go from here, for a person or a client that opens the bare address.
    struct Index: Encodable {
        struct Links: Encodable {
            var openapi = "/v1/openapi.json"
            var health = "/health"
            var ready = "/ready"
            var metrics = "/metrics"
            var signIn = "/v1/auth/tokens"
            var me = "/v1/me"
        }
        var name = "Kolab"
        var description = "Influencer campaigns between brands and KOLs, with a project officer in the middle."
        var version: String
        var links = Links()
    }

    func register(_ routes: RouteTable) {
        routes.on(.get, "/") { _, _ in
            try Response.json(Index(version: Configuration.version))
        }
        routes.on(.get, "/health") { _, _ in
            try Response.json(["status": "ok"])
        }
        routes.on(.get, "/ready") { _, _ in
            guard await services.database.ping() else {
                throw KolabError(.unavailable, "The database cannot be reached; check DATABASE_URL and that PostgreSQL runs.")
            }
            return try Response.json(["status": "ready"])
        }
        routes.on(.get, "/metrics") { _, _ in
            let usage = services.database.poolUsage
            poolInUse.record(usage.inUse)
            poolWaiting.record(usage.waiting)
            poolMaximum.record(services.database.maximumConnections)
            var bytes: [UInt8] = []
            MetricsRegistry.shared.emit(into: &bytes)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        let document = openAPI
        routes.on(.get, "/v1/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json", .contentLength: "\(document.count)"],
                body: .init(byteBuffer: ByteBuffer(bytes: document)))
        }
    }
}
