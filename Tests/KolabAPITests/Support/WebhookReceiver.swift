import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// One request as a webhook receiver saw it: the Standard Webhooks headers, the exact body bytes and
/// when it arrived.
struct ReceivedWebhook: Sendable {
    let path: String
    let method: HTTPRequest.Method
    let id: String?
    let timestamp: String?
    let signature: String?
    let contentType: String?
    let body: [UInt8]
    let at: Date

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object (empty when it is not one).
    var json: [String: any Sendable] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: any Sendable] ?? [:]
    }

    var type: String? { json["type"] as? String }
    var data: [String: any Sendable] { json["data"] as? [String: any Sendable] ?? [:] }
    var eventID: String? { data["event_id"] as? String }
}

/// What the receiver answers to one request.
enum WebhookReply: Sendable {
    case status(HTTPResponse.Status, headers: HTTPFields = [:], body: String = "")
    /// Holds the request open (a slow endpoint), then answers `status`.
    case hang(Duration, then: HTTPResponse.Status)
}

/// How the receiver answers: `reply(n, request)` for the n-th request (from 0) on that request's path.
struct WebhookScript: Sendable {
    let reply: @Sendable (_ index: Int, _ request: ReceivedWebhook) -> WebhookReply

    static let ok = always(.ok)

    static func always(_ status: HTTPResponse.Status, body: String = "") -> WebhookScript {
        WebhookScript { _, _ in .status(status, body: body) }
    }

    /// The first `count` requests of each path fail with `status` (and `body`), the rest answer 200.
    static func failing(first count: Int, with status: HTTPResponse.Status = .internalServerError, body: String = "")
        -> WebhookScript
    {
        WebhookScript { index, _ in index < count ? .status(status, body: body) : .status(.ok) }
    }

    /// 302 to `location` for every path but `location`'s own, which answers 200: a receiver that moved.
    static func redirect(to location: String) -> WebhookScript {
        let target = URL(string: location)?.path ?? location
        return WebhookScript { _, request in
            request.path == target ? .status(.ok) : .status(.found, headers: [.location: location])
        }
    }

    static func hang(for duration: Duration, then status: HTTPResponse.Status = .ok) -> WebhookScript {
        WebhookScript { _, _ in .hang(duration, then: status) }
    }
}

/// Everything the receiver saw, and the script it answers from.
actor WebhookRecorder {
    private(set) var requests: [ReceivedWebhook] = []
    private var script: WebhookScript
    private var perPath: [String: Int] = [:]
    private var inFlight: [String: Int] = [:]
    /// The most requests ever open at once on each path.
    private(set) var maximumInFlight: [String: Int] = [:]

    init(script: WebhookScript) {
        self.script = script
    }

    func use(_ script: WebhookScript) { self.script = script }

    func arrived(_ request: ReceivedWebhook) -> WebhookReply {
        requests.append(request)
        let index = perPath[request.path, default: 0]
        perPath[request.path] = index + 1
        inFlight[request.path, default: 0] += 1
        maximumInFlight[request.path] = max(maximumInFlight[request.path, default: 0], inFlight[request.path, default: 0])
        return script.reply(index, request)
    }

    func answered(_ path: String) { inFlight[path, default: 1] -= 1 }
}

/// An HTTP server inside the test process (127.0.0.1, an ephemeral port) that stands for a customer's
/// webhook endpoint: it records every request and answers from a script.
struct WebhookReceiver: Sendable {
    let port: Int
    let recorder: WebhookRecorder

    /// The URL of `path` on this receiver (an `http` URL on a loopback address: development mode only).
    func url(_ path: String = "/hook") -> String { "http://127.0.0.1:\(port)\(path)" }

    func use(_ script: WebhookScript) async { await recorder.use(script) }

    var all: [ReceivedWebhook] { get async { await recorder.requests } }

    func received(path: String) async -> [ReceivedWebhook] { await all.filter { $0.path == path } }

    func received(type: String) async -> [ReceivedWebhook] { await all.filter { $0.type == type } }

    /// Waits (polling, never blocking a thread) until `condition` holds for what was received, and
    /// answers it; fails the test and answers what there is after `timeout`.
    @discardableResult
    func waitUntil(
        timeout: Duration = .seconds(30), _ what: String = "the expected requests",
        sourceLocation: SourceLocation = #_sourceLocation, _ condition: @Sendable ([ReceivedWebhook]) -> Bool
    ) async throws -> [ReceivedWebhook] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let seen = await all
            if condition(seen) { return seen }
            if ContinuousClock.now >= deadline {
                Issue.record("timed out after \(timeout) waiting for \(what); received \(seen.count)", sourceLocation: sourceLocation)
                return seen
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Waits until at least `count` requests came (on `path` when given); answers those.
    @discardableResult
    func waitFor(
        count: Int, path: String? = nil, timeout: Duration = .seconds(30), sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [ReceivedWebhook] {
        let seen = try await waitUntil(timeout: timeout, "\(count) requests on \(path ?? "any path")", sourceLocation: sourceLocation) {
            requests in requests.filter { path == nil || $0.path == path }.count >= count
        }
        return seen.filter { path == nil || $0.path == path }
    }

    /// Runs `body` with a receiver listening; the receiver stops when `body` returns.
    static func run<T: Sendable>(
        script: WebhookScript = .ok, _ body: @Sendable (WebhookReceiver) async throws -> T
    ) async throws -> T {
        let recorder = WebhookRecorder(script: script)
        let app = Application(
            responder: Responder(recorder: recorder),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "webhook-receiver"),
            logger: Logger(label: "webhook-receiver", factory: { _ in SwiftLogNoOpLogHandler() }))
        return try await app.test(.live) { client in
            let port = try #require(client.port)
            return try await body(WebhookReceiver(port: port, recorder: recorder))
        }
    }

    struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        let recorder: WebhookRecorder

        func respond(to request: Request, context: Context) async throws -> Response {
            var request = request
            let bytes = try await request.collectBody(upTo: 16 << 20)
            func header(_ name: String) -> String? { request.headers[HTTPField.Name(name)!] }
            let received = ReceivedWebhook(
                path: request.uri.path, method: request.method, id: header("webhook-id"), timestamp: header("webhook-timestamp"),
                signature: header("webhook-signature"), contentType: request.headers[.contentType],
                body: Array(bytes.readableBytesView), at: Date())
            let response: Response
            switch await recorder.arrived(received) {
            case .status(let status, let headers, let body):
                response = Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
            case .hang(let duration, let status):
                try? await Task.sleep(for: duration)
                response = Response(status: status)
            }
            await recorder.answered(received.path)
            return response
        }
    }
}

/// A Standard Webhooks verifier written from the scheme (standard-webhooks/standard-webhooks,
/// spec/standard-webhooks.md), independent of the service's signer: what a customer's receiver runs.
enum StandardWebhooks {
    enum Failure: Error, Equatable {
        case missingHeaders, badSecret, badTimestamp, staleTimestamp, noMatchingSignature
    }

    /// The `v1` signatures the header carries (their base64 parts), in order.
    static func signatures(_ message: ReceivedWebhook) -> [String] {
        (message.signature ?? "").split(separator: " ").compactMap { entry in
            let parts = entry.split(separator: ",", maxSplits: 1)
            return parts.count == 2 && parts[0] == "v1" ? String(parts[1]) : nil
        }
    }

    /// The signature `secret` gives this message (base64 HMAC-SHA256 of "{id}.{timestamp}.{body}").
    static func expectedSignature(_ message: ReceivedWebhook, secret: String) throws -> String {
        guard let id = message.id, let timestamp = message.timestamp else { throw Failure.missingHeaders }
        guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst("whsec_".count))) else {
            throw Failure.badSecret
        }
        let signed = Data("\(id).\(timestamp).".utf8) + Data(message.body)
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: key))
        return Data(mac).base64EncodedString()
    }

    /// Throws unless one of the message's signatures is the one `secret` gives and its timestamp is
    /// within `tolerance` of `now`.
    static func verify(_ message: ReceivedWebhook, secret: String, now: Date = Date(), tolerance: TimeInterval = 300) throws {
        let expected = try expectedSignature(message, secret: secret)
        guard let seconds = message.timestamp.flatMap(Int.init) else { throw Failure.badTimestamp }
        guard abs(now.timeIntervalSince1970 - Double(seconds)) <= tolerance else { throw Failure.staleTimestamp }
        let expectedBytes = Data(expected.utf8)
        // Constant-time comparison, as a receiver should do it.
        guard
            signatures(message).contains(where: { candidate in
                let bytes = Data(candidate.utf8)
                return bytes.count == expectedBytes.count && zip(bytes, expectedBytes).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
            })
        else { throw Failure.noMatchingSignature }
    }

    static func verifies(_ message: ReceivedWebhook, secret: String) -> Bool {
        (try? verify(message, secret: secret)) != nil
    }
}
