import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import NIOCore
import PostgresNIO
import Synchronization

// MARK: - Decoding request bodies

extension Request {
    /// Decodes the JSON body into an allow-listed request type (`BodyDecoder`): a field the type does
    /// not declare answers 422 naming it, so nothing a client is not meant to set can reach the
    /// database and no typo is dropped. Unreadable JSON is a 400; a wrong type, a missing field, a value
    /// outside an enum, a NUL character or a time outside 2000...2100 is a 422 naming the field.
    ///
    /// Handlers call this only after the caller is authenticated, the resource found and the role
    /// allowed to act (the order of checks of DESIGN.md): the body is the fourth thing looked at.
    func decodeBody<T: Decodable>(_ type: T.Type, context: KolabRequestContext) async throws -> T {
        let buffer = try await body.collect(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else {
            throw KolabError(.malformed, "The body is empty; send a JSON object.")
        }
        return try BodyDecoder.decode(T.self, from: buffer.readableBytesView)
    }

    /// For actions that take nothing: no body, or `{}`; any member is a 422 naming it.
    func decodeEmptyBody(context: KolabRequestContext) async throws {
        let buffer = try await body.collect(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { return }
        _ = try BodyDecoder.decode(NoMembers.self, from: buffer.readableBytesView)
    }
}

/// A body with no members. It opens its object, so that the decoder sees (and refuses) every member sent.
struct NoMembers: Decodable {
    private enum NoKeys: CodingKey {}

    init(from decoder: any Decoder) throws {
        _ = try decoder.container(keyedBy: NoKeys.self)
    }
}

extension KolabError {
    static func decoding(_ error: DecodingError) -> KolabError {
        switch error {
        case .keyNotFound(let key, let context):
            return .invalid(field: fieldPath(context.codingPath + [key]), "is required")
        case .valueNotFound(_, let context):
            return .invalid(field: fieldPath(context.codingPath), "must not be null")
        case .typeMismatch(let type, let context):
            if context.codingPath.isEmpty { return KolabError(.malformed, "The body must be a JSON object.") }
            return .invalid(field: fieldPath(context.codingPath), "must be \(describe(type))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return KolabError(.malformed, "The body is not valid JSON.") }
            return .invalid(field: fieldPath(context.codingPath), "is not an accepted value")
        @unknown default:
            return KolabError(.malformed, "The body cannot be read.")
        }
    }

    /// `socialAccounts[0].followers` as the client wrote it: `social_accounts[0].followers`.
    static func fieldPath(_ path: [any CodingKey]) -> String {
        var result = ""
        for key in path {
            if let index = key.intValue {
                result += "[\(index)]"
            } else {
                if !result.isEmpty { result += "." }
                result += snakeCase(key.stringValue)
            }
        }
        return result.isEmpty ? "body" : result
    }

    static func snakeCase(_ name: String) -> String { SnakeCaseKeys.convert(name) }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Bool.Type: "true or false"
        case is Double.Type: "a number"
        default:
            String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }
}

extension KolabError {
    /// A fault of the request's body (400, 413, 422): answered only after authentication, visibility
    /// and the role's right to act have been checked, and never stored for idempotent replay.
    var isAboutTheBody: Bool { code == .malformed || code == .invalid || code == .tooLarge }
}

extension Services {
    /// The order of checks of DESIGN.md on a route with a body: authentication, visibility (404), the
    /// role's right to act (403), then the body. `parse` decodes and validates the body; when it
    /// fails, `access` (the route's visibility and role check, read-only) runs first, so a caller who
    /// may not see or act gets 404 or 403 whatever it sent. The happy path pays nothing: the workflow
    /// checks visibility and role again under its locks.
    func input<Input>(
        _ context: KolabRequestContext, access: (PostgresConnection) async throws -> Void, _ parse: () async throws -> Input
    ) async throws -> Input {
        do {
            return try await parse()
        } catch let error as KolabError where error.isAboutTheBody {
            try await read(context) { try await access($0) }
            throw error
        }
    }
}

// MARK: - Ids in paths and queries

extension Parameters {
    /// A UUID path parameter; anything else is a 404 like any unknown id (it cannot name a resource).
    func id(_ name: String = "id", of what: String) throws -> UUID {
        guard let raw = self.get(name), let id = UUID(uuidString: raw) else { throw KolabError.notFound(what) }
        return id
    }
}

extension Request {
    func queryUUID(_ name: String) throws -> UUID? {
        guard let raw = uri.queryParameters.get(name) else { return nil }
        guard let id = UUID(uuidString: raw) else { throw KolabError.invalid(field: name, "must be a UUID") }
        return id
    }
}

// MARK: - Lists

extension Page {
    func mapItems<Other: Sendable>(_ transform: (Item) -> Other) -> Page<Other> {
        Page<Other>(items: items.map(transform), next: next)
    }
}

/// `{"data": [...], "next_cursor": "..." | null}`.
struct ListResponse<Item: Sendable>: Sendable {
    var data: [Item]
    var nextCursor: String?
}

extension ListResponse: Encodable where Item: Encodable {
    enum CodingKeys: String, CodingKey { case data, nextCursor }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(data, forKey: .data)
        try container.encode(nextCursor, forKey: .nextCursor)  // explicit null on the last page
    }
}

/// What a list request asked for: page size and where to start.
struct ListRequest {
    var limit: Int
    var after: PagePosition?
    let scope: String
    /// The request's connection, for the cursor key's first read (no second pool lease per request).
    let connection: PostgresConnection?
}

extension Services {
    /// Reads `?limit=` and `?cursor=` for the list named `scope` (a cursor of another list is a 400).
    func listRequest(_ request: Request, _ context: KolabRequestContext, scope: String) async throws -> ListRequest {
        let limit = try PageSize(request.uri.queryParameters.get("limit")).limit
        let connection = context.transaction ?? context.connection
        var after: PagePosition?
        if let cursor = request.uri.queryParameters.get("cursor") {
            after = try await cursors.decode(cursor, scope: scope, on: connection)
        }
        return ListRequest(limit: limit, after: after, scope: scope, connection: connection)
    }

    /// A page of a short list that only grows at its end (a campaign's brief versions, a deliverable's
    /// drafts and insights, the deliverables an acceptance made): read whole in its order, then cut at
    /// `?cursor=` by each item's rank (`rank` strictly increases along the list and never changes,
    /// so the cut is stable under appends, like any keyset).
    func page<Record: Sendable>(_ items: [Record], _ list: ListRequest, rank: (Record, Int) -> Int64) -> Page<Record> {
        let ranked = items.enumerated().map { (rank($0.element, $0.offset + 1), $0.element) }
        let after = list.after?.micros ?? Int64.min
        let rest = ranked.filter { $0.0 > after }
        return Page(fetched: Array(rest.prefix(list.limit + 1)), limit: list.limit) {
            PagePosition(micros: $0.0, id: IdempotencyStore.anonymous)
        }.mapItems(\.1)
    }

    func listResponse<Record: Sendable, Item: Sendable>(
        _ page: Page<Record>, _ list: ListRequest, _ transform: (Record) -> Item
    ) async throws -> ListResponse<Item> {
        var cursor: String?
        if let next = page.next { cursor = try await cursors.encode(next, scope: list.scope, on: list.connection) }
        return ListResponse(data: page.items.map(transform), nextCursor: cursor)
    }
}

/// Opaque, signed keyset cursors: `base64url(position).base64url(HMAC)`. The HMAC covers the list's
/// name too, so a cursor edited by hand or taken from another list answers 400.
final class CursorCodec: Sendable {
    private let auth: AuthStore
    private let database: Database
    private let key = Mutex<SymmetricKey?>(nil)

    init(auth: AuthStore, database: Database) {
        self.auth = auth
        self.database = database
    }

    /// The key, read once; on the caller's connection when it holds one (a second lease could wait
    /// forever when every pooled connection is held by a request that waits here too).
    private func signingKey(on connection: PostgresConnection?) async throws -> SymmetricKey {
        if let key = key.withLock({ $0 }) { return key }
        let secret: [UInt8]
        if let connection {
            secret = try await auth.signingKey("cursor", on: connection)
        } else {
            secret = try await database.withConnection { try await auth.signingKey("cursor", on: $0) }
        }
        let loaded = SymmetricKey(data: secret)
        key.withLock { $0 = loaded }
        return loaded
    }

    private struct Payload: Codable {
        var m: Int64
        var i: UUID
    }

    func encode(_ position: PagePosition, scope: String, on connection: PostgresConnection?) async throws -> String {
        // The JSON `Payload` encodes to, written directly: Foundation's encoder and base64 were a tenth
        // of the service's CPU on a page of the campaign list (perf, issue 18).
        let payload = Array("{\"m\":\(position.micros),\"i\":\"\(position.id.uuidString)\"}".utf8)
        var authenticated = Array(scope.utf8)
        authenticated.append(0)
        authenticated.append(contentsOf: payload)
        let mac = HMAC<SHA256>.authenticationCode(for: authenticated, using: try await signingKey(on: connection))
        return Base64URL.encode(payload) + "." + Base64URL.encode(mac)
    }

    func decode(_ cursor: String, scope: String, on connection: PostgresConnection?) async throws -> PagePosition {
        let invalid = KolabError(.malformed, "The cursor is not one this list gave out; start again without `cursor`.")
        let parts = cursor.split(separator: ".")
        guard parts.count == 2, let payload = Base64URL.decode(String(parts[0])), let mac = Base64URL.decode(String(parts[1]))
        else { throw invalid }
        guard
            HMAC<SHA256>.isValidAuthenticationCode(
                mac, authenticating: Data(scope.utf8) + [0] + payload, using: try await signingKey(on: connection)),
            let decoded = try? JSONDecoder().decode(Payload.self, from: payload)
        else { throw invalid }
        return PagePosition(micros: decoded.m, id: decoded.i)
    }
}

enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// RFC 4648 section 5, without padding.
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 4 / 3 + 4)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = buffer &<< 8 | UInt32(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                out.append(alphabet[Int(buffer >> UInt32(bits) & 63)])
            }
        }
        if bits > 0 { out.append(alphabet[Int(buffer &<< UInt32(6 - bits) & 63)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ string: String) -> Data? {
        var base64 = string.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}

// MARK: - ETag / If-Match

/// Versioned resources answer `ETag: "v<version>"`; a `PATCH` must send it back in `If-Match`.
enum ETag {
    static func value(version: Int) -> String { "\"v\(version)\"" }

    /// The version named by `If-Match`: 428 when missing, 412 when it cannot match `current`.
    static func requireMatch(_ request: Request, current: Int) throws {
        guard let header = request.headers[.ifMatch] else {
            throw KolabError(
                .preconditionRequired,
                "Send `If-Match` with the ETag you last read, so that you do not overwrite a change you have not seen.")
        }
        let tags = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard tags.contains("*") || tags.contains(value(version: current)) else {
            throw KolabError(
                .preconditionFailed, "The resource changed since you read it (now \(value(version: current))); read it again and retry.")
        }
    }
}

extension Response {
    /// A `201 Created` with the resource and its `Location`.
    static func created(_ body: some Encodable, location: String, etag: String? = nil) throws -> Response {
        created(try StreamingJSONEncoder().encode(body), location: location, etag: etag)
    }

    static func created(_ body: some JSONWritable, location: String, etag: String? = nil) -> Response {
        created(StreamingJSONEncoder().encode(writable: body), location: location, etag: etag)
    }

    static func json(_ body: some Encodable, status: HTTPResponse.Status = .ok, etag: String? = nil) throws -> Response {
        json(buffer: try StreamingJSONEncoder().encode(body), status: status, etag: etag)
    }

    /// A hand-written document (`JSONWritable`).
    static func json(_ body: some JSONWritable, status: HTTPResponse.Status = .ok, etag: String? = nil) -> Response {
        json(buffer: StreamingJSONEncoder().encode(writable: body), status: status, etag: etag)
    }

    private static func created(_ buffer: ByteBuffer, location: String, etag: String?) -> Response {
        var response = json(buffer: buffer, status: .created, etag: etag)
        // Paths are lower case but for the ids that interpolation writes in upper case (RFC 9562: lower).
        response.headers[.location] = location.lowercased()
        return response
    }

    private static func json(buffer: ByteBuffer, status: HTTPResponse.Status, etag: String?) -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .contentLength: "\(buffer.readableBytes)"]
        if let etag { headers[.eTag] = etag }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }
}
