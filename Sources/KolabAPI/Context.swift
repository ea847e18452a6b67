import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import NIOCore
import PostgresNIO

/// What every handler receives: the core context, the caller (once authenticated), and the open
/// transaction of the request when a middleware (idempotency) owns one.
public struct KolabRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthMiddleware` from the bearer token.
    public var actor: Actor?
    /// The bearer token as sent, for revoking it; never logged.
    var bearerToken: String?
    /// The pooled connection `AuthMiddleware` leased to look up the token, kept for the rest of the
    /// request so that an authenticated request takes one lease, not two.
    var connection: PostgresConnection?
    /// The transaction that `IdempotencyMiddleware` opened for this request, if any.
    var transaction: PostgresConnection?
    /// Set on web console requests (`ConsoleMiddleware`): errors become pages, not problem documents.
    var console: ConsoleState?
    /// The display name the console's session lookup read with the user.
    var sessionUserName: String?

    /// The peer of the connection (nil in router tests, which have no socket).
    public let remoteAddress: SocketAddress?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// The client's address for per-client limits: the socket's peer, or, when that peer is a proxy the
    /// configuration trusts (`KOLAB_TRUSTED_PROXIES`), the last address it appended to
    /// `X-Forwarded-For`. A client cannot choose its own address by sending the header directly.
    func clientAddress(_ request: Request, _ configuration: Configuration) -> String {
        let peer = remoteAddress?.ipAddress ?? "unknown"
        guard configuration.trustedProxies.contains(peer), let forwarded = request.headers[.xForwardedFor] else { return peer }
        let last = forwarded.split(separator: ",").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return last.isEmpty ? peer : last
    }

    /// Bodies are read by `BodyLimitMiddleware` against the configured limit; this is the framework's own backstop.
    public var maxUploadSize: Int { 8 * 1024 * 1024 }

    public var responseEncoder: KolabJSON.Encoder { KolabJSON.Encoder() }
    public var requestDecoder: KolabJSON.Decoder { KolabJSON.Decoder() }

    /// The authenticated caller, or 401.
    public func requireActor() throws -> Actor {
        guard let actor else {
            throw KolabError(.unauthenticated, "Send `Authorization: Bearer <token>`; get a token from POST /v1/auth/tokens.")
        }
        return actor
    }

    /// The caller, who must have one of `roles` (403 otherwise: the endpoint exists for them to see).
    public func requireRole(_ roles: Role..., action: String) throws -> Actor {
        let actor = try requireActor()
        guard roles.contains(actor.role) else {
            throw KolabError.forbidden("Your role (\(actor.role.rawValue)) may not \(action).")
        }
        return actor
    }
}

/// Kolab's JSON: snake_case keys, RFC 3339 UTC timestamps (responses: `StreamingJSONEncoder`).
public enum KolabJSON {
    public struct Encoder: ResponseEncoder {
        public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
            let buffer = try StreamingJSONEncoder().encode(value)
            return Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8", .contentLength: "\(buffer.readableBytes)"],
                body: .init(byteBuffer: buffer))
        }
    }

    /// Decoding goes through `Request.decodeBody` (the strict `BodyDecoder`); this conformance uses the
    /// same decoder, so no route can reach a laxer one.
    public struct Decoder: RequestDecoder {
        public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
            let buffer = try await request.body.collect(upTo: context.maxUploadSize)
            return try BodyDecoder.decode(T.self, from: buffer.readableBytesView)
        }
    }
}

/// snake_case names of Swift properties (the streaming encoder converts keys the same way as it
/// writes them; this is its general path and the decoder side's reference).
enum SnakeCaseKeys {
    /// `brandId` -> `brand_id`, `rateIdrPer1000` -> `rate_idr_per_1000`.
    static func convert(_ name: String) -> String {
        var out = ""
        var previous: Character?
        for character in name {
            if character.isUppercase {
                if !out.isEmpty { out += "_" }
                out += character.lowercased()
            } else if character.isNumber, let previous, previous.isLetter {
                out += "_"
                out.append(character)
            } else {
                out.append(character)
            }
            previous = character
        }
        return out
    }
}
