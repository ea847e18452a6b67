import Crypto
import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import PostgresNIO
import Testing

/// A browser as far as the server can tell: it keeps cookies and posts forms.
struct ConsoleVisitor: Sendable {
    let app: TestApp
    var cookies: [String: String] = [:]
    var language: String?

    init(_ app: TestApp, language: String? = nil) {
        self.app = app
        self.language = language
    }

    private func headers(_ extra: HTTPFields = [:]) -> HTTPFields {
        var headers = extra
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") }
        if let language { headers[.acceptLanguage] = language }
        return headers
    }

    private mutating func keep(_ response: APIResponse) {
        for field in response.headers where field.name == .setCookie {
            let pair = field.value.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            if pair[1].isEmpty { cookies[String(pair[0])] = nil } else { cookies[String(pair[0])] = String(pair[1]) }
        }
    }

    @discardableResult
    mutating func get(_ path: String) async throws -> APIResponse {
        let response = try await app.request(.get, path, headers: headers())
        keep(response)
        return response
    }

    @discardableResult
    mutating func post(_ path: String, form: [String: String]) async throws -> APIResponse {
        let body = form.map { "\(Self.encode($0.key))=\(Self.encode($0.value))" }.sorted().joined(separator: "&")
        let response = try await app.request(
            .post, path, body: body, headers: headers([.contentType: "application/x-www-form-urlencoded"]))
        keep(response)
        return response
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// The value of a hidden field on a page (`name="csrf_token" value="..."`).
    static func field(_ name: String, in page: APIResponse) -> String? {
        let text = page.text
        guard let range = text.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(text[range.upperBound...].prefix { $0 != "\"" })
    }

    /// Signs in through the form, as a person would.
    mutating func signIn(_ email: String, password: String = testPassword) async throws -> APIResponse {
        let page = try await get("/app/login")
        let csrf = try #require(Self.field("csrf_token", in: page))
        return try await post("/app/login", form: ["email": email, "password": password, "csrf_token": csrf, "next": "/app"])
    }
}

@Suite("Web console")
struct ConsoleTests {
    /// A draft of `production` waiting for the brand's review (v2 when `secondVersion`: the compare view).
    func draftInBrandReview(_ app: TestApp, _ production: Production, secondVersion: Bool = false) async throws -> String {
        let cast = production.cast
        var draft = try #require(
            try await app.submitDraft(production.feed, by: cast.kol, caption: "Sahur ceria bersama si kecil #SusuBunda")["id"])
        if secondVersion {
            _ = try await app.review(draft, "request_changes", "Tambahkan mention brand", by: cast.officer)
            draft = try #require(
                try await app.submitDraft(production.feed, by: cast.kol, caption: "Sahur ceria bersama anak-anak #SusuBunda @susubunda.id")[
                    "id"])
        }
        #expect(try await app.review(draft, "forward", "Mohon dicek", by: cast.officer).status == .created)
        return draft
    }

    @Test func signingInSetsAHashedSessionCookieAndSigningOutEndsIt() async throws {
        try await TestApp.run(configure: { $0.development = false }) { app in
            let cast = try await app.cast()
            var visitor = ConsoleVisitor(app)
            #expect(try await visitor.get("/app").status == .seeOther, "a page needs a session")
            let wrong = try await visitor.signIn(cast.brand.email, password: "not-the-password")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.text.contains("The e-mail or the password is wrong."))
            #expect(visitor.cookies["kolab_session"] == nil)

            let signedIn = try await visitor.signIn(cast.brand.email)
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.location] == "/app")
            let setCookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("kolab_session=") })
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Lax") && setCookie.contains("Secure"))
            let token = try #require(visitor.cookies["kolab_session"])
            // Stored as a hash only, as a session (never usable as a bearer token).
            #expect(
                try await app.count(
                    "SELECT count(*)::int FROM auth_tokens WHERE kind = 'session' AND token_hash = \(AuthStore.hash(token: token))") == 1)
            #expect(try await app.get("/v1/me", token: token).status == .unauthorized)

            let home = try await visitor.get("/app")
            #expect(home.status == .ok)
            #expect(home.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
            #expect(home.headers[.cacheControl] == "no-store")

            let csrf = try #require(ConsoleVisitor.field("csrf_token", in: home))
            #expect(try await visitor.post("/app/logout", form: ["csrf_token": csrf]).status == .seeOther)
            var replay = ConsoleVisitor(app)
            replay.cookies["kolab_session"] = token
            #expect(try await replay.get("/app").status == .seeOther, "a signed-out session opens nothing")
        }
    }

    @Test func anApiTokenIsNoSessionAndAnIdleSessionEnds() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            var forged = ConsoleVisitor(app)
            forged.cookies["kolab_session"] = cast.brand.token
            #expect(try await forged.get("/app").status == .seeOther)

            var visitor = ConsoleVisitor(app)
            _ = try await visitor.signIn(cast.brand.email)
            #expect(try await visitor.get("/app").status == .ok)
            // Twelve idle hours pass (the one thing the test cannot wait for).
            try await app.execute(
                "UPDATE auth_tokens SET created_at = now() - interval '13 hours', expires_at = now() - interval '1 hour' WHERE kind = 'session'"
            )
            let after = try await visitor.get("/app/campaigns")
            #expect(after.status == .seeOther)
            #expect(after.headers[.location]?.hasPrefix("/app/login?next=") == true)
        }
    }

    @Test func theBrandReviewsADraftFromTheQueueAndADoubleSubmitMakesOneReview() async throws {
        try await TestApp.run { app in
            let production = try await app.production()
            let draft = try await draftInBrandReview(app, production, secondVersion: true)
            var visitor = ConsoleVisitor(app)
            _ = try await visitor.signIn(production.cast.brand.email)
            let home = try await visitor.get("/app")
            #expect(home.text.contains("/app/drafts/\(draft)"), "the queue links the waiting draft")

            let page = try await visitor.get("/app/drafts/\(draft)")
            #expect(page.status == .ok)
            #expect(page.text.contains("<del>bersama si kecil </del>") || page.text.contains("<del>si kecil "))
            #expect(page.text.contains("<ins>"))
            #expect(page.text.contains("@susubunda.id") && page.text.contains("class=\"found\""))
            #expect(page.text.contains("<label for=\"message\">"))

            let csrf = try #require(ConsoleVisitor.field("csrf_token", in: page))
            let key = try #require(ConsoleVisitor.field("idempotency_key", in: page))
            let form = ["csrf_token": csrf, "idempotency_key": key, "decision": "approve"]
            let first = try await visitor.post("/app/drafts/\(draft)/reviews", form: form)
            let second = try await visitor.post("/app/drafts/\(draft)/reviews", form: form)
            #expect(first.status == .seeOther && second.status == .seeOther)
            #expect(second.headers[.location] == first.headers[.location])
            #expect(second.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(
                try await app.count(
                    "SELECT count(*)::int FROM reviews WHERE draft_id = \(UUID(uuidString: draft)!) AND decision = 'approve'") == 1)
            #expect(try await app.deliverableStatus(production.feed, as: production.cast.officer) == "approved")
            let done = try await visitor.get(try #require(first.headers[.location]))
            #expect(done.text.contains("You approved this draft."))
        }
    }

    @Test func requestingChangesNeedsFeedbackAndReachesTheOfficer() async throws {
        try await TestApp.run { app in
            let production = try await app.production()
            let draft = try await draftInBrandReview(app, production)
            var visitor = ConsoleVisitor(app)
            _ = try await visitor.signIn(production.cast.brand.email)
            let page = try await visitor.get("/app/drafts/\(draft)")
            let csrf = try #require(ConsoleVisitor.field("csrf_token", in: page))
            let empty = try await visitor.post(
                "/app/drafts/\(draft)/reviews", form: ["csrf_token": csrf, "idempotency_key": "k1", "decision": "request_changes"])
            #expect(empty.status == .unprocessableContent)
            #expect(try await app.deliverableStatus(production.feed, as: production.cast.officer) == "in_brand_review")
            let sent = try await visitor.post(
                "/app/drafts/\(draft)/reviews",
                form: ["csrf_token": csrf, "idempotency_key": "k2", "decision": "request_changes", "message": "Logo lebih besar, ya"])
            #expect(sent.status == .seeOther)
            #expect(try await app.deliverableStatus(production.feed, as: production.cast.officer) == "brand_feedback")
            let seen = try await app.get("/v1/drafts/\(draft)", token: production.cast.officer.token)
            #expect(seen.text.contains("Logo lebih besar, ya"))
        }
    }

    @Test func aFormWithoutItsCsrfTokenChangesNothing() async throws {
        try await TestApp.run { app in
            let production = try await app.production()
            let draft = try await draftInBrandReview(app, production)
            var visitor = ConsoleVisitor(app)
            _ = try await visitor.signIn(production.cast.brand.email)
            for form in [["decision": "approve"], ["decision": "approve", "csrf_token": "forged"]] {
                let refused = try await visitor.post("/app/drafts/\(draft)/reviews", form: form)
                #expect(refused.status == .forbidden)
                #expect(refused.headers[.contentType]?.hasPrefix("text/html") == true)
            }
            #expect(try await app.count("SELECT count(*)::int FROM reviews WHERE reviewer_role = 'brand'") == 0)
            #expect(try await app.deliverableStatus(production.feed, as: production.cast.officer) == "in_brand_review")
            // The sign-in form too: without the token of its cookie, nothing is tried.
            var stranger = ConsoleVisitor(app)
            let login = try await stranger.post("/app/login", form: ["email": production.cast.brand.email, "password": testPassword])
            #expect(login.status == .forbidden)
        }
    }

    @Test func anotherBrandSeesNothingAndRolesGetTheirOwnHome() async throws {
        try await TestApp.run { app in
            let production = try await app.production()
            let draft = try await draftInBrandReview(app, production)
            let otherBrand = try await app.brand(by: production.cast.admin)
            let stranger = try await app.user(.brand, brandID: otherBrand, by: production.cast.admin)
            var visitor = ConsoleVisitor(app, language: "id-ID,id;q=0.9")
            _ = try await visitor.signIn(stranger.email)
            let page = try await visitor.get("/app/drafts/\(draft)")
            #expect(page.status == .notFound)
            #expect(page.text.contains("<html lang=\"id\">") && page.text.contains("Tidak ditemukan"))
            #expect(try await visitor.get("/app/campaigns/\(production.campaign)").status == .notFound)
            #expect(try await visitor.get("/app/campaigns/\(production.campaign)/report").status == .notFound)
            #expect(try await visitor.get("/app/drafts/not-an-id").status == .notFound)
            let home = try await visitor.get("/app")
            #expect(!home.text.contains(draft))

            var kol = ConsoleVisitor(app)
            _ = try await kol.signIn(production.cast.kol.email)
            let kolPage = try await kol.get("/app/drafts/\(draft)")
            #expect(kolPage.status == .ok, "a KOL reads her own draft")
            #expect(!kolPage.text.contains("name=\"decision\""), "but does not decide on it")
            #expect(try await kol.get("/app/campaigns/\(production.campaign)/report").status == .forbidden)
        }
    }

    @Test func theReportDrawsItsChartOnTheServer() async throws {
        try await TestApp.run { app in
            let production = try await app.production()
            var visitor = ConsoleVisitor(app)
            _ = try await visitor.signIn(production.cast.brand.email)
            let report = try await visitor.get("/app/campaigns/\(production.campaign)/report?lang=id")
            #expect(report.status == .ok)
            #expect(report.text.contains("Laporan kampanye"))
            #expect(!report.text.contains("<script"))
            #expect(visitor.cookies["kolab_lang"] == "id")
        }
    }

    @Test func theLoginThrottleOfTheApiAppliesToTheForm() async throws {
        try await TestApp.run { app in
            let cast = try await app.cast()
            var visitor = ConsoleVisitor(app)
            for _ in 0..<10 { _ = try await visitor.signIn(cast.brand.email, password: "wrong-password") }
            let locked = try await visitor.signIn(cast.brand.email)
            #expect(locked.status == .tooManyRequests)
            #expect(locked.headers[.retryAfter] != nil)
            #expect(visitor.cookies["kolab_session"] == nil)
        }
    }

    @Test func everyStringIsInBothLanguagesAndEveryTemplateStringExists() throws {
        let folder = repositoryRoot.appendingPathComponent("Sources/KolabAPI/Console/Resources")
        // Every part's file in both languages: `en.json`/`id.json`, `<part>.en.json`/`<part>.id.json`.
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("strings").path)
        func strings(_ language: String) throws -> [String: String] {
            var table: [String: String] = [:]
            for name in files where name == "\(language).json" || name.hasSuffix(".\(language).json") {
                let part = try JSONDecoder().decode(
                    [String: String].self, from: Data(contentsOf: folder.appendingPathComponent("strings/\(name)")))
                #expect(Set(part.keys).isDisjoint(with: table.keys), "\(name) repeats a key of another strings file")
                table.merge(part) { first, _ in first }
            }
            return table
        }
        for name in files where name.hasSuffix(".en.json") {
            #expect(files.contains(name.replacingOccurrences(of: ".en.json", with: ".id.json")), "\(name) has no Indonesian twin")
        }
        let english = try strings("en")
        let indonesian = try strings("id")
        #expect(Set(english.keys) == Set(indonesian.keys))
        #expect(indonesian.values.allSatisfy { !$0.isEmpty })
        let known = Set(english.keys.map { $0.replacingOccurrences(of: ".", with: "_") })
        let templates = folder.appendingPathComponent("templates")
        for name in try FileManager.default.contentsOfDirectory(atPath: templates.path) {
            let text = try String(contentsOf: templates.appendingPathComponent(name), encoding: .utf8)
            var rest = Substring(text)
            while let range = rest.range(of: "{{t.") {
                let key = rest[range.upperBound...].prefix { $0 != "}" }
                #expect(known.contains(String(key)), "\(name) uses t.\(key), which no strings file has")
                rest = rest[range.upperBound...]
            }
        }
    }
}
