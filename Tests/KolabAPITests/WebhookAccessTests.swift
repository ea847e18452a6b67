import Foundation
import HTTPTypes
import KolabAPI
import KolabDomain
import KolabStore
import PostgresNIO
import Testing

/// Who may not use the webhook routes, and what bad input gets: an answer, and nothing changed.
@Suite("Webhooks: who may not, and bad input")
struct WebhookAccessTests {
    /// Every route that names one endpoint (or one of its deliveries), with a body its owner could send.
    static func routes(endpoint: String, delivery: String) -> [(HTTPRequest.Method, String, String?)] {
        [
            (.get, "/v1/webhook-endpoints/\(endpoint)", nil),
            (.patch, "/v1/webhook-endpoints/\(endpoint)", WebhookEndpointPatchBody(description: "taken over").jsonText),
            (.delete, "/v1/webhook-endpoints/\(endpoint)", nil),
            (.post, "/v1/webhook-endpoints/\(endpoint)/rotate-secret", nil),
            (.post, "/v1/webhook-endpoints/\(endpoint)/test", nil),
            (.post, "/v1/webhook-endpoints/\(endpoint)/recover", WebhookRecoverBody(since: "2026-01-01T00:00:00Z").jsonText),
            (.get, "/v1/webhook-endpoints/\(endpoint)/deliveries", nil),
            (.post, "/v1/webhook-deliveries/\(delivery)/retry", nil),
        ]
    }

    /// What an endpoint looks like to its owner, and how many rows there are: compared before and after.
    static func snapshot(_ app: TestApp, _ hooks: [(CreatedWebhook, TestApp.Account)]) async throws -> [String] {
        var state = [
            "endpoints \(try await app.count("SELECT count(*)::int FROM webhook_endpoints"))",
            "messages \(try await app.messageCount())",
            "pending \(try await app.count("SELECT count(*)::int FROM webhook_messages WHERE status <> 'delivered'"))",
        ]
        for (hook, owner) in hooks {
            state.append(try await app.get("/v1/webhook-endpoints/\(hook.id)", token: owner.token).text)
        }
        return state
    }

    @Test func rolesThatMayNotGet401Or403Or404AndNothingChanges() async throws {
        try await WebhookReceiver.run { receiver in
            try await TestApp.run(configure: webhookTesting) { app in
                // setup: an endpoint of each kind, each with a delivered test message.
                let cast = try await app.cast()
                let (admin, officer, finance, brand, kol) = (cast.admin, cast.officer, cast.finance, cast.brand, cast.kol)
                let otherBrandID = try await app.brand(by: admin)
                let otherBrand = try await app.user(.brand, brandID: otherBrandID, by: admin)
                let platform = try await app.createWebhook(url: receiver.url("/platform"), by: admin)
                let brandHook = try await app.createWebhook(url: receiver.url("/brand"), by: brand)
                let otherHook = try await app.createWebhook(url: receiver.url("/other"), by: otherBrand)
                let payouts = try await app.createWebhook(url: receiver.url("/payouts"), types: ["payout.paid"], by: finance)
                let owned = [(platform, admin), (brandHook, brand), (otherHook, otherBrand), (payouts, finance)]
                var deliveryOf: [String: String] = [:]
                for (hook, owner) in owned {
                    let id = try await app.sendTest(to: hook.id, as: owner)
                    deliveryOf[hook.id] = id
                    try await app.waitForDelivery(id, of: hook.id, as: owner, status: "delivered")
                }
                let before = try await Self.snapshot(app, owned)
                let unknown = (endpoint: UUID().uuidString, delivery: UUID().uuidString)
                func routes(_ hook: CreatedWebhook) -> [(HTTPRequest.Method, String, String?)] {
                    Self.routes(endpoint: hook.id, delivery: deliveryOf[hook.id] ?? "")
                }
                let collection: [(HTTPRequest.Method, String, String?)] = [
                    (.get, "/v1/webhook-endpoints", nil),
                    (.post, "/v1/webhook-endpoints", WebhookEndpointBody(url: receiver.url("/new"), eventTypes: ["*"]).jsonText),
                ]
                var cases: [(HTTPRequest.Method, String, String?, TestApp.Account?, HTTPResponse.Status)] = []
                // Officers and KOLs: 403 on every route, whatever the id.
                for account in [officer, kol] {
                    for (method, path, body) in collection { cases.append((method, path, body, account, .forbidden)) }
                    for hook in [platform, brandHook, otherHook, payouts] {
                        for (method, path, body) in routes(hook) { cases.append((method, path, body, account, .forbidden)) }
                    }
                    for (method, path, body) in Self.routes(endpoint: unknown.endpoint, delivery: unknown.delivery) {
                        cases.append((method, path, body, account, .forbidden))
                    }
                }
                // A brand user sees its own brand's endpoints only.
                for hook in [otherHook, platform, payouts] {
                    for (method, path, body) in routes(hook) { cases.append((method, path, body, brand, .notFound)) }
                }
                for (method, path, body) in routes(brandHook) { cases.append((method, path, body, otherBrand, .notFound)) }
                // Finance sees the payouts endpoints only.
                for hook in [brandHook, otherHook, platform] {
                    for (method, path, body) in routes(hook) { cases.append((method, path, body, finance, .notFound)) }
                }
                // An id that names nothing: 404 for every role that may use webhooks.
                for account in [admin, brand, finance] {
                    for (method, path, body) in Self.routes(endpoint: unknown.endpoint, delivery: unknown.delivery) {
                        cases.append((method, path, body, account, .notFound))
                    }
                }
                // Without a token: 401, the catalogue included.
                cases.append((.get, "/v1/webhook-event-types", nil, nil, .unauthorized))
                for (method, path, body) in collection + routes(platform) + routes(brandHook) {
                    cases.append((method, path, body, nil, .unauthorized))
                }
                for (method, path, body, account, expected) in cases {
                    let who = account.map { "\($0.role)" } ?? "anonymous"
                    let response = try await app.request(method, path, token: account?.token, body: body)
                    #expect(response.status == expected, "\(method) \(path) as \(who): \(response.status.code) \(response.text)")
                    #expect(response.isProblem, "\(method) \(path) as \(who) answers a problem document")
                    // Who may see and act is decided before the body is read: the same answer whatever it sends.
                    guard method == .post || method == .patch else { continue }
                    for bad in ["{}", "{\"nmae\": 1}", "{not json"] {
                        let refused = try await app.request(method, path, token: account?.token, body: bad)
                        #expect(
                            refused.status == expected, "\(method) \(path) as \(who) with \(bad): \(refused.status.code) \(refused.text)")
                    }
                }
                #expect(cases.count > 100)
                // validate: nothing moved, nothing was sent.
                try await Task.sleep(for: .seconds(1))
                #expect(try await Self.snapshot(app, owned) == before)
                #expect(await receiver.all.count == 4)
                // Lists show each role its own.
                func listed(_ account: TestApp.Account) async throws -> Set<String> {
                    let response = try await app.get("/v1/webhook-endpoints", token: account.token)
                    #expect(response.status == .ok)
                    return Set(response.data.compactMap { $0["id"] as? String })
                }
                #expect(try await listed(admin) == Set(owned.map(\.0.id)))
                #expect(try await listed(brand) == [brandHook.id])
                #expect(try await listed(otherBrand) == [otherHook.id])
                #expect(try await listed(finance) == [payouts.id])
                // Anyone signed in reads the catalogue.
                for account in [admin, officer, finance, brand, kol] {
                    let catalogue = try await app.get("/v1/webhook-event-types", token: account.token)
                    #expect(catalogue.status == .ok, "\(account.role)")
                    #expect(Set(catalogue.data.compactMap { $0["type"] as? String }) == Self.catalogue)
                    #expect(catalogue.data.allSatisfy { ($0["description"] as? String)?.isEmpty == false && $0["entity_type"] is String })
                }
            }
        }
    }

    static let catalogue: Set<String> = [
        "campaign.created", "campaign.recruiting", "campaign.running", "campaign.completed", "campaign.cancelled",
        "brief_version.created", "brief_version.published", "brief_version.superseded",
        "registration.created", "registration.shortlisted", "registration.accepted", "registration.rejected", "registration.withdrawn",
        "deliverable.created", "deliverable.awaiting_draft", "deliverable.draft_submitted", "deliverable.in_brand_review",
        "deliverable.brand_feedback", "deliverable.changes_requested", "deliverable.approved", "deliverable.posted", "deliverable.live",
        "deliverable.insights_submitted", "deliverable.completed", "deliverable.cancelled",
        "payout.created", "payout.approved", "payout.exported", "payout.paid", "payout.failed",
        "payout_batch.created",
        "webhook.test",
    ]

    @Test func badInputIsRefusedAndChangesNothing() async throws {
        try await TestApp.run(configure: webhookTesting) { app in
            // setup
            let cast = try await app.cast()
            let otherBrandID = try await app.brand(by: cast.admin)
            let url = "http://127.0.0.1:9/hook"
            let hook = try await app.createWebhook(url: url, types: ["campaign.created"], by: cast.admin)
            let before = try await Self.snapshot(app, [(hook, cast.admin)])
            let huge = WebhookEndpointBody(url: url, eventTypes: ["*"], description: String(repeating: "x", count: 2 << 20)).jsonText
            let endpoints = "/v1/webhook-endpoints"
            let one = "/v1/webhook-endpoints/\(hook.id)"
            // Bodies: typed where only a value is bad (the API reads them, then refuses); `RawJSON` where the
            // body itself is malformed on purpose (unknown or wrongly typed members, members missing).
            let cases: [(HTTPRequest.Method, String, TestApp.Account, String?, HTTPResponse.Status, [String])] = [
                (.post, endpoints, cast.admin, "{not json", .badRequest, []),
                (
                    .post, endpoints, cast.admin, RawJSON(["url": url, "event_types": ["*"], "colour": "red"]).text, .unprocessableContent,
                    ["colour"]
                ),
                (
                    .post, endpoints, cast.admin, RawJSON(["url": 5, "event_types": "*"]).text, .unprocessableContent,
                    ["url", "event_types"]
                ),
                (
                    .post, endpoints, cast.admin, RawJSON(["url": url, "event_types": ["*"], "description": 7]).text, .unprocessableContent,
                    ["description"]
                ),
                (
                    .post, endpoints, cast.admin, RawJSON(["url": url, "event_types": ["*"], "brand_id": 7]).text, .unprocessableContent,
                    ["brand_id"]
                ),
                (.post, endpoints, cast.admin, huge, .contentTooLarge, []),
                (.post, endpoints, cast.admin, RawJSON(["event_types": ["*"]]).text, .unprocessableContent, ["url"]),
                (.post, endpoints, cast.admin, RawJSON(["url": url]).text, .unprocessableContent, ["event_types"]),
                (
                    .post, endpoints, cast.admin, WebhookEndpointBody(url: url, eventTypes: []).jsonText, .unprocessableContent,
                    ["event_types"]
                ),
                (
                    .post, endpoints, cast.admin, WebhookEndpointBody(url: url, eventTypes: ["deliverable.exploded"]).jsonText,
                    .unprocessableContent,
                    ["event_types"]
                ),
                (
                    .post, endpoints, cast.admin, WebhookEndpointBody(url: url, eventTypes: ["campaign.*"]).jsonText, .unprocessableContent,
                    ["event_types"]
                ),
                (
                    .post, endpoints, cast.admin, WebhookEndpointBody(url: "not a url", eventTypes: ["*"]).jsonText, .unprocessableContent,
                    ["url"]
                ),
                (
                    .post, endpoints, cast.admin, WebhookEndpointBody(url: "ftp://127.0.0.1/hook", eventTypes: ["*"]).jsonText,
                    .unprocessableContent,
                    ["url"]
                ),
                (
                    .post, endpoints, cast.admin, WebhookEndpointBody(url: "http:///hook", eventTypes: ["*"]).jsonText,
                    .unprocessableContent, ["url"]
                ),
                (
                    .post, endpoints, cast.admin,
                    WebhookEndpointBody(url: "http://127.0.0.1/" + String(repeating: "a", count: 2_040), eventTypes: ["*"]).jsonText,
                    .unprocessableContent, ["url"]
                ),
                (
                    .post, endpoints, cast.admin, WebhookEndpointBody(url: url, eventTypes: ["*"], description: "a\u{0}b").jsonText,
                    .unprocessableContent,
                    ["description"]
                ),
                (
                    .post, endpoints, cast.admin, WebhookEndpointBody(url: url, eventTypes: ["*"], brandID: UUID().uuidString).jsonText,
                    .unprocessableContent, ["brand_id"]
                ),
                (
                    .post, endpoints, cast.admin, WebhookEndpointBody(url: url, eventTypes: ["*"], brandID: "not-a-uuid").jsonText,
                    .unprocessableContent,
                    ["brand_id"]
                ),
                (
                    .post, endpoints, cast.brand, WebhookEndpointBody(url: url, eventTypes: ["*"], brandID: otherBrandID).jsonText,
                    .unprocessableContent,
                    ["brand_id"]
                ),
                (
                    .post, endpoints, cast.finance,
                    WebhookEndpointBody(url: url, eventTypes: ["payout.paid"], brandID: cast.brandID).jsonText,
                    .unprocessableContent, ["brand_id"]
                ),
                (
                    .post, endpoints, cast.finance, WebhookEndpointBody(url: url, eventTypes: ["deliverable.approved"]).jsonText,
                    .unprocessableContent,
                    ["event_types"]
                ),
                (.patch, one, cast.admin, "{not json", .badRequest, []),
                (.patch, one, cast.admin, RawJSON(["enabled": "yes"]).text, .unprocessableContent, ["enabled"]),
                (.patch, one, cast.admin, RawJSON(["status": "enabled"]).text, .unprocessableContent, ["status"]),
                (.patch, one, cast.admin, RawJSON(["secret": "whsec_AAAA"]).text, .unprocessableContent, ["secret"]),
                (
                    .patch, one, cast.admin, RawJSON(["scope": "platform", "brand_id": otherBrandID]).text, .unprocessableContent,
                    ["scope", "brand_id"]
                ),
                (.patch, one, cast.admin, WebhookEndpointPatchBody(eventTypes: []).jsonText, .unprocessableContent, ["event_types"]),
                (
                    .patch, one, cast.admin, WebhookEndpointPatchBody(eventTypes: ["payout.exploded"]).jsonText, .unprocessableContent,
                    ["event_types"]
                ),
                (.patch, one, cast.admin, WebhookEndpointPatchBody(url: "ftp://127.0.0.1/hook").jsonText, .unprocessableContent, ["url"]),
                (.patch, one, cast.admin, huge, .contentTooLarge, []),
                (.patch, "/v1/webhook-endpoints/\(UUID())", cast.admin, WebhookEndpointPatchBody(description: "x").jsonText, .notFound, []),
                (.get, "/v1/webhook-endpoints/\(UUID())", cast.admin, nil, .notFound, []),
                (.get, "/v1/webhook-endpoints/not-an-id", cast.admin, nil, .notFound, []),
                (.delete, "/v1/webhook-endpoints/\(UUID())", cast.admin, nil, .notFound, []),
                (.post, "/v1/webhook-endpoints/\(UUID())/rotate-secret", cast.admin, nil, .notFound, []),
                (.post, "/v1/webhook-endpoints/\(UUID())/test", cast.admin, nil, .notFound, []),
                (.get, "/v1/webhook-endpoints/\(UUID())/deliveries", cast.admin, nil, .notFound, []),
                (.post, "/v1/webhook-deliveries/\(UUID())/retry", cast.admin, nil, .notFound, []),
                (
                    .post, "/v1/webhook-endpoints/\(UUID())/recover", cast.admin,
                    WebhookRecoverBody(since: "2026-01-01T00:00:00Z").jsonText, .notFound, []
                ),
                (.post, "\(one)/recover", cast.admin, "{}", .unprocessableContent, ["since"]),
                (.post, "\(one)/recover", cast.admin, WebhookRecoverBody(since: "yesterday").jsonText, .unprocessableContent, ["since"]),
                (
                    .post, "\(one)/recover", cast.admin, WebhookRecoverBody(since: "2026-01-01T00:00:00").jsonText, .unprocessableContent,
                    ["since"]
                ),
                (
                    .post, "\(one)/recover", cast.admin, WebhookRecoverBody(since: "1999-12-31T23:00:00Z").jsonText, .unprocessableContent,
                    ["since"]
                ),
                (.post, "\(one)/recover", cast.admin, "{not json", .badRequest, []),
                (.post, "\(one)/rotate-secret", cast.admin, RawJSON(["secret": "whsec_mine"]).text, .unprocessableContent, ["secret"]),
                (.post, "\(one)/rotate-secret", cast.admin, "{not json", .badRequest, []),
                (.post, "\(one)/test", cast.admin, RawJSON(["type": "payout.paid"]).text, .unprocessableContent, ["type"]),
            ]
            for (method, path, account, body, expected, fields) in cases {
                let label = "\(method) \(path.prefix(80)) as \(account.role) with \(body?.prefix(80) ?? "no body")"
                let response = try await app.request(method, path, token: account.token, body: body)
                #expect(response.status == expected, "\(label): \(response.status.code) \(response.text.prefix(300))")
                #expect(response.isProblem, "\(label) answers a problem document")
                if !fields.isEmpty {
                    #expect(Set(response.errorFields) == Set(fields), "\(label): \(response.text.prefix(300))")
                }
            }
            // validate: nothing changed, nothing was queued.
            #expect(try await Self.snapshot(app, [(hook, cast.admin)]) == before)
            #expect(try await app.count("SELECT count(*)::int FROM webhook_endpoints") == 1)
            #expect(try await app.messageCount() == 0)
        }
    }

    /// Outside development mode only `https` to a public address is accepted, at registration and
    /// again before every delivery.
    @Test func outsideDevelopmentOnlyHttpsToPublicAddressesIsAccepted() async throws {
        try await WebhookReceiver.run { receiver in
            try await TestApp.run(configure: { $0.webhookRetrySchedule = [.seconds(1)] }) { app in
                let admin = try await app.admin()
                let refused = [
                    "http://93.184.216.34/hook", "https:///hook", "https://127.0.0.1/hook", "https://127.0.0.1:8443/hook",
                    "https://10.0.0.1/hook", "https://172.16.0.1/hook", "https://192.168.1.1/hook",
                    "https://169.254.169.254/latest/meta-data",
                    "https://100.64.0.1/hook", "https://0.0.0.0/hook", "https://224.0.0.1/hook", "https://[::1]/hook",
                    "https://[fe80::1]/hook",
                    "https://[fc00::1]/hook", "https://[::ffff:127.0.0.1]/hook", "https://[::]/hook", "https://[ff02::1]/hook",
                    "https://localhost/hook", "https://LOCALHOST:443/hook", "https://user@127.0.0.1/hook",
                    // Other spellings of 127.0.0.1 that the resolver accepts.
                    "https://2130706433/hook", "https://127.1/hook",
                    // The receiver itself: http and loopback.
                    receiver.url(),
                ]
                for url in refused {
                    let response = try await app.post(
                        "/v1/webhook-endpoints", token: admin.token, WebhookEndpointBody(url: url, eventTypes: ["*"]))
                    #expect(response.status == .unprocessableContent, "\(url): \(response.status.code) \(response.text)")
                    #expect(response.errorFields == ["url"], "\(url): \(response.text)")
                }
                #expect(try await app.count("SELECT count(*)::int FROM webhook_endpoints") == 0)
                // A public https address is accepted; changing it to a refused one is not.
                let hook = try await app.createWebhook(url: "https://93.184.216.34/hooks/kolab", by: admin)
                let shown = try await app.get("/v1/webhook-endpoints/\(hook.id)", token: admin.token).text
                for url in refused {
                    let response = try await app.patch(
                        "/v1/webhook-endpoints/\(hook.id)", token: admin.token, WebhookEndpointPatchBody(url: url))
                    #expect(response.status == .unprocessableContent, "PATCH \(url): \(response.status.code) \(response.text)")
                    #expect(response.errorFields == ["url"], "PATCH \(url): \(response.text)")
                }
                #expect(try await app.get("/v1/webhook-endpoints/\(hook.id)", token: admin.token).text == shown)
                // The rules hold again before every delivery: a URL that turned private is a failed attempt.
                try await app.execute(
                    "UPDATE webhook_endpoints SET url = \(receiver.url()) WHERE id = \(UUID(uuidString: hook.id)!)")
                let id = try await app.sendTest(to: hook.id, as: admin)
                let delivery = try await app.waitForDelivery(id, of: hook.id, as: admin, status: "failed")
                let attempts = delivery["attempts"] as? [[String: any Sendable]] ?? []
                #expect(!attempts.isEmpty)
                #expect(attempts.allSatisfy { $0["status_code"] is NSNull && ($0["error"] as? String)?.isEmpty == false }, "\(attempts)")
                try await Task.sleep(for: .milliseconds(500))
                #expect(await receiver.all.isEmpty, "nothing reached the private address")
            }
        }
    }
}
