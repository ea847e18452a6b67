import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import NIOCore

/// What a console page knows about its request (set by `ConsoleMiddleware`).
struct ConsoleState: Sendable {
    struct User: Sendable {
        var name: String
        var role: Role
    }

    let renderer: ConsoleRenderer
    var language: ConsoleLanguage
    /// Every form carries it; a POST without the right one changes nothing (403).
    var csrfToken: String
    /// The session cookie's token, for signing out; never logged.
    var sessionToken: String?
    var user: User?
    var path: String
    /// A POSTed form's fields (`application/x-www-form-urlencoded`), by the API's field names.
    var form: [String: String] = [:]
    /// Every value of each field, in order: repeated fields such as `payout_ids` checkboxes.
    var formValues: [String: [String]] = [:]
    var secureCookies: Bool
    /// A guest page (`/review/...`): nothing on it leads to the rest of the console.
    var plain = false
    /// The holder of a guest page's review link, once the link is found live.
    var guest: Guest?

    struct Guest: Sendable {
        var reviewer: GuestReviewer
        /// `/review/{token}`: the link's own list of drafts, the only place its pages lead to.
        var home: String
        var campaignTitle: String
        var expiresAt: Date
    }

    func text(_ key: String) -> String { renderer.text(key, language) }

    func page(_ template: String, title: String, _ values: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        renderer.page(template, title: title, values, state: self, status: status)
    }
}

/// Thrown by a page that needs a signed-in user: the middleware answers with the sign-in page's address.
struct SignInRequired: Error {}

/// The console's part of every `/app` and `/review` request, in order: the language; the session
/// cookie (the user, on a connection kept for the request, as `AuthMiddleware` does for tokens); for
/// a POST, the form and its CSRF token (403 and nothing changed when it is missing or wrong); a form's
/// `idempotency_key` goes through `IdempotencyMiddleware`, so a double-submitted form makes one change
/// and the second gets the first's answer; and every error becomes a page in the user's language.
///
/// With `guests`, it serves the pages of a review link (`/review/{token}/...`): the link's holder,
/// never a signed-in user (no session is read, a bearer token is ignored); the link is found by its
/// token (404 unknown, 410 revoked or expired); CSRF is the double-submit cookie of the sign-in form;
/// a form's idempotency key is scoped to the link (its id stands in for a user's); and the pages ask
/// browsers to send no `Referer`, which would carry the token to the hosts of a draft's media.
struct ConsoleMiddleware: RouterMiddleware {
    typealias Context = KolabRequestContext
    let services: Services
    let renderer: ConsoleRenderer
    var guests = false

    static let sessionCookie = "kolab_session"
    static let loginCSRFCookie = "kolab_csrf"
    static let languageCookie = "kolab_lang"
    /// A session ends 12 hours after its last use.
    static let sessionIdleSeconds = 12 * 3_600

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let cookies = request.cookies
        let query = request.uri.queryParameters.get("lang")
        let language = ConsoleLanguage.choose(
            query: query, cookie: cookies[Self.languageCookie]?.value, acceptLanguage: request.headers[.acceptLanguage])
        let session = guests ? nil : cookies[Self.sessionCookie]?.value
        let loginCSRF = cookies[Self.loginCSRFCookie]?.value
        var state = ConsoleState(
            renderer: renderer, language: language, csrfToken: session.map(Self.csrfToken(forSession:)) ?? loginCSRF ?? Self.randomToken(),
            sessionToken: session, user: nil, path: request.uri.path, secureCookies: !services.configuration.development)
        state.plain = guests
        var response: Response
        do {
            response = try await withSession(session, request: request, context: context) { request, context in
                var context = context
                if guests {
                    context.actor = nil
                    state.guest = try await guestLink(context)
                }
                state.user = try await user(of: context)
                var request = request
                if request.method == .post {
                    (state.form, state.formValues) = try await Self.form(&request, limit: services.configuration.bodyLimitBytes)
                    guard let sent = state.form["csrf_token"], Self.constantTimeEqual(sent, state.csrfToken) else {
                        throw KolabError.forbidden(state.text("error.csrf"))
                    }
                }
                context.console = state
                if request.method == .post, let guest = state.guest, state.form["idempotency_key"]?.isEmpty == false {
                    // A guest's keys are scoped to the link: its id stands in for a user's.
                    context.actor = guest.reviewer.actor
                }
                if request.method == .post, context.actor != nil, let key = state.form["idempotency_key"], !key.isEmpty {
                    var head = request.head
                    head.headerFields[.idempotencyKey] = key
                    return try await IdempotencyMiddleware(services: services).handle(
                        Request(head: head, body: request.body), context: context, next: next)
                }
                return try await next(request, context)
            }
        } catch is SignInRequired {
            let next = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            response = ConsoleRenderer.redirect(
                "/app/login?next=\(next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/app")")
        } catch let error where Database.unwrap(error) is ReviewLinkGone {
            response = GuestReviewController.linkGone(state)
        } catch {
            let problem = KolabError.from(Database.unwrap(error))
            if problem.code == .internal {
                context.logger.error("Page failed", metadata: ["error": "\(problem.detail)"])
            }
            response = renderer.errorPage(problem, state: state)
        }
        if query != nil && cookies[Self.languageCookie]?.value != language.rawValue {
            response.setCookie(
                Cookie(
                    name: Self.languageCookie, value: language.rawValue, maxAge: 365 * 86_400, path: "/", secure: state.secureCookies,
                    httpOnly: true, sameSite: .lax))
        }
        if session == nil && loginCSRF == nil {
            // The double-submit token of the sign-in form (before there is a session to bind it to).
            response.setCookie(
                Cookie(
                    name: Self.loginCSRFCookie, value: state.csrfToken, path: "/", secure: state.secureCookies, httpOnly: true,
                    sameSite: .lax))
        }
        response.headers[.vary] = "Cookie, Accept-Language"
        if guests { response.headers[Self.referrerPolicy] = "no-referrer" }
        return response
    }

    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!

    /// The live review link the path names (`/review/{token}/...`): 404 for a token no link has,
    /// `ReviewLinkGone` (410) for a revoked or expired one.
    private func guestLink(_ context: Context) async throws -> ConsoleState.Guest {
        guard let token = context.parameters.get("token"), let connection = context.connection,
            let link = try await services.workflows.reviewLinks.link(token: token, on: connection)
        else { throw KolabError.notFound("review link") }
        guard link.live else { throw ReviewLinkGone() }
        return ConsoleState.Guest(
            reviewer: link.guest, home: "/review/\(token)", campaignTitle: link.campaignTitle, expiresAt: link.expiresAt)
    }

    /// Runs `body` with the session's user (if the cookie names a live session) on one pooled connection
    /// (a guest page's too: its link is looked up on it).
    private func withSession(
        _ session: String?, request: Request, context: Context, _ body: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard session != nil || guests, context.actor == nil else { return try await body(request, context) }
        return try await services.database.withConnection { connection in
            var context = context
            context.connection = connection
            if let session,
                let (actor, name) = try await services.auth.actor(forSession: session, idleSeconds: Self.sessionIdleSeconds, on: connection)
            {
                context.actor = actor
                context.sessionUserName = name
                context.logger[metadataKey: "user_id"] = "\(actor.userID)"
            }
            return try await body(request, context)
        }
    }

    private func user(of context: Context) async throws -> ConsoleState.User? {
        // The session's lookup already read the name (one round trip per page, not two).
        guard let actor = context.actor, let name = context.sessionUserName else { return nil }
        return ConsoleState.User(name: name, role: actor.role)
    }

    /// The CSRF token of a session: a hash of its secret token (the page cannot learn the cookie from it).
    static func csrfToken(forSession token: String) -> String {
        Base64URL.encode(Data(SHA256.hash(data: Data("kolab-console-csrf:\(token)".utf8))))
    }

    static func randomToken() -> String {
        Base64URL.encode(Data((0..<32).map { _ in UInt8.random(in: .min ... .max) }))
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The form's fields (the last value of each, and all of them); the body stays readable for the
    /// idempotency hash. Text must be UTF-8 without NUL.
    static func form(_ request: inout Request, limit: Int) async throws -> ([String: String], [String: [String]]) {
        let buffer = try await request.body.collect(upTo: limit)
        request.body = RequestBody(buffer: buffer)
        var fields: [String: String] = [:]
        var values: [String: [String]] = [:]
        for pair in String(buffer: buffer).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = QueryTextMiddleware.decoded(parts[0]),
                let value = QueryTextMiddleware.decoded(parts.count > 1 ? parts[1] : ""),
                !name.unicodeScalars.contains("\0"), !value.unicodeScalars.contains("\0")
            else {
                throw KolabError.invalid(field: "form", "must be UTF-8 text without NUL characters")
            }
            fields[name] = value
            values[name, default: []].append(value)
        }
        return (fields, values)
    }
}
