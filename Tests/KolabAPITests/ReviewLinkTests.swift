import Crypto
import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import NIOCore
import PostgresNIO
import Testing

/// A browser without an account holding a review link: keeps the CSRF cookie the pages set and
/// sends forms as a browser does (`application/x-www-form-urlencoded`, the cookie along).
private struct GuestBrowser: Sendable {
    let app: TestApp
    var csrfCookie: String?
    var language: String?

    init(_ app: TestApp, language: String? = nil) {
        self.app = app
        self.language = language
    }

    private func headers() -> HTTPFields {
        var headers: HTTPFields = [:]
        if let csrfCookie { headers[.cookie] = "kolab_csrf=\(csrfCookie)" }
        if let language { headers[.acceptLanguage] = language }
        return headers
    }

    mutating func get(_ path: String) async throws -> APIResponse {
        let response = try await app.request(.get, path, headers: headers())
        for cookie in response.headers[values: .setCookie] where cookie.hasPrefix("kolab_csrf=") {
            csrfCookie = String(cookie.dropFirst("kolab_csrf=".count).prefix { $0 != ";" })
        }
        return response
    }

    func post(_ path: String, form: [String: String]) async throws -> APIResponse {
        var headers = headers()
        headers[.contentType] = "application/x-www-form-urlencoded"
        let body = form.sorted { $0.key < $1.key }.map { "\(Self.encode($0.key))=\(Self.encode($0.value))" }.joined(separator: "&")
        return try await app.request(.post, path, body: body, headers: headers)
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    /// Whether the page links to a console page (its stylesheet aside).
    static func linksIntoTheConsole(_ page: APIResponse) -> Bool {
        page.text.replacingOccurrences(of: "href=\"/app/static/", with: "").contains("href=\"/app")
    }

    /// The value of the first hidden field `name` of a page's forms.
    static func field(_ name: String, in page: APIResponse) -> String? {
        guard let range = page.text.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(page.text[range.upperBound...].prefix { $0 != "\"" })
    }
}

/// A production whose feed draft waits for brand review, and a review link to its campaign.
private struct GuestReview: Sendable {
    let production: Production
    let draft: String
    let link: String
    let url: String

    var cast: TestApp.Cast { production.cast }
    var campaign: String { production.campaign }
}

extension TestApp {
    fileprivate static func linkBody(
        name: String = "Rina Susanti", email: String = "Rina@SusuBunda.id", expiresIn days: Double = 7
    ) -> ReviewLinkBody {
        ReviewLinkBody(reviewerName: name, reviewerEmail: email, expiresAt: Date().addingTimeInterval(days * 86_400).formatted(.iso8601))
    }

    /// Submits the KOL's draft of `deliverable` and forwards it to the brand; answers the draft's id.
    fileprivate func draftInBrandReview(_ deliverable: String, of production: Production) async throws -> String {
        let draft = try #require(try await submitDraft(deliverable, by: production.cast.kol)["id"])
        let forwarded = try await review(draft, "forward", "Untuk dicek tim brand", by: production.cast.officer)
        #expect(forwarded.status == .created, "forward: \(forwarded.text)")
        return draft
    }

    fileprivate func guestReview() async throws -> GuestReview {
        let production = try await production()
        let draft = try await draftInBrandReview(production.feed, of: production)
        let created = try await post(
            "/v1/campaigns/\(production.campaign)/review-links", token: production.cast.officer.token, Self.linkBody())
        #expect(created.status == .created, "create link: \(created.text)")
        return GuestReview(production: production, draft: draft, link: try #require(created["id"]), url: try #require(created["url"]))
    }

    /// Signs `account` in through the console's form; answers the session cookie's value.
    fileprivate func consoleSession(_ account: Account) async throws -> String {
        var browser = GuestBrowser(self)
        _ = try await browser.get("/app/login")
        let signedIn = try await browser.post(
            "/app/login", form: ["email": account.email, "password": testPassword, "csrf_token": browser.csrfCookie ?? ""])
        #expect(signedIn.status == .seeOther, "sign-in: \(signedIn.status.code)")
        let cookie = signedIn.headers[values: .setCookie].first { $0.hasPrefix("kolab_session=") } ?? ""
        return String(cookie.dropFirst("kolab_session=".count).prefix { $0 != ";" })
    }

    fileprivate func reviewCount(link: String) async throws -> Int {
        try await count("SELECT count(*)::int FROM reviews WHERE review_link_id = \(UUID(uuidString: link)!)")
    }
}

@Suite("Guest review links")
struct ReviewLinkTests {
    // MARK: The API

    @Test func officerAndAdminMakeListAndRevokeLinksAndOnlyTheFirstAnswerHoldsTheToken() async throws {
        let schema = try SchemaCheck(document: repositoryRoot.appendingPathComponent("openapi.json"))
        try await TestApp.run { app in
            let p = try await app.production()
            let path = "/v1/campaigns/\(p.campaign)/review-links"
            let body = TestApp.linkBody()
            let created = try await app.post(path, token: p.cast.officer.token, body, headers: .idempotencyKey("link-1"))
            #expect(created.status == .created, "\(created.text)")
            #expect(schema.problems(created.json, against: "ReviewLinkWithUrl") == [])
            let id = try #require(created["id"])
            #expect(created.headers[.location] == "/v1/review-links/\(id)")
            #expect(created.headers[.cacheControl] == "no-store")
            #expect(created["campaign_id"] == p.campaign)
            #expect(created["reviewer_name"] == "Rina Susanti")
            #expect(created["reviewer_email"] == "rina@susubunda.id")
            #expect(created["created_by"] == p.cast.officer.id)
            #expect(created.json["revoked_at"] is NSNull)
            let url = try #require(created["url"])
            let token = String(url.dropFirst("/review/".count))
            #expect(url.hasPrefix("/review/"))
            #expect(token.count >= 43 && token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }, "\(token)")
            // Only the token's SHA-256 is kept; the stored idempotent answer is sealed.
            let hash = ByteBuffer(bytes: SHA256.hash(data: Data(token.utf8)))
            #expect(try await app.count("SELECT count(*)::int FROM review_links WHERE token_hash = \(hash)") == 1)
            #expect(
                try await app.count(
                    "SELECT count(*)::int FROM idempotency_keys WHERE position(convert_to(\(token), 'UTF8') IN body) > 0") == 0)
            #expect(try await app.count("SELECT count(*)::int FROM idempotency_keys WHERE key = 'link-1'") == 1)
            // A replay of the create is the same answer; the token appears nowhere else.
            let replay = try await app.post(path, token: p.cast.officer.token, body, headers: .idempotencyKey("link-1"))
            #expect(replay.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(replay["url"] == url)
            #expect(replay.headers[.cacheControl] == "no-store")
            #expect(try await app.count("SELECT count(*)::int FROM review_links") == 1)
            let second = try await app.post(path, token: p.cast.admin.token, TestApp.linkBody(name: "Dewi", email: "dewi@agency.id"))
            #expect(second.status == .created)
            #expect(second["url"] != url)
            for account in [p.cast.officer, p.cast.admin] {
                let list = try await app.get(path, token: account.token)
                #expect(list.status == .ok)
                #expect(list.data.compactMap { $0["reviewer_name"] as? String } == ["Dewi", "Rina Susanti"], "newest first")
                #expect(!list.text.contains(token) && !list.text.contains("\"url\""))
                for link in list.data { #expect(schema.problems(link, against: "ReviewLink") == []) }
            }
            let first = try await app.get(path + "?limit=1", token: p.cast.officer.token)
            #expect(first.data.count == 1)
            let cursor = try #require(first["next_cursor"])
            let rest = try await app.get(path + "?limit=1&cursor=\(cursor)", token: p.cast.officer.token)
            #expect(rest.data.compactMap { $0["id"] as? String } == [id])
            #expect(rest.json["next_cursor"] is NSNull)
            for event in try await app.get("/v1/campaigns/\(p.campaign)/events?limit=200", token: p.cast.admin.token).data {
                #expect(!"\(event)".contains(token))
            }
            // Revoking: 204, listed with revoked_at; a second revoke keeps the first time.
            #expect(try await app.request(.delete, "/v1/review-links/\(id)", token: p.cast.admin.token).status == .noContent)
            let revokedAt = try #require(
                try await app.get(path, token: p.cast.officer.token).data.first { $0["id"] as? String == id }?["revoked_at"] as? String)
            #expect(try await app.request(.delete, "/v1/review-links/\(id)", token: p.cast.officer.token).status == .noContent)
            let again = try await app.get(path, token: p.cast.officer.token).data.first { $0["id"] as? String == id }
            #expect(again?["revoked_at"] as? String == revokedAt)
        }
    }

    @Test func otherRolesGet403WhereTheySeeTheCampaignAnd404WhereTheyDoNot() async throws {
        try await TestApp.run { app in
            let p = try await app.production()
            let created = try await app.post(
                "/v1/campaigns/\(p.campaign)/review-links", token: p.cast.officer.token, TestApp.linkBody())
            let link = try #require(created["id"])
            // Registration closed: a KOL who is not registered no longer sees the campaign.
            #expect(
                try await app.post("/v1/campaigns/\(p.campaign)/close-registration", token: p.cast.officer.token)["status"] == "running")
            let otherBrand = try await app.user(.brand, brandID: try await app.brand(by: p.cast.admin), by: p.cast.admin)
            let otherOfficer = try await app.user(.officer, by: p.cast.admin)
            let otherKol = try await app.kol()
            let campaignPath = "/v1/campaigns/\(p.campaign)/review-links"
            let linkPath = "/v1/review-links/\(link)"
            var cases: [(HTTPRequest.Method, String, TestApp.Account, HTTPResponse.Status)] = []
            for (account, expected) in [
                (p.cast.brand, HTTPResponse.Status.forbidden), (p.cast.finance, .forbidden), (p.cast.kol, .forbidden),
                (otherBrand, .notFound), (otherOfficer, .notFound), (otherKol, .notFound),
            ] {
                cases += [
                    (.post, campaignPath, account, expected), (.get, campaignPath, account, expected),
                    (.delete, linkPath, account, expected),
                ]
            }
            cases += [
                (.post, "/v1/campaigns/\(UUID())/review-links", p.cast.admin, .notFound),
                (.get, "/v1/campaigns/\(UUID())/review-links", p.cast.admin, .notFound),
                (.delete, "/v1/review-links/\(UUID())", p.cast.admin, .notFound),
                (.delete, "/v1/review-links/not-an-id", p.cast.admin, .notFound),
            ]
            for (method, path, account, expected) in cases {
                let body = method == .post ? TestApp.linkBody().jsonText : nil
                let response = try await app.request(method, path, token: account.token, body: body)
                #expect(response.status == expected, "\(method) \(path) as \(account.role): \(response.status.code) \(response.text)")
                #expect(response.isProblem)
                guard method == .post else { continue }
                // Who may not gets the same answer whatever the body (the order of checks).
                for bad in ["{}", "{\"nmae\": 1}", "{not json"] {
                    let refused = try await app.request(method, path, token: account.token, body: bad)
                    #expect(refused.status == expected, "\(path) as \(account.role) with \(bad): \(refused.status.code)")
                }
            }
            // Nothing changed: one link, still live.
            #expect(try await app.count("SELECT count(*)::int FROM review_links") == 1)
            #expect(try await app.count("SELECT count(*)::int FROM review_links WHERE revoked_at IS NULL") == 1)
        }
    }

    @Test func withoutATokenEveryLinkRouteAnswers401() async throws {
        try await TestApp.run { app in
            let p = try await app.production()
            let link = try #require(
                try await app.post("/v1/campaigns/\(p.campaign)/review-links", token: p.cast.officer.token, TestApp.linkBody())["id"])
            #expect(try await app.post("/v1/campaigns/\(p.campaign)/review-links", TestApp.linkBody()).status == .unauthorized)
            #expect(try await app.get("/v1/campaigns/\(p.campaign)/review-links").status == .unauthorized)
            #expect(try await app.request(.delete, "/v1/review-links/\(link)").status == .unauthorized)
            #expect(try await app.count("SELECT count(*)::int FROM review_links WHERE revoked_at IS NULL") == 1)
        }
    }

    @Test func badInputAnswers422NamingTheFieldAndChangesNothing() async throws {
        try await TestApp.run { app in
            let p = try await app.production()
            let path = "/v1/campaigns/\(p.campaign)/review-links"
            // Typed bodies where only a value is bad; `RawJSON` where members are missing or unknown on purpose.
            var notATime = TestApp.linkBody()
            notATime.expiresAt = "next week"
            let cases: [(String, [String])] = [
                (TestApp.linkBody(expiresIn: -1).jsonText, ["expires_at"]),
                (TestApp.linkBody(expiresIn: 0).jsonText, ["expires_at"]),
                (TestApp.linkBody(expiresIn: 30.5).jsonText, ["expires_at"]),
                (TestApp.linkBody(expiresIn: 90).jsonText, ["expires_at"]),
                (RawJSON(TestApp.linkBody(), removing: ["reviewer_name"]).text, ["reviewer_name"]),
                (RawJSON(TestApp.linkBody(), removing: ["reviewer_email"]).text, ["reviewer_email"]),
                (RawJSON(TestApp.linkBody(), removing: ["expires_at"]).text, ["expires_at"]),
                (RawJSON(TestApp.linkBody(), setting: ["campaign_id": p.campaign, "token": "mine"]).text, ["campaign_id", "token"]),
                (notATime.jsonText, ["expires_at"]),
                (TestApp.linkBody(name: "  ", email: "rina-at-susubunda").jsonText, ["reviewer_name", "reviewer_email"]),
                (TestApp.linkBody(name: String(repeating: "a", count: 201)).jsonText, ["reviewer_name"]),
                (TestApp.linkBody(name: "Ri\u{0}na").jsonText, ["reviewer_name"]),
            ]
            for (body, fields) in cases {
                let response = try await app.post(path, token: p.cast.officer.token, raw: body)
                #expect(response.status == .unprocessableContent, "\(body): \(response.text)")
                #expect(Set(response.errorFields) == Set(fields), "\(body): \(response.text)")
            }
            #expect(try await app.count("SELECT count(*)::int FROM review_links") == 0)
            // The longest lifetime is accepted.
            #expect(try await app.post(path, token: p.cast.officer.token, TestApp.linkBody(expiresIn: 29.99)).status == .created)
            // A cancelled campaign takes no link: nothing of it will ever wait for review.
            _ = try await app.post("/v1/campaigns/\(p.campaign)/cancel", token: p.cast.officer.token)
            #expect(try await app.post(path, token: p.cast.officer.token, TestApp.linkBody()).status == .conflict)
            #expect(try await app.count("SELECT count(*)::int FROM review_links") == 1)
        }
    }

    // MARK: The guest's pages

    @Test func theGuestPageListsTheCampaignsDraftsWaitingForBrandReviewAndLinksNowhereElse() async throws {
        try await TestApp.run { app in
            let g = try await app.guestReview()
            // The story's draft is still with the officer: not the guest's to see.
            let story = try #require(try await app.submitDraft(g.production.deliverables[1], by: g.cast.kol)["id"])
            var browser = GuestBrowser(app)
            let page = try await browser.get(g.url)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.headers[.cacheControl] == "no-store")
            #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            #expect(browser.csrfCookie != nil, "the double-submit cookie is set")
            #expect(page.text.contains("href=\"\(g.url)/drafts/\(g.draft)\""))
            #expect(!page.text.contains(story))
            #expect(page.text.contains("Susu Bunda Ramadan"))
            #expect(page.text.contains("Rina Susanti"))
            #expect(!GuestBrowser.linksIntoTheConsole(page), "a guest's page links nowhere in the console")
            let draft = try await browser.get("\(g.url)/drafts/\(g.draft)")
            #expect(draft.status == .ok, "\(draft.text)")
            #expect(draft.text.contains("action=\"\(g.url)/drafts/\(g.draft)/reviews\""))
            #expect(draft.text.contains("Sahur ceria bersama si kecil"))
            #expect(!GuestBrowser.linksIntoTheConsole(draft))
            #expect(GuestBrowser.field("csrf_token", in: draft) == browser.csrfCookie)
            #expect(try await browser.get("\(g.url)/drafts/\(story)").status == .notFound)
            // In Bahasa Indonesia for a reader who asks for it.
            var indonesian = GuestBrowser(app, language: "id-ID,id;q=0.9")
            #expect(try await indonesian.get(g.url).text.contains("Draf yang menunggu review Anda"))
            // A signed-in brand user's session does not turn the page into theirs.
            let session = try await app.consoleSession(g.cast.brand)
            let signedIn = try await app.request(.get, g.url, headers: [.cookie: "kolab_session=\(session)"])
            #expect(signedIn.status == .ok)
            #expect(!signedIn.text.contains("/app/logout") && !GuestBrowser.linksIntoTheConsole(signedIn))
            #expect(signedIn.text.contains("Rina Susanti"))
        }
    }

    @Test func approvingThroughTheGuestFormApprovesTheDraftAsABrandReviewNamingTheGuest() async throws {
        try await TestApp.run { app in
            let g = try await app.guestReview()
            var browser = GuestBrowser(app)
            let page = try await browser.get("\(g.url)/drafts/\(g.draft)")
            let csrf = try #require(GuestBrowser.field("csrf_token", in: page))
            let sent = try await browser.post(
                "\(g.url)/drafts/\(g.draft)/reviews", form: ["decision": "approve", "csrf_token": csrf, "idempotency_key": "guest-approve"])
            #expect(sent.status == .seeOther, "\(sent.text)")
            #expect(sent.headers[.location] == "\(g.url)?done=approve")
            #expect(try await app.deliverableStatus(g.production.feed, as: g.cast.officer) == "approved")
            // The review names the link, not a user, in the role brand.
            #expect(
                try await app.count(
                    """
                    SELECT count(*)::int FROM reviews WHERE draft_id = \(UUID(uuidString: g.draft)!) AND decision = 'approve'
                      AND reviewer_id IS NULL AND review_link_id = \(UUID(uuidString: g.link)!) AND reviewer_role = 'brand'
                    """) == 1)
            let reviews = try await app.get("/v1/drafts/\(g.draft)", token: g.cast.brand.token).json["reviews"] as? [[String: Any]]
            #expect(reviews?.last?["reviewer_role"] as? String == "brand")
            // The audit event: no actor id, the role brand, the guest named.
            let events = try await app.get("/v1/campaigns/\(g.campaign)/events?limit=200", token: g.cast.officer.token).data
            let approved = try #require(
                events.first { $0["entity_id"] as? String == g.production.feed && $0["to"] as? String == "approved" })
            #expect(approved["actor_id"] is NSNull)
            #expect(approved["actor_role"] as? String == "brand")
            let data = approved["data"] as? [String: Any] ?? [:]
            #expect(data["guest_name"] as? String == "Rina Susanti")
            #expect(data["guest_email"] as? String == "rina@susubunda.id")
            #expect(data["review_link_id"] as? String == g.link)
            #expect(data["decision"] as? String == "approve")
            // The KOL's timeline shows the approval, not who the guest is.
            let kolEvents = try await app.get("/v1/campaigns/\(g.campaign)/events?limit=200", token: g.cast.kol.token)
            #expect(kolEvents.data.contains { $0["to"] as? String == "approved" })
            #expect(!kolEvents.text.contains("rina@susubunda.id") && !kolEvents.text.contains("Rina Susanti"))
            // Back on the list: the notice, and nothing left to review; the draft no longer opens.
            let list = try await browser.get(try #require(sent.headers[.location]))
            #expect(list.status == .ok)
            #expect(list.text.contains("You approved this draft"))
            #expect(!list.text.contains("/drafts/\(g.draft)"))
            #expect(try await browser.get("\(g.url)/drafts/\(g.draft)").status == .notFound)
        }
    }

    @Test func requestingChangesThroughTheGuestFormNeedsFeedbackForTheOfficer() async throws {
        try await TestApp.run { app in
            let g = try await app.guestReview()
            var browser = GuestBrowser(app)
            let csrf = try #require(GuestBrowser.field("csrf_token", in: try await browser.get("\(g.url)/drafts/\(g.draft)")))
            let action = "\(g.url)/drafts/\(g.draft)/reviews"
            let empty = try await browser.post(
                action, form: ["decision": "request_changes", "message": "  ", "csrf_token": csrf, "idempotency_key": "changes-1"])
            #expect(empty.status == .unprocessableContent)
            #expect(empty.text.contains("message"))
            #expect(try await app.deliverableStatus(g.production.feed, as: g.cast.officer) == "in_brand_review")
            #expect(try await app.reviewCount(link: g.link) == 0)
            let feedback = "Logonya kurang besar, tolong perbesar kemasannya"
            let sent = try await browser.post(
                action, form: ["decision": "request_changes", "message": feedback, "csrf_token": csrf, "idempotency_key": "changes-2"])
            #expect(sent.status == .seeOther, "\(sent.text)")
            #expect(sent.headers[.location] == "\(g.url)?done=request_changes")
            #expect(try await app.deliverableStatus(g.production.feed, as: g.cast.officer) == "brand_feedback")
            let reviews = try await app.get("/v1/drafts/\(g.draft)", token: g.cast.officer.token).json["reviews"] as? [[String: Any]]
            #expect(reviews?.last?["message"] as? String == feedback)
            #expect(reviews?.last?["decision"] as? String == "request_changes")
            #expect(try await app.reviewCount(link: g.link) == 1)
            // The brand's own draft page names the guest in its history.
            let session = try await app.consoleSession(g.cast.brand)
            let brandPage = try await app.request(.get, "/app/drafts/\(g.draft)", headers: [.cookie: "kolab_session=\(session)"])
            #expect(brandPage.status == .ok)
            #expect(brandPage.text.contains("Guest reviewer (Rina Susanti)"), "\(brandPage.text)")
            // A decision the brand does not make is refused.
            let forward = try await browser.post(
                action, form: ["decision": "forward", "csrf_token": csrf, "idempotency_key": "changes-3"])
            #expect(forward.status == .notFound, "the draft no longer waits for the guest")
        }
    }

    @Test func aDoubleSubmittedGuestFormMakesOneReview() async throws {
        try await TestApp.run { app in
            let g = try await app.guestReview()
            var browser = GuestBrowser(app)
            let csrf = try #require(GuestBrowser.field("csrf_token", in: try await browser.get("\(g.url)/drafts/\(g.draft)")))
            let form = ["decision": "approve", "csrf_token": csrf, "idempotency_key": "double-click"]
            let first = try await browser.post("\(g.url)/drafts/\(g.draft)/reviews", form: form)
            let second = try await browser.post("\(g.url)/drafts/\(g.draft)/reviews", form: form)
            #expect(first.status == .seeOther)
            #expect(second.status == .seeOther, "\(second.text)")
            #expect(second.headers[.location] == first.headers[.location])
            #expect(second.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(try await app.reviewCount(link: g.link) == 1)
            #expect(try await app.count("SELECT count(*)::int FROM events WHERE to_state = 'approved'") == 1)
            #expect(try await app.deliverableStatus(g.production.feed, as: g.cast.officer) == "approved")
        }
    }

    /// A revoke raced against a guest's approval over two connections: the review either commits
    /// before the revoke (then it stands) or answers 410 and writes nothing; never a review after a revoke.
    @Test func aRevokeRacedAgainstAGuestsApprovalNeverLetsAReviewInAfterIt() async throws {
        try await TestApp.run { app in
            var outcomes: [String: Int] = [:]
            for _ in 0..<6 {
                let g = try await app.guestReview()
                var browser = GuestBrowser(app)
                let csrf = try #require(GuestBrowser.field("csrf_token", in: try await browser.get("\(g.url)/drafts/\(g.draft)")))
                let form = ["decision": "approve", "csrf_token": csrf, "idempotency_key": UUID().uuidString]
                let guest = browser
                async let approval = guest.post("\(g.url)/drafts/\(g.draft)/reviews", form: form)
                async let revoke = app.request(.delete, "/v1/review-links/\(g.link)", token: g.cast.officer.token)
                let (approved, revoked) = try await (approval, revoke)
                #expect(revoked.status == .noContent)
                let reviews = try await app.reviewCount(link: g.link)
                switch approved.status {
                case .seeOther:
                    #expect(reviews == 1)
                    // The review held the link FOR SHARE to its commit; the revoke waited for it (the
                    // revoke's `revoked_at` is its transaction's start, so times cannot order the two).
                    #expect(try await app.deliverableStatus(g.production.feed, as: g.cast.officer) == "approved")
                    outcomes["approved", default: 0] += 1
                case .gone:
                    #expect(reviews == 0)
                    #expect(try await app.deliverableStatus(g.production.feed, as: g.cast.officer) == "in_brand_review")
                    outcomes["revoked first", default: 0] += 1
                default:
                    Issue.record("unexpected \(approved.status.code): \(approved.text.prefix(200))")
                }
            }
            print("revoke vs approval: \(outcomes)")
        }
    }

    @Test func revokedAndExpiredLinksAnswer410InTheReadersLanguageAndChangeNothing() async throws {
        try await TestApp.run { app in
            let g = try await app.guestReview()
            let expired = try #require(
                try await app.post("/v1/campaigns/\(g.campaign)/review-links", token: g.cast.officer.token, TestApp.linkBody())["url"])
            // Both open while live; the browser keeps its CSRF token for the forms below.
            var browser = GuestBrowser(app)
            let csrf = try #require(GuestBrowser.field("csrf_token", in: try await browser.get("\(g.url)/drafts/\(g.draft)")))
            #expect(try await browser.get(expired).status == .ok)
            #expect(try await app.request(.delete, "/v1/review-links/\(g.link)", token: g.cast.officer.token).status == .noContent)
            // Time passes (the one thing the API cannot do).
            try await app.execute(
                "UPDATE review_links SET created_at = now() - interval '10 days', expires_at = now() - interval '1 second' WHERE token_hash = \(ByteBuffer(bytes: SHA256.hash(data: Data(expired.dropFirst("/review/".count).utf8))))"
            )
            for url in [g.url, expired] {
                for path in [url, "\(url)/drafts/\(g.draft)"] {
                    let page = try await browser.get(path)
                    #expect(page.status == .gone, "\(path): \(page.status.code)")
                    #expect(page.text.contains("This review link no longer works"))
                    #expect(!GuestBrowser.linksIntoTheConsole(page), "a plain page")
                    #expect(page.text.components(separatedBy: "<a ").count == 2, "its one link switches the language")
                }
                let sent = try await browser.post(
                    "\(url)/drafts/\(g.draft)/reviews", form: ["decision": "approve", "csrf_token": csrf, "idempotency_key": "late-\(url)"])
                #expect(sent.status == .gone)
                var indonesian = GuestBrowser(app, language: "id")
                let page = try await indonesian.get(url)
                #expect(page.status == .gone)
                #expect(page.text.contains("Tautan review ini sudah tidak berlaku"))
                #expect(page.text.contains("lang=\"id\""))
            }
            // The workflow checks the link again under its lock (a revoke that commits while the page
            // is being sent): the review is refused as gone.
            let guest = GuestReviewer(
                linkID: UUID(uuidString: g.link)!, campaignID: UUID(uuidString: g.campaign)!, brandID: UUID(uuidString: g.cast.brandID)!,
                name: "Rina Susanti", email: "rina@susubunda.id")
            let refused: (any Error)? = await {
                do {
                    _ = try await app.sql { database in
                        try await database.withTransaction {
                            try await Workflows(logger: testLogger).review(
                                draft: UUID(uuidString: g.draft)!, decision: .approve, message: "", reviewer: .guest(guest), on: $0)
                        }
                    }
                    return nil
                } catch {
                    return error
                }
            }()
            #expect(refused.map { Database.unwrap($0) is ReviewLinkGone } == true, "\(String(describing: refused))")
            #expect(try await app.deliverableStatus(g.production.feed, as: g.cast.officer) == "in_brand_review")
            #expect(try await app.count("SELECT count(*)::int FROM reviews WHERE review_link_id IS NOT NULL") == 0)
            #expect(try await app.count("SELECT count(*)::int FROM idempotency_keys") == 0)
        }
    }

    @Test func anUnknownTokenAnswers404() async throws {
        try await TestApp.run { app in
            let g = try await app.guestReview()
            var browser = GuestBrowser(app)
            let token = ReviewLinkStore.newToken()
            let page = try await browser.get("/review/\(token)")
            #expect(page.status == .notFound)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(!GuestBrowser.linksIntoTheConsole(page))
            #expect(try await browser.get("/review/\(token)/drafts/\(g.draft)").status == .notFound)
            let sent = try await browser.post(
                "/review/\(token)/drafts/\(g.draft)/reviews",
                form: ["decision": "approve", "csrf_token": browser.csrfCookie ?? "", "idempotency_key": "guess"])
            #expect(sent.status == .notFound)
            #expect(try await app.deliverableStatus(g.production.feed, as: g.cast.officer) == "in_brand_review")
        }
    }

    @Test func aDraftOfAnotherCampaignThroughAValidLinkAnswers404() async throws {
        try await TestApp.run { app in
            let g = try await app.guestReview()
            // Another campaign of the same brand, its draft waiting for the brand too.
            let other = try await app.recruitingCampaign(by: g.cast.officer, brandID: g.cast.brandID)
            let kol = try await app.kol()
            let registration = try await app.register(kol, for: other)
            _ = try await app.act("accept", registration: registration, by: g.cast.officer)
            let feed = try #require(
                try await app.get("/v1/registrations/\(registration)/deliverables", token: kol.token).data.first?["id"] as? String)
            let draft = try #require(try await app.submitDraft(feed, by: kol)["id"])
            #expect(try await app.review(draft, "forward", by: g.cast.officer).status == .created)
            var browser = GuestBrowser(app)
            let csrf = try #require(GuestBrowser.field("csrf_token", in: try await browser.get("\(g.url)/drafts/\(g.draft)")))
            #expect(try await browser.get("\(g.url)/drafts/\(draft)").status == .notFound)
            #expect(try await browser.get("\(g.url)/drafts/not-a-draft").status == .notFound)
            #expect(!(try await browser.get(g.url)).text.contains(draft))
            let sent = try await browser.post(
                "\(g.url)/drafts/\(draft)/reviews", form: ["decision": "approve", "csrf_token": csrf, "idempotency_key": "other"])
            #expect(sent.status == .notFound)
            let bad = try await browser.post(
                "\(g.url)/drafts/\(draft)/reviews", form: ["decision": "nonsense", "csrf_token": csrf, "idempotency_key": "other-2"])
            #expect(bad.status == .notFound, "the draft is looked for before the form is read")
            #expect(try await app.deliverableStatus(feed, as: g.cast.officer) == "in_brand_review")
            #expect(try await app.reviewCount(link: g.link) == 0)
        }
    }

    @Test func aGuestPostWithoutItsCsrfTokenAnswers403AndChangesNothing() async throws {
        try await TestApp.run { app in
            let g = try await app.guestReview()
            var browser = GuestBrowser(app)
            let csrf = try #require(GuestBrowser.field("csrf_token", in: try await browser.get("\(g.url)/drafts/\(g.draft)")))
            let action = "\(g.url)/drafts/\(g.draft)/reviews"
            let missing = try await browser.post(action, form: ["decision": "approve", "idempotency_key": "no-csrf"])
            #expect(missing.status == .forbidden)
            #expect(missing.headers[.contentType] == "text/html; charset=utf-8")
            let wrong = try await browser.post(
                action, form: ["decision": "approve", "csrf_token": forgedToken, "idempotency_key": "wrong-csrf"])
            #expect(wrong.status == .forbidden)
            // The field without the cookie it must match (a form posted from another site).
            let cookieless = GuestBrowser(app)
            let forged = try await cookieless.post(action, form: ["decision": "approve", "csrf_token": csrf, "idempotency_key": "forged"])
            #expect(forged.status == .forbidden)
            #expect(try await app.deliverableStatus(g.production.feed, as: g.cast.officer) == "in_brand_review")
            #expect(try await app.reviewCount(link: g.link) == 0)
            #expect(try await app.count("SELECT count(*)::int FROM idempotency_keys") == 0)
        }
    }

    // MARK: Housekeeping

    @Test func housekeepingDeletesLinksEndedAMonthAgoButKeepsThoseAReviewNames() async throws {
        try await TestApp.run { app in
            let g = try await app.guestReview()
            var ids: [String] = []
            for _ in 0..<4 {
                ids.append(
                    try #require(
                        try await app.post(
                            "/v1/campaigns/\(g.campaign)/review-links", token: g.cast.officer.token, TestApp.linkBody())["id"]))
            }
            // g.link approves, then ends like the others.
            var browser = GuestBrowser(app)
            let csrf = try #require(GuestBrowser.field("csrf_token", in: try await browser.get("\(g.url)/drafts/\(g.draft)")))
            _ = try await browser.post(
                "\(g.url)/drafts/\(g.draft)/reviews", form: ["decision": "approve", "csrf_token": csrf, "idempotency_key": "k"])
            #expect(try await app.reviewCount(link: g.link) == 1)
            let uuid = { (id: String) in UUID(uuidString: id)! }
            // Time passes: revoked 31 days ago, expired 31 days ago, expired 10 days ago, revoked now.
            try await app.execute(
                "UPDATE review_links SET created_at = now() - interval '40 days', expires_at = now() - interval '15 days', revoked_at = now() - interval '31 days' WHERE id = \(uuid(ids[0]))"
            )
            try await app.execute(
                "UPDATE review_links SET created_at = now() - interval '40 days', expires_at = now() - interval '31 days' WHERE id = ANY(\([uuid(ids[1]), uuid(g.link)]))"
            )
            try await app.execute(
                "UPDATE review_links SET created_at = now() - interval '20 days', expires_at = now() - interval '10 days' WHERE id = \(uuid(ids[2]))"
            )
            #expect(try await app.request(.delete, "/v1/review-links/\(ids[3])", token: g.cast.officer.token).status == .noContent)
            let report = try await app.sql { try await Housekeeping(database: $0, logger: testLogger).runOnce() }
            #expect(report.reviewLinks == 2)
            let left = try await app.get("/v1/campaigns/\(g.campaign)/review-links", token: g.cast.officer.token)
            #expect(Set(left.data.compactMap { $0["id"] as? String }) == Set([g.link, ids[2], ids[3]]))
            #expect(try await app.reviewCount(link: g.link) == 1)
        }
    }
}

/// A CSRF token of the right shape that no page gave out.
private let forgedToken = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
