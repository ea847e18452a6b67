import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import NIOCore
import PostgresNIO

/// The web console's pages (DESIGN.md, "Web console"): thin callers of the same stores and workflows
/// as the API. Each handler parses the request, calls one workflow or read, and renders a template.
struct ConsoleController {
    let services: Services

    func register(_ group: RouterGroup<KolabRequestContext>) {
        group.get("login", use: loginPage)
        group.post("login", use: login)
        group.post("logout", use: logout)
        group.get("", use: home)
        group.get("campaigns", use: campaigns)
        group.get("campaigns/:id", use: campaign)
        group.get("campaigns/:id/report", use: report)
        group.get("drafts/:id", use: draft)
        group.post("drafts/:id/reviews", use: review)
        KolPages(services: services).register(group)
        FinancePages(services: services).register(group)
    }

    // MARK: Signing in and out

    @Sendable func loginPage(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let state = try context.consoleState()
        if state.user != nil { return ConsoleRenderer.redirect(Self.safeNext(request.uri.queryParameters.get("next"))) }
        return Self.loginForm(state, next: request.uri.queryParameters.get("next"), error: nil, email: "")
    }

    static func loginForm(_ state: ConsoleState, next: String?, error: String?, email: String, status: HTTPResponse.Status = .ok)
        -> Response
    {
        state.page(
            "login", title: state.text("login.title"),
            ["next": safeNext(next), "error": error as Any, "email": email], status: status)
    }

    /// Where to go after signing in: a path of the console only (never another site).
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/app"), !next.hasPrefix("//"), !next.contains("\\") else { return "/app" }
        return next
    }

    @Sendable func login(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let state = try context.consoleState()
        let form = state.form
        var v = Validator()
        let email = v.email(form["email"] ?? "")
        let password = form["password"] ?? ""
        v.check(!password.isEmpty && password.utf8.count <= PasswordPolicy.maximumBytes, "password", "is required")
        guard let email, v.errors.isEmpty else {
            return Self.loginForm(
                state, next: form["next"], error: state.text("login.wrong"), email: form["email"] ?? "", status: .unprocessableContent)
        }
        let token = "kolab_s_" + ConsoleMiddleware.randomToken()
        do {
            try await services.signIn(email: email, password: password, request: request, context: context) { userID, connection in
                try await services.auth.storeSession(
                    token, userID: userID, idleSeconds: ConsoleMiddleware.sessionIdleSeconds, on: connection)
            }
        } catch let error as KolabError where error.code == .unauthenticated {
            return Self.loginForm(state, next: form["next"], error: state.text("login.wrong"), email: email.value, status: .unauthorized)
        } catch let error as KolabError where error.code == .tooManyRequests {
            var response = Self.loginForm(
                state, next: form["next"], error: state.text("login.throttled"), email: email.value, status: .tooManyRequests)
            for field in error.headers { response.headers[field.name] = field.value }
            return response
        }
        var response = ConsoleRenderer.redirect(Self.safeNext(form["next"]))
        response.setCookie(
            Cookie(
                name: ConsoleMiddleware.sessionCookie, value: token, maxAge: ConsoleMiddleware.sessionIdleSeconds, path: "/",
                secure: state.secureCookies, httpOnly: true, sameSite: .lax))
        return response
    }

    @Sendable func logout(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let state = try context.consoleState()
        if let token = state.sessionToken {
            try await services.write(context) { try await services.auth.revoke(token: token, on: $0) }
        }
        var response = ConsoleRenderer.redirect("/app/login")
        response.setCookie(
            Cookie(
                name: ConsoleMiddleware.sessionCookie, value: "", maxAge: 0, path: "/", secure: state.secureCookies, httpOnly: true,
                sameSite: .lax))
        return response
    }

    // MARK: Home and campaigns

    /// Each role's start page: a brand's review queue and campaigns; the others their role's sections.
    @Sendable func home(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try context.consoleUser()
        switch actor.role {
        case .kol: return try await KolPages(services: services).home(request, context: context)
        case .finance: return try await FinancePages(services: services).home(request, context: context)
        default: break
        }
        if actor.role == .officer || actor.role == .admin {
            return try await worklistHome(actor: actor, state: state, context: context)
        }
        guard actor.role == .brand, let brandID = actor.brandID else {
            return state.page("home", title: state.text("home.title"), ["role_note": state.text("home.note.\(actor.role.rawValue)")])
        }
        let (queue, listed) = try await services.read(context) { connection in
            let queue = try await services.worklist.brandReviewQueue(brandID: brandID, campaignID: nil, limit: 200, on: connection)
            return (queue, try await visibleCampaigns(actor: actor, on: connection))
        }
        let campaigns = campaignRows(listed, state)
        return state.page(
            "brand_home", title: state.text("home.title"),
            [
                "queue": queue.map { queueRow($0, state) }, "queue_empty": queue.isEmpty, "campaigns": campaigns,
                "no_campaigns": campaigns.isEmpty,
            ])
    }

    /// An officer's start page: the API's worklist (oldest first), each item linked to its campaign.
    private func worklistHome(actor: Actor, state: ConsoleState, context: KolabRequestContext) async throws -> Response {
        let (items, titles) = try await services.read(context) { connection in
            let page = try await services.worklist.officerItems(
                officerID: actor.worklistOfficerID, now: Date(), after: nil, limit: 100, on: connection)
            return (page.items, try await services.campaigns.titles(ids: Array(Set(page.items.map(\.campaignID))), on: connection))
        }
        let rows = items.map { item -> [String: Any] in
            var row: [String: Any] = [
                "kind": state.text("worklist.\(item.kind)"), "campaign": titles[item.campaignID] ?? "",
                "campaign_id": item.campaignID.uuidString.lowercased(),
                "since": ConsoleFormat.time(item.since, state.language), "since_iso": ConsoleFormat.machine(item.since),
            ]
            if let due = item.dueAt {
                row["due"] = ConsoleFormat.time(due, state.language)
                row["due_iso"] = ConsoleFormat.machine(due)
                row["overdue"] = due < Date()
            }
            return row
        }
        return state.page("officer_home", title: state.text("home.title"), ["items": rows, "no_items": rows.isEmpty])
    }

    @Sendable func campaigns(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try context.consoleUser()
        if actor.role == .kol { return try await KolPages(services: services).campaigns(request, context: context) }
        let rows = campaignRows(try await services.read(context) { try await visibleCampaigns(actor: actor, on: $0) }, state)
        return state.page("campaigns", title: state.text("campaigns.title"), ["campaigns": rows, "no_campaigns": rows.isEmpty])
    }

    typealias Funnel = (registrations: [String: Int], deliverables: [String: Int])

    /// The campaigns the user sees (the API's own visibility, its list order), with their funnels.
    private func visibleCampaigns(actor: Actor, on connection: PostgresConnection) async throws -> ([CampaignRecord], [UUID: Funnel]) {
        let page = try await services.campaigns.list(visibleTo: actor, CampaignFilter(), after: nil, limit: 200, on: connection)
        return (page.items, try await services.workflows.reports.funnels(campaignIDs: page.items.map(\.id), on: connection))
    }

    private func campaignRows(_ listed: ([CampaignRecord], [UUID: Funnel]), _ state: ConsoleState) -> [[String: Any]] {
        let (campaigns, funnels) = listed
        return campaigns.map { campaign in
            let funnel = funnels[campaign.id] ?? ([:], [:])
            return [
                "id": campaign.id.uuidString.lowercased(), "title": campaign.title,
                "status": state.text("campaign.status.\(campaign.status.rawValue)"), "status_key": campaign.status.rawValue,
                "funnel": funnelText(funnel, state),
            ]
        }
    }

    private func funnelText(_ funnel: (registrations: [String: Int], deliverables: [String: Int]), _ state: ConsoleState) -> [[String: Any]]
    {
        let registered = funnel.registrations.values.reduce(0, +)
        let accepted = funnel.registrations["accepted"] ?? 0
        let inReview = (funnel.deliverables["draft_submitted"] ?? 0) + (funnel.deliverables["in_brand_review"] ?? 0)
        let approved = ["approved", "posted", "live", "insights_submitted", "completed"].reduce(0) { $0 + (funnel.deliverables[$1] ?? 0) }
        let live = ["live", "insights_submitted", "completed"].reduce(0) { $0 + (funnel.deliverables[$1] ?? 0) }
        return [
            ["label": state.text("funnel.registered"), "count": registered], ["label": state.text("funnel.accepted"), "count": accepted],
            ["label": state.text("funnel.in_review"), "count": inReview], ["label": state.text("funnel.approved"), "count": approved],
            ["label": state.text("funnel.live"), "count": live],
        ]
    }

    private func queueRow(_ entry: WorklistStore.ReviewQueueEntry, _ state: ConsoleState) -> [String: Any] {
        [
            "draft_id": entry.draftID.uuidString.lowercased(), "version": entry.version,
            "caption": entry.caption.isEmpty ? state.text("draft.no_caption") : String(entry.caption.prefix(120)),
            "kol": entry.kolName, "campaign": entry.campaignTitle,
            "deliverable": "\(entry.platform) · \(state.text("format.\(entry.format)"))",
            "since": ConsoleFormat.time(entry.waitingSince, state.language), "since_iso": ConsoleFormat.machine(entry.waitingSince),
            "due": ConsoleFormat.time(entry.draftDueAt, state.language), "due_iso": ConsoleFormat.machine(entry.draftDueAt),
            "overdue": entry.draftDueAt < Date(),
        ]
    }

    @Sendable func campaign(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try context.consoleUser()
        if actor.role == .kol { return try await KolPages(services: services).campaign(request, context: context) }
        let id = try context.parameters.id(of: "campaign")
        let (campaign, queue, funnels) = try await services.read(context) { connection in
            let campaign = try await services.workflows.visibleCampaign(id, actor: actor, on: connection)
            let queue =
                actor.role == .brand
                ? try await services.worklist.brandReviewQueue(brandID: campaign.brandID, campaignID: id, limit: 200, on: connection) : []
            let funnels = try await services.workflows.reports.funnels(campaignIDs: [id], on: connection)
            return (campaign, queue, funnels)
        }
        return state.page(
            "campaign", title: campaign.title,
            [
                "id": id.uuidString.lowercased(), "title": campaign.title, "description": campaign.description,
                "status": state.text("campaign.status.\(campaign.status.rawValue)"),
                "funnel": funnelText(funnels[id] ?? ([:], [:]), state), "queue": queue.map { queueRow($0, state) },
                "queue_empty": queue.isEmpty, "slots": campaign.kolSlots, "accepted": campaign.acceptedCount,
            ])
    }

    // MARK: The report

    @Sendable func report(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try context.consoleUser()
        let id = try context.parameters.id(of: "campaign")
        guard actor.role != .kol else { throw KolabError.forbidden("KOLs read their own figures on their payouts.") }
        let (campaign, data) = try await services.read(context) { connection in
            let campaign = try await services.workflows.visibleCampaign(id, actor: actor, on: connection)
            return (campaign, try await services.workflows.reports.report(campaignID: id, onlyKol: nil, on: connection))
        }
        let reach = data.rows.reduce(Int64(0)) { $0 + $1.reach }
        let impressions = data.rows.reduce(Int64(0)) { $0 + $1.impressions }
        let views = data.rows.reduce(Int64(0)) { $0 + $1.views }
        let engagements = data.rows.reduce(Int64(0)) { $0 + $1.engagements }
        let gross = data.rows.reduce(Int64(0)) { $0 + $1.grossIdr }
        let net = data.rows.reduce(Int64(0)) { $0 + $1.netIdr }
        let rate = impressions > 0 ? Double(engagements) / Double(impressions) * 100 : 0
        let cpm = impressions > 0 ? gross * 1_000 / impressions : 0
        let cpe = engagements > 0 ? gross / engagements : 0
        let number = { (value: Int64) in ConsoleFormat.number(value, state.language) }
        return state.page(
            "report", title: "\(state.text("report.title")): \(campaign.title)",
            [
                "id": id.uuidString.lowercased(), "campaign": campaign.title,
                "figures": [
                    ["label": state.text("report.reach"), "value": number(reach)],
                    ["label": state.text("report.impressions"), "value": number(impressions)],
                    ["label": state.text("report.views"), "value": number(views)],
                    ["label": state.text("report.engagements"), "value": number(engagements)],
                    ["label": state.text("report.engagement_rate"), "value": String(format: "%.2f%%", rate)],
                    ["label": state.text("report.cost_gross"), "value": ConsoleFormat.money(gross, state.language)],
                    ["label": state.text("report.cost_net"), "value": ConsoleFormat.money(net, state.language)],
                    ["label": "CPM", "value": ConsoleFormat.money(cpm, state.language)],
                    ["label": "CPE", "value": ConsoleFormat.money(cpe, state.language)],
                ],
                "rows": data.rows.map { row in
                    [
                        "kol": row.fullName, "reach": number(row.reach), "engagements": number(row.engagements),
                        "deliverables": "\(row.deliverablesCompleted)/\(row.deliverables)",
                        "cost": ConsoleFormat.money(row.grossIdr, state.language),
                    ] as [String: Any]
                },
                "no_rows": data.rows.isEmpty,
                "chart": ReportChart.svg(
                    rows: data.rows.map { ($0.fullName, $0.reach, $0.engagements) }, reachLabel: state.text("report.reach"),
                    engagementsLabel: state.text("report.engagements"), language: state.language),
            ])
    }

    // MARK: A draft

    @Sendable func draft(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try context.consoleUser()
        let id = try context.parameters.id(of: "draft")
        let view = try await services.read(context) { try await DraftView.load(id, actor: actor, services: services, on: $0) }
        let done = request.uri.queryParameters.get("done").flatMap { ["approve", "request_changes"].contains($0) ? String($0) : nil }
        return state.page(
            "draft", title: view.title(state),
            view.values(
                state, actionPath: "/app/drafts/\(view.draft.id.uuidString.lowercased())/reviews",
                back: ("/app", state.text("draft.back_queue")), done: done))
    }

    /// Approve or request changes: the API's review workflow, with the form's idempotency key.
    @Sendable func review(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try context.consoleUser()
        let id = try context.parameters.id(of: "draft")
        let (decision, message) = try DraftView.decision(from: state.form)
        _ = try await services.write(context) {
            try await services.workflows.review(draft: id, decision: decision, message: message, actor: actor, on: $0)
        }
        return ConsoleRenderer.redirect("/app/drafts/\(id.uuidString.lowercased())?done=\(decision.rawValue)")
    }
}

extension KolabRequestContext {
    func consoleState() throws -> ConsoleState {
        guard let console else { throw KolabError(.internal, "a console page ran without ConsoleMiddleware") }
        return console
    }

    /// The console's state and the signed-in user (else the sign-in page).
    func consoleUser() throws -> (ConsoleState, Actor) {
        let state = try consoleState()
        guard let actor else { throw SignInRequired() }
        return (state, actor)
    }
}
