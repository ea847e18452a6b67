import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import Metrics
import NIOCore
import PostgresNIO
import Synchronization

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
    static let requestID = Self("X-Request-Id")!
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let xForwardedFor = Self("X-Forwarded-For")!
}

/// The outer edge of every request, in one layer (three layers of their own cost about 10% of the
/// deliverable read's throughput, issue 18): its metrics, the headers every response carries, and its
/// access-log line.
///
/// - **Metrics**: `hb_requests` and `http_server_request_duration` by route, method and status, and
///   `http_server_active_requests` by method (`hb_request_errors` for errors no layer answered),
///   recorded when the handler answers (a streamed body: once its last byte is written), through
///   handles kept per route (`RequestMetrics`).
/// - **Headers**: the request id that the logs carry; `X-Content-Type-Options: nosniff`; a
///   frame-ancestors policy (no page of Kolab's may be framed by another site: the console's forms
///   must not be clickjacked); `Cache-Control: no-store` on the routes whose answers can hold a token
///   or bank details (login, the current token, KOL profiles and sign-up, a batch's bank file, webhook
///   endpoints whose create and rotate answers hold a secret, review links whose create answer holds
///   the guest's URL), replays included.
/// - **The access log**: one line per request with the method, the path and the status only: never
///   headers, query values or bodies, which can hold tokens and passwords.
struct EdgeMiddleware: RouterMiddleware {
    typealias Context = KolabRequestContext
    let metrics = RequestMetrics()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let active = metrics.active(request.method)
        active.increment()
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            metrics.failed(route: context.endpointPath ?? "NotFound", method: request.method, status: status)
            active.decrement()
            throw error
        }
        response.headers[.requestID] = context.id
        response.headers[.xContentTypeOptions] = "nosniff"
        if response.headers[.contentSecurityPolicy] == nil { response.headers[.contentSecurityPolicy] = "frame-ancestors 'none'" }
        let path = request.uri.path
        if Self.isPrivate(path) { response.headers[.cacheControl] = "no-store" }
        let elapsed = ContinuousClock.now - started
        // Tenths of a millisecond, written without Foundation's formatter (one line per request).
        let tenths = elapsed.components.seconds * 10_000 + elapsed.components.attoseconds / 100_000_000_000_000
        context.logger.info(
            "request",
            metadata: [
                "method": "\(request.method.rawValue)", "path": "\(Self.loggable(path))", "status": "\(response.status.code)",
                "ms": "\(tenths / 10).\(tenths % 10)",
            ])
        let endpoint = metrics.endpoint(route: context.endpointPath ?? "Unknown", method: request.method, status: response.status)
        guard response.body.contentLength == nil else {
            // A body of known length is in memory (a ByteBuffer): the server sends it with the head in one
            // write, which wrapping it in a closure would split into three. Its request ends here.
            endpoint.record(since: started)
            active.decrement()
            return response
        }
        // A streamed body (an export, a bank file): its request ends when the last byte is written.
        let body = response.body
        response.body = ResponseBody { writer in
            defer {
                endpoint.record(since: started)
                active.decrement()
            }
            try await body.write(writer)
        }
        return response
    }

    /// The path as logged: a guest review link's token is a credential and never written down
    /// (`/review/***/drafts/{id}`).
    static func loggable(_ path: String) -> String {
        guard path.hasPrefix("/review/") else { return path }
        var parts = path.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count > 2 { parts[2] = "***" }
        return parts.joined(separator: "/")
    }

    static func isPrivate(_ path: String) -> Bool {
        path.hasPrefix("/v1/auth/") || path == "/v1/kols" || path.hasPrefix("/v1/kols/") || path.hasPrefix("/v1/payout-batches/")
            || path == "/v1/me" || path.hasPrefix("/v1/webhook-endpoints")
            || (path.hasPrefix("/v1/") && path.contains("/review-links"))
    }
}

/// The swift-metrics handles of each (route, method, status), made once: a handle's creation goes
/// through the metrics factory's own registry, a lookup here is one hash under a lock.
final class RequestMetrics: Sendable {
    struct Endpoint: Sendable {
        let requests: Counter
        let duration: Metrics.Timer

        func record(since started: ContinuousClock.Instant) {
            requests.increment()
            duration.recordNanoseconds(Int64((ContinuousClock.now - started) / .nanoseconds(1)))
        }
    }

    private struct Key: Hashable {
        let route: String
        let method: HTTPRequest.Method
        let status: Int
    }

    private let endpoints = Mutex<[Key: Endpoint]>([:])
    private let meters = Mutex<[HTTPRequest.Method: Meter]>([:])

    func active(_ method: HTTPRequest.Method) -> Meter {
        meters.withLock { meters in
            if let meter = meters[method] { return meter }
            let meter = Meter(label: "http.server.active_requests", dimensions: [("http.request.method", method.rawValue)])
            meters[method] = meter
            return meter
        }
    }

    func endpoint(route: String, method: HTTPRequest.Method, status: HTTPResponse.Status) -> Endpoint {
        let key = Key(route: route, method: method, status: status.code)
        return endpoints.withLock { endpoints in
            if let endpoint = endpoints[key] { return endpoint }
            let dimensions = Self.dimensions(key, statusName: "http.response.status_code")
            let endpoint = Endpoint(
                requests: Counter(label: "hb.requests", dimensions: dimensions),
                duration: Metrics.Timer(label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds))
            endpoints[key] = endpoint
            return endpoint
        }
    }

    /// An error no layer turned into a response (the problem middleware answers nearly all).
    func failed(route: String, method: HTTPRequest.Method, status: HTTPResponse.Status) {
        endpoint(route: route, method: method, status: status).requests.increment()
        let key = Key(route: route, method: method, status: status.code)
        Counter(label: "hb.request.errors", dimensions: Self.dimensions(key, statusName: "error.type")).increment()
    }

    private static func dimensions(_ key: Key, statusName: String) -> [(String, String)] {
        [("http.route", key.route), ("http.request.method", key.method.rawValue), (statusName, "\(key.status)")]
    }
}

/// Turns every thrown error into a problem document. Client errors pass as they are; anything else
/// is logged with the request id and answered with a generic 500 that names that id.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = KolabRequestContext
    let known: KnownRoutes

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
            // No route for this method: a path the API knows with other methods answers 405 naming them.
            let allowed = known.methods(for: request.uri.path)
            guard !allowed.isEmpty else { return try KolabError.from(error).response(from: request, context: context) }
            let problem = KolabError(
                .methodNotAllowed, "\(request.uri.path) takes \(allowed.joined(separator: ", ")), not \(request.method.rawValue).")
            var response = try problem.response(from: request, context: context)
            response.headers[.allow] = allowed.joined(separator: ", ")
            return response
        } catch {
            let problem = KolabError.from(Database.unwrap(error))
            if problem.code == .internal {
                context.logger.error("Request failed", metadata: ["error": "\(problem.detail)"])
            }
            return try problem.response(from: request, context: context)
        }
    }
}

/// Reads the whole body once, up to the limit (413 beyond it), so that later steps (decoding,
/// idempotency hashing) work on a buffer.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = KolabRequestContext
    let limit: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post || request.method == .patch || request.method == .put else {
            return try await next(request, context)
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw KolabError(.tooLarge, "The body is \(length) bytes; the limit is \(limit) bytes.")
        }
        var request = request
        do {
            let buffer = try await request.body.collect(upTo: limit)
            request.body = RequestBody(buffer: buffer)
        } catch is NIOTooManyBytesError {
            throw KolabError(.tooLarge, "The body is larger than the limit of \(limit) bytes.")
        }
        return try await next(request, context)
    }
}

/// Query parameters are text a client typed: a NUL character (`%00`) or bytes that are not UTF-8
/// answer 422 naming the parameter, here, for every route, so none reaches PostgreSQL (which
/// cannot store NUL and answers SQLSTATE 22021).
struct QueryTextMiddleware: RouterMiddleware {
    typealias Context = KolabRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let query = request.uri.query, !query.isEmpty {
            for pair in query.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = Self.decoded(parts[0]) ?? "query"
                guard let decodedName = Self.decoded(parts[0]), let value = Self.decoded(parts.count > 1 ? parts[1] : ""),
                    !decodedName.unicodeScalars.contains("\0"), !value.unicodeScalars.contains("\0")
                else {
                    throw KolabError.invalid(
                        field: name.unicodeScalars.contains("\0") ? "query" : name, "must be UTF-8 text without NUL characters")
                }
            }
        }
        return try await next(request, context)
    }

    /// Percent-decoded (`+` as a space) and validated as UTF-8; nil when it is not text.
    static func decoded(_ raw: Substring) -> String? {
        var bytes: [UInt8] = []
        var utf8 = Array(raw.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

/// Resolves `Authorization: Bearer <token>` into the caller. A token that is sent but not valid
/// is refused at once (401), even on public routes: a client should learn its token is dead.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = KolabRequestContext
    let services: Services

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else { return try await next(request, context) }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
            throw KolabError(.unauthenticated, "The Authorization header must be `Bearer <token>`.")
        }
        let token = String(parts[1])
        // The connection that finds the caller serves the handler too (one pool lease per request).
        // A streamed body is written after this returns and must lease its own.
        return try await services.database.withConnection { connection in
            guard let actor = try await services.auth.actor(forToken: token, on: connection) else {
                throw KolabError(.unauthenticated, "The token is unknown, expired or revoked; get a new one from POST /v1/auth/tokens.")
            }
            var context = context
            context.actor = actor
            context.bearerToken = token
            context.connection = connection
            context.logger[metadataKey: "user_id"] = "\(actor.userID)"
            return try await next(request, context)
        }
    }
}

/// `Idempotency-Key` on POST: the first request runs inside a transaction that also stores its answer;
/// a repeat with the same body replays it (`Idempotent-Replayed: true`), with another body answers 422,
/// and while the first still runs answers 409. Keys are per caller; sign-up (no token) is scoped to
/// `IdempotencyStore.anonymous`. A login is never stored (its answer is a token).
///
/// What is stored: every answer of a request that reached its workflow: 2xx, and the 4xx of lookup,
/// role and state (403, 404, 409, 412, 428), whose changes are rolled back to a savepoint while the
/// key and the answer commit. Not stored: faults of the body (400, 413, 422: fix it and retry with the
/// same key), collisions a retry resolves (409 `retryable`), and 5xx.
struct IdempotencyMiddleware: RouterMiddleware {
    typealias Context = KolabRequestContext
    let services: Services
    /// The one route whose anonymous requests are kept (sign-up). Any other anonymous POST goes on to
    /// its 401 (or login, which is never kept) without touching the key: authentication comes first.
    static let anonymousStored: Set<String> = ["/v1/kols"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, let key = request.headers[.idempotencyKey],
            context.actor != nil || Self.anonymousStored.contains(request.uri.path)
        else {
            return try await next(request, context)
        }
        let scope = context.actor?.userID ?? IdempotencyStore.anonymous
        guard (1...255).contains(key.utf8.count), !key.unicodeScalars.contains("\0") else {
            throw KolabError.invalid(field: "Idempotency-Key", "must be 1 to 255 characters")
        }
        var request = request
        let body = try await request.body.collect(upTo: services.configuration.bodyLimitBytes)
        request.body = RequestBody(buffer: body)
        var hasher = SHA256()
        hasher.update(data: Data("\(request.method.rawValue) \(request.uri.path)?\(request.uri.query ?? "")\n".utf8))
        hasher.update(data: Data(body.readableBytesView))
        let requestHash = Array(hasher.finalize())
        let finalRequest = request

        return try await services.transaction(context) { transaction in
            switch try await services.idempotency.claim(userID: scope, key: key, on: transaction) {
            case .inFlight:
                throw KolabError.conflict("A request with this Idempotency-Key is still running; retry once it has finished.")
            case .stored(let stored):
                guard stored.requestHash == requestHash else {
                    throw KolabError.invalid(
                        field: "Idempotency-Key", "was used before with a different request; use a new key for a new request")
                }
                return Self.replay(stored)
            case .proceed:
                var context = context
                context.transaction = transaction
                try await transaction.run("SAVEPOINT idempotent_work", logger: context.logger)
                let response: Response
                do {
                    response = try await next(finalRequest, context)
                } catch {
                    let problem = KolabError.from(Database.unwrap(error))
                    guard Self.isStored(problem) else { throw error }
                    // The workflow's changes go; the key and its answer stay.
                    try await transaction.run("ROLLBACK TO SAVEPOINT idempotent_work", logger: context.logger)
                    response = try problem.response(from: finalRequest, context: context)
                }
                guard (200..<500).contains(response.status.code) else { return response }
                let (kept, bytes) = try await Self.buffered(response)
                var headers: [String: String] = [:]
                for field in kept.headers
                where field.name == .contentType || field.name == .location || field.name == .eTag || field.name == .retryAfter
                    || field.name == .cacheControl
                {
                    headers[field.name.rawName] = field.value
                }
                try await services.idempotency.save(
                    userID: scope, key: key,
                    response: StoredResponse(requestHash: requestHash, status: Int(kept.status.code), headers: headers, body: bytes),
                    on: transaction)
                return kept
            }
        }
    }

    /// An answer of lookup, role or state: the same request would get it again, so it is replayed.
    static func isStored(_ error: KolabError) -> Bool {
        switch error.code {
        case .notFound, .forbidden, .preconditionFailed, .preconditionRequired: true
        case .conflict: !error.retryable
        default: false
        }
    }

    static func replay(_ stored: StoredResponse) -> Response {
        var headers: HTTPFields = [.idempotentReplayed: "true", .contentLength: "\(stored.body.count)"]
        for (name, value) in stored.headers {
            if let name = HTTPField.Name(name) { headers[name] = value }
        }
        return Response(
            status: HTTPResponse.Status(code: stored.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: stored.body)))
    }

    /// Reads a response's body into memory (answers to POSTs are small documents).
    static func buffered(_ response: Response) async throws -> (Response, [UInt8]) {
        let collector = BodyCollector()
        try await response.body.write(collector)
        let bytes = collector.bytes
        var copy = response
        copy.body = ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        return (copy, bytes)
    }
}

private final class BodyCollector: ResponseBodyWriter {
    var bytes: [UInt8] = []
    func write(_ buffer: ByteBuffer) async throws { bytes.append(contentsOf: buffer.readableBytesView) }
    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
