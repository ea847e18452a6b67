import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import KolabWebhooks
import Logging
import Metrics
import NIOCore
import PostgresNIO
import Prometheus
import ServiceLifecycle
import Synchronization

/// Builds the whole service: the PostgreSQL pool and the HTTP server, run together in one
/// `ServiceGroup` (the pool starts first and stops last). `kolab serve` and the tests both call this.
public func buildApplication(
    _ configuration: Configuration, logger: Logger? = nil, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    var logger = logger ?? Logger(label: "kolab")
    logger.logLevel = configuration.logLevel
    // The pool holds two connections more than requests may lease: the webhook worker's and the token
    // cache's LISTEN connections each keep one for as long as the service runs.
    var poolConfiguration = configuration.databaseURL.clientConfiguration(maximumConnections: configuration.databasePoolSize + 2)
    poolConfiguration.options.connectTimeout = .seconds(2)
    let client = PostgresClient(configuration: poolConfiguration, backgroundLogger: logger)
    let database = Database(
        client: client, maximumConnections: configuration.databasePoolSize, logger: logger, leaseTimeout: configuration.leaseTimeout)
    let services = Services(configuration: configuration, database: database, logger: logger)
    let routes = try buildRoutes(services)
    let connections = ConnectionLimitHandler.Counter(limit: configuration.maximumConnections)
    let idleTimeout = configuration.idleTimeout
    var app = Application(
        router: routes.router,
        // An idle connection, or one whose request head never completes, is closed after `idleTimeout`.
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: [ConnectionLimitHandler(counter: connections)],
                idleTimeout: .nanoseconds(Int64(idleTimeout.components.seconds) * 1_000_000_000))),
        configuration: .init(address: .hostname(configuration.hostname, port: configuration.port), serverName: "kolab"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
    app.addServices(
        DatabaseSupervisor(database: database, url: configuration.databaseURL, configuration: poolConfiguration, logger: logger),
        Housekeeping(database: database, interval: configuration.housekeepingInterval, logger: logger),
        ActorCacheListener(database: database, cache: services.auth.actors, logger: logger),
        WebhookWorker(database: database, box: configuration.secretBox, settings: configuration.webhookSettings, logger: logger))
    return app
}

/// The router and the list of its routes (`GET /v1/users/{id}`), which a test holds against the OpenAPI document.
public struct BuiltRoutes {
    public let router: Router<KolabRequestContext>
    public let routes: [String]
}

public func buildRoutes(_ services: Services) throws -> BuiltRoutes {
    let router = Router(context: KolabRequestContext.self)
    router.add(middleware: EdgeMiddleware())
    if let origin = services.configuration.corsAllowOrigin {
        // Off unless configured (`KOLAB_CORS_ORIGIN`): the API is for servers and Kolab's own pages.
        router.add(
            middleware: CORSMiddleware(
                allowOrigin: .custom(origin), allowHeaders: [.authorization, .contentType, .ifMatch, .idempotencyKey],
                allowMethods: [.get, .post, .patch, .delete], exposedHeaders: ["ETag", "Location", "X-Request-Id", "Idempotent-Replayed"]))
    }
    let known = KnownRoutes()
    router.add(middleware: ProblemMiddleware(known: known))
    router.add(middleware: BodyLimitMiddleware(limit: services.configuration.bodyLimitBytes))
    router.add(middleware: AuthMiddleware(services: services))
    router.add(middleware: QueryTextMiddleware())
    router.add(middleware: IdempotencyMiddleware(services: services))

    let table = RouteTable(router: router, known: known)
    OperationsController(services: services, openAPI: try Data(contentsOf: services.configuration.openAPIFile)).register(table)
    AuthController(services: services).register(table)
    UserController(services: services).register(table)
    BrandController(services: services).register(table)
    KolController(services: services).register(table)
    CampaignController(services: services).register(table)
    BriefController(services: services).register(table)
    RegistrationController(services: services).register(table)
    ContentController(services: services).register(table)
    PayoutController(services: services).register(table)
    WorklistController(services: services).register(table)
    WebhookController(services: services).register(table)
    ReviewLinkController(services: services).register(table)

    // The web console: HTML pages under /app, outside the API's route table and document.
    let renderer = try ConsoleRenderer()
    router.get("/app/static/app.css") { _, _ in
        Response(
            status: .ok,
            headers: [
                .contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600",
                .contentLength: "\(renderer.stylesheet.readableBytes)",
            ],
            body: .init(byteBuffer: renderer.stylesheet))
    }
    let console = router.group("app").add(middleware: ConsoleMiddleware(services: services, renderer: renderer))
    ConsoleController(services: services).register(console)
    let review = router.group("review").add(middleware: ConsoleMiddleware(services: services, renderer: renderer, guests: true))
    GuestReviewController(services: services).register(review)
    return BuiltRoutes(router: router, routes: table.entries)
}

/// Registers routes written as in the OpenAPI document (`/v1/kols/{id}`) and remembers them.
final class RouteTable {
    let router: Router<KolabRequestContext>
    let known: KnownRoutes
    private(set) var entries: [String] = []

    init(router: Router<KolabRequestContext>, known: KnownRoutes) {
        self.router = router
        self.known = known
    }

    func on(
        _ method: HTTPRequest.Method, _ path: String,
        _ handler: @escaping @Sendable (Request, KolabRequestContext) async throws -> Response
    ) {
        entries.append("\(method.rawValue) \(path)")
        known.add(method.rawValue, path)
        let routerPath = path.split(separator: "/").map { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? ":" + part.dropFirst().dropLast() : part
        }.joined(separator: "/")
        router.on(RouterPath(stringLiteral: "/" + routerPath), method: method, use: handler)
    }
}

/// Every route's method and path pattern, for a `405` that names the methods a known path takes.
final class KnownRoutes: Sendable {
    private let routes = Mutex<[(method: String, segments: [Substring])]>([])

    func add(_ method: String, _ path: String) {
        routes.withLock { $0.append((method, path.split(separator: "/"))) }
    }

    /// The methods routed for `path` (`{id}` matches any segment), in a stable order.
    func methods(for path: String) -> [String] {
        let segments = path.split(separator: "/")
        let found = routes.withLock { routes in
            routes.filter { route in
                route.segments.count == segments.count
                    && zip(route.segments, segments).allSatisfy { pattern, part in pattern.hasPrefix("{") || pattern == part }
            }.map(\.method)
        }
        let order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
        return Set(found).sorted { (order.firstIndex(of: $0) ?? 9) < (order.firstIndex(of: $1) ?? 9) }
    }
}

/// Prometheus is process-wide (swift-metrics bootstraps once); every application in the process
/// shares this registry.
enum MetricsRegistry {
    static let shared: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()
}

extension Configuration {
    var webhookSettings: WebhookWorker.Settings {
        var settings = WebhookWorker.Settings()
        settings.development = development
        settings.schedule = RetrySchedule(delays: webhookRetrySchedule)
        settings.lease = webhookLease
        settings.pollInterval = webhookPollInterval
        settings.timeout = webhookTimeout
        return settings
    }
}
