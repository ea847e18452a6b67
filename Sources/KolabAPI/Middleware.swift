import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import NIOCore

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
    static let requestID = Self("X-Request-Id")!
}

/// Gives every response the request id that the logs carry, and logs one line per request.
/// Only the method, the path and the status are logged: never headers, query values or bodies,
/// which can hold tokens and passwords.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = KolabRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var response = try await next(request, context)
        response.headers[.requestID] = context.id
        let elapsed = ContinuousClock.now - started
        let ms = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        context.logger.info(
            "request",
            metadata: [
                "method": "\(request.method.rawValue)", "path": "\(request.uri.path)",
                "status": "\(response.status.code)", "ms": "\(String(format: "%.1f", ms))",
            ])
        return response
    }
}

/// Turns every thrown error into a problem document. Client errors pass as they are; anything else
/// is logged with the request id and answered with a generic 500 that names that id.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = KolabRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
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
/// and while the first still runs answers 409. Keys are per caller; anonymous requests (sign-up,
/// login) are not kept, since their answers would have to be stored for strangers (and a login's
/// answer is a token, which is never stored in clear).
struct IdempotencyMiddleware: RouterMiddleware {
    typealias Context = KolabRequestContext
    let services: Services

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, let key = request.headers[.idempotencyKey], let actor = context.actor else {
            return try await next(request, context)
        }
        guard (1...255).contains(key.utf8.count) else {
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
            switch try await services.idempotency.claim(userID: actor.userID, key: key, on: transaction) {
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
                let response = try await next(finalRequest, context)
                guard (200..<300).contains(response.status.code) else { return response }
                let (kept, bytes) = try await Self.buffered(response)
                var headers: [String: String] = [:]
                for field in kept.headers where field.name == .contentType || field.name == .location || field.name == .eTag {
                    headers[field.name.rawName] = field.value
                }
                try await services.idempotency.save(
                    userID: actor.userID, key: key,
                    response: StoredResponse(requestHash: requestHash, status: Int(kept.status.code), headers: headers, body: bytes),
                    on: transaction)
                return kept
            }
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
