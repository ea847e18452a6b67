import Foundation
import Hummingbird
import KolabDomain
import KolabStore
import PostgresNIO

/// A KOL's pages, phone first (DESIGN.md, "Web console", KOL; issue 17): open campaigns and whether
/// she is eligible, registering with a pitch, her registrations and the brief to acknowledge, each
/// deliverable with what is due next and its forms (draft or revision, post link, insights), her
/// payouts and her profile. Every form calls the API's workflow with the API's validation.
struct KolPages {
    let services: Services

    func register(_ group: RouterGroup<KolabRequestContext>) {
        group.post("campaigns/:id/registrations", use: registerForCampaign)
        group.get("registrations", use: registrations)
        group.get("registrations/:id", use: registration)
        group.post("registrations/:id/brief-acknowledgement", use: acknowledge)
        group.get("deliverables/:id", use: deliverable)
        group.post("deliverables/:id/drafts", use: submitDraft)
        group.post("deliverables/:id/post", use: submitPost)
        group.post("deliverables/:id/insights", use: submitInsights)
        group.get("profile", use: profile)
        group.post("profile", use: saveProfile)
    }

    /// Pages only a KOL opens; anyone else gets the 404 of a page that is not theirs.
    private func kol(_ context: KolabRequestContext) throws -> (ConsoleState, Actor) {
        let (state, actor) = try context.consoleUser()
        guard actor.role == .kol else { throw KolabError.notFound("page") }
        return (state, actor)
    }

    private static func id(_ uuid: UUID) -> String { uuid.uuidString.lowercased() }

    /// Her registrations and deliverables, and the titles of their campaigns.
    private func kolOverview(_ actor: Actor, _ context: KolabRequestContext) async throws
        -> (registrations: [RegistrationRecord], deliverables: [DeliverableRecord], titles: [UUID: String])
    {
        try await services.read(context) { connection in
            let (registrations, deliverables) = try await services.registrations.kolOverview(kolID: actor.userID, on: connection)
            let titles = try await services.campaigns.titles(ids: Array(Set(registrations.map(\.campaignID))), on: connection)
            return (registrations, deliverables, titles)
        }
    }

    // MARK: Home: what is due next

    func home(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try kol(context)
        let overview = try await kolOverview(actor, context)
        let open = overview.deliverables.filter { $0.status != .completed && $0.status != .cancelled }
        return state.page(
            "kol_home", title: state.text("home.title"),
            [
                "deliverables": open.map { deliverableRow($0, title: overview.titles[$0.campaignID] ?? "", state) },
                "no_deliverables": open.isEmpty,
                "registrations": overview.registrations.prefix(5).map {
                    registrationRow($0, title: overview.titles[$0.campaignID] ?? "", state)
                },
            ])
    }

    private func deliverableRow(_ d: DeliverableRecord, title: String, _ state: ConsoleState) -> [String: Any] {
        let (next, due) = Self.nextStep(d)
        var row: [String: Any] = [
            "id": Self.id(d.id), "campaign": title, "what": "\(d.platform.rawValue) · \(state.text("format.\(d.format.rawValue)"))",
            "status": state.text("deliverable.status.\(d.status.rawValue)"), "next": state.text("kol.next.\(next)"),
        ]
        if let due {
            row["due"] = ConsoleFormat.time(due, state.language)
            row["due_iso"] = ConsoleFormat.machine(due)
            row["overdue"] = due < Date()
        }
        return row
    }

    /// What the KOL does next on a deliverable, and by when (nil: nothing is due from her).
    static func nextStep(_ d: DeliverableRecord) -> (String, Date?) {
        switch d.status {
        case .awaitingDraft: ("draft", d.draftDueAt)
        case .changesRequested: ("revision", d.draftDueAt)
        case .approved: ("post", d.postDueAt)
        case .live: ("insights", d.insightsDueAt)
        case .draftSubmitted, .inBrandReview, .brandFeedback: ("wait_review", nil)
        case .posted: ("wait_post", nil)
        case .insightsSubmitted: ("wait_insights", nil)
        case .completed: ("done", nil)
        case .cancelled: ("cancelled", nil)
        }
    }

    private func registrationRow(_ r: RegistrationRecord, title: String, _ state: ConsoleState) -> [String: Any] {
        [
            "id": Self.id(r.id), "campaign": title, "status": state.text("kol.registration.\(r.status.rawValue)"),
            "to_acknowledge": r.status == .accepted && r.publishedBriefVersion != nil
                && r.briefVersionAcknowledged != r.publishedBriefVersion,
        ]
    }

    // MARK: Campaigns

    /// Open campaigns with the fee, the platforms, and whether she is eligible, and if not, why.
    func campaigns(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try kol(context)
        let (campaigns, profile) = try await services.read(context) { connection in
            let page = try await services.campaigns.list(
                visibleTo: actor, CampaignFilter(status: .recruiting), after: nil, limit: 200, on: connection)
            return (page.items, try await services.kols.kol(id: actor.userID, on: connection))
        }
        let rows = campaigns.map { campaign -> [String: Any] in
            var row = campaignSummary(campaign, state)
            let reasons = eligibilityReasons(campaign, profile, state)
            row["eligible"] = reasons.isEmpty
            row["reasons"] = reasons
            row["registered"] = campaign.callerRegistered
            return row
        }
        return state.page("kol_campaigns", title: state.text("kol.campaigns.title"), ["campaigns": rows, "no_campaigns": rows.isEmpty])
    }

    private func campaignSummary(_ campaign: CampaignRecord, _ state: ConsoleState) -> [String: Any] {
        var row: [String: Any] = [
            "id": Self.id(campaign.id), "title": campaign.title, "description": campaign.description,
            "fee": ConsoleFormat.money(campaign.terms.feeIdr, state.language),
            "platforms": campaign.platforms.map(\.rawValue).joined(separator: ", "),
        ]
        if let closes = campaign.registrationClosesAt { row["closes"] = ConsoleFormat.time(closes, state.language) }
        if let bonus = campaign.terms.bonus {
            row["bonus"] = state.text("kol.campaign.bonus")
                .replacingOccurrences(of: "{rate}", with: ConsoleFormat.money(bonus.rateIdrPer1000, state.language))
                .replacingOccurrences(of: "{metric}", with: bonus.metric.rawValue)
                .replacingOccurrences(of: "{cap}", with: ConsoleFormat.money(bonus.capIdr, state.language))
        }
        return row
    }

    /// The campaign's rules she does not meet, in her language, with the numbers.
    private func eligibilityReasons(_ campaign: CampaignRecord, _ profile: KolRecord?, _ state: ConsoleState) -> [String] {
        guard let profile else { return [state.text("kol.eligibility.no_profile")] }
        let failures = campaign.eligibility.failures(
            platforms: campaign.platforms, accounts: profile.socialAccounts, niches: profile.niches, region: profile.region)
        return failures.map { failure in
            state.text("kol.eligibility.\(failure.field)")
                .replacingOccurrences(of: "{n}", with: ConsoleFormat.number(campaign.eligibility.minFollowers, state.language))
                .replacingOccurrences(of: "{platforms}", with: campaign.platforms.map(\.rawValue).joined(separator: ", "))
                .replacingOccurrences(of: "{niches}", with: campaign.eligibility.niches.joined(separator: ", "))
                .replacingOccurrences(of: "{regions}", with: campaign.eligibility.regions.joined(separator: ", "))
        }
    }

    /// A campaign as a KOL reads it: the brief's summary and the register form.
    func campaign(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try kol(context)
        let id = try context.parameters.id(of: "campaign")
        let (campaign, brief, profile) = try await services.read(context) { connection in
            let campaign = try await services.workflows.visibleCampaign(id, actor: actor, on: connection)
            let brief = try await services.briefs.published(campaignID: id, on: connection)
            return (campaign, brief, try await services.kols.kol(id: actor.userID, on: connection))
        }
        var values = campaignSummary(campaign, state)
        let reasons = eligibilityReasons(campaign, profile, state)
        values["reasons"] = reasons
        values["can_register"] = campaign.status == .recruiting && reasons.isEmpty && !campaign.callerRegistered
        values["registered"] = campaign.callerRegistered
        values["closed"] = campaign.status != .recruiting
        values["idempotency_key"] = UUID().uuidString.lowercased()
        if let brief { values["brief"] = briefValues(brief, state) }
        return state.page("kol_campaign", title: campaign.title, values)
    }

    private func briefValues(_ brief: BriefRecord, _ state: ConsoleState) -> [String: Any] {
        let content = brief.content
        return [
            "version": brief.version, "key_messages": content.keyMessages, "dos": content.dos, "donts": content.donts,
            "hashtags": content.hashtags.joined(separator: " "), "mentions": content.mentions.joined(separator: " "),
            "references": content.references, "has_references": !content.references.isEmpty,
            "deliverables": content.deliverables.map { d -> [String: Any] in
                [
                    "what": "\(d.quantity) × \(d.platform.rawValue) \(state.text("format.\(d.format.rawValue)"))",
                    "draft_due": ConsoleFormat.time(d.draftDueAt, state.language),
                    "post_due": ConsoleFormat.time(d.postDueAt, state.language),
                ]
            },
        ]
    }

    @Sendable func registerForCampaign(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try kol(context)
        let id = try context.parameters.id(of: "campaign")
        var v = Validator()
        let pitch = v.text(state.form["pitch"] ?? "", "pitch", max: 2_000)
        try v.validate()
        let registration = try await services.write(context) {
            try await services.workflows.register(campaign: id, pitch: pitch, actor: actor, now: Date(), on: $0)
        }
        return ConsoleRenderer.redirect("/app/registrations/\(Self.id(registration.id))")
    }

    // MARK: Registrations

    @Sendable func registrations(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try kol(context)
        let overview = try await kolOverview(actor, context)
        let rows = overview.registrations.map { registrationRow($0, title: overview.titles[$0.campaignID] ?? "", state) }
        return state.page(
            "kol_registrations", title: state.text("kol.registrations.title"), ["registrations": rows, "no_registrations": rows.isEmpty])
    }

    @Sendable func registration(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try kol(context)
        let id = try context.parameters.id(of: "registration")
        let (registration, campaign, brief, deliverables) = try await services.read(context) { connection in
            let (registration, campaign) = try await services.workflows.visibleRegistration(id, actor: actor, on: connection)
            let brief = try await services.briefs.published(campaignID: campaign.id, on: connection)
            let deliverables = try await services.registrations.deliverables(registrationID: id, on: connection)
            return (registration, campaign, brief, deliverables)
        }
        var values: [String: Any] = [
            "id": Self.id(id), "campaign": campaign.title, "campaign_id": Self.id(campaign.id),
            "status": state.text("kol.registration.\(registration.status.rawValue)"), "pitch": registration.pitch,
            "deliverables": deliverables.map { deliverableRow($0, title: campaign.title, state) },
            "has_deliverables": !deliverables.isEmpty, "idempotency_key": UUID().uuidString.lowercased(),
        ]
        if let brief, registration.status == .accepted {
            values["brief"] = briefValues(brief, state)
            values["acknowledged"] = registration.briefVersionAcknowledged == brief.version
            values["can_acknowledge"] = registration.briefVersionAcknowledged != brief.version
        }
        return state.page("kol_registration", title: campaign.title, values)
    }

    @Sendable func acknowledge(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try kol(context)
        let id = try context.parameters.id(of: "registration")
        guard let version = state.form["version"].flatMap(Int.init) else { throw KolabError.invalid(field: "version", "is required") }
        _ = try await services.write(context) {
            try await services.workflows.acknowledgeBrief(registration: id, version: version, actor: actor, on: $0)
        }
        return ConsoleRenderer.redirect("/app/registrations/\(Self.id(id))")
    }

    // MARK: A deliverable

    @Sendable func deliverable(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try kol(context)
        let id = try context.parameters.id(of: "deliverable")
        let (deliverable, campaign, drafts) = try await services.read(context) { connection in
            let (deliverable, campaign) = try await services.workflows.visibleDeliverable(id, actor: actor, on: connection)
            return (deliverable, campaign, try await services.workflows.content.drafts(deliverableID: id, on: connection))
        }
        var values = deliverableRow(deliverable, title: campaign.title, state)
        values["draft_due"] = ConsoleFormat.time(deliverable.draftDueAt, state.language)
        values["post_due"] = ConsoleFormat.time(deliverable.postDueAt, state.language)
        if let insightsDue = deliverable.insightsDueAt { values["insights_due"] = ConsoleFormat.time(insightsDue, state.language) }
        values["idempotency_key"] = UUID().uuidString.lowercased()
        // Only the officer's words reach her: the brand's own messages are never shown (DESIGN.md).
        values["messages"] = drafts.flatMap { draft in
            draft.reviews.filter { ReviewDecision.kolMayRead(decision: $0.decision, reviewerRole: $0.reviewerRole) && !$0.message.isEmpty }
                .map { review -> [String: Any] in
                    [
                        "version": draft.version, "message": review.message, "decision": state.text("decision.\(review.decision.rawValue)"),
                        "at": ConsoleFormat.time(review.createdAt, state.language),
                    ]
                }
        }
        values["drafts"] = drafts.reversed().map { ["version": $0.version, "caption": $0.caption] as [String: Any] }
        let allowedRounds = campaign.maxRevisionRounds + deliverable.extraRounds
        switch deliverable.status {
        case .awaitingDraft:
            values["draft_form"] = true
        case .changesRequested:
            if deliverable.revisionRoundsUsed >= allowedRounds {
                values["past_cap"] = state.text("kol.deliverable.past_cap").replacingOccurrences(of: "{n}", with: "\(allowedRounds)")
            } else {
                values["draft_form"] = true
                values["previous_caption"] = drafts.last?.caption ?? ""
            }
        case .approved: values["post_form"] = true
        case .live: values["insights_form"] = true
        default: break
        }
        if let url = deliverable.postURL { values["post_url"] = url }
        return state.page("kol_deliverable", title: "\(campaign.title) · \(values["what"] as? String ?? "")", values)
    }

    /// The draft form's media: up to three links (`media_1`...), images unless the link names a video file.
    static func media(from form: [String: String]) -> [Media] {
        (1...3).compactMap { form["media_\($0)"]?.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }.map { url in
            let path = URL(string: url)?.path.lowercased() ?? ""
            let video = [".mp4", ".mov", ".webm", ".m4v"].contains { path.hasSuffix($0) }
            return Media(url: url, kind: video ? .video : .image)
        }
    }

    @Sendable func submitDraft(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try kol(context)
        let id = try context.parameters.id(of: "deliverable")
        var v = Validator()
        let (caption, media, notes) = DraftRules.validate(
            caption: state.form["caption"] ?? "", media: Self.media(from: state.form), notes: state.form["notes"] ?? "", into: &v)
        try v.validate()
        _ = try await services.write(context) {
            try await services.workflows.submitDraft(deliverable: id, caption: caption, media: media, notes: notes, actor: actor, on: $0)
        }
        return ConsoleRenderer.redirect("/app/deliverables/\(Self.id(id))")
    }

    @Sendable func submitPost(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try kol(context)
        let id = try context.parameters.id(of: "deliverable")
        let url = (state.form["url"] ?? "").trimmingCharacters(in: .whitespaces)
        var v = Validator()
        let postedAt = Self.jakartaTime(state.form["posted_at"]) ?? Date()
        DraftRules.validatePost(url: url, postedAt: postedAt, now: Date(), into: &v)
        try v.validate()
        _ = try await services.perform(.submitPost(url: url, postedAt: postedAt), deliverable: id, actor: actor, context)
        return ConsoleRenderer.redirect("/app/deliverables/\(Self.id(id))")
    }

    /// A `datetime-local` value (`2026-11-28T18:30`), read as Jakarta time.
    static func jakartaTime(_ text: String?) -> Date? {
        guard let text, !text.isEmpty else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = ConsoleFormat.jakarta
        formatter.dateFormat = text.count > 16 ? "yyyy-MM-dd'T'HH:mm:ss" : "yyyy-MM-dd'T'HH:mm"
        return formatter.date(from: text)
    }

    @Sendable func submitInsights(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try kol(context)
        let id = try context.parameters.id(of: "deliverable")
        var v = Validator()
        func count(_ name: String) -> Int64 {
            let raw = (state.form[name] ?? "").trimmingCharacters(in: .whitespaces)
            guard let value = Int64(raw.isEmpty ? "0" : raw) else {
                v.add(name, "must be a whole number")
                return 0
            }
            return value
        }
        let insights = Insights(
            reach: count("reach"), impressions: count("impressions"), views: count("views"), likes: count("likes"),
            comments: count("comments"), shares: count("shares"), saves: count("saves"), clicks: count("clicks"),
            evidenceUrls: (1...3).compactMap { state.form["evidence_url_\($0)"]?.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            })
        insights.validate(into: &v)
        try v.validate()
        _ = try await services.write(context) {
            try await services.workflows.submitInsights(deliverable: id, insights, actor: actor, now: Date(), on: $0)
        }
        return ConsoleRenderer.redirect("/app/deliverables/\(Self.id(id))")
    }

    // MARK: Payouts and profile

    func payouts(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try kol(context)
        let (page, labels) = try await services.read(context) { connection in
            let page = try await services.workflows.payouts.list(visibleTo: actor, PayoutFilter(), after: nil, limit: 200, on: connection)
            return (page, try await services.workflows.payouts.labels(payoutIDs: page.items.map(\.id), on: connection))
        }
        let rows = page.items.map { payout -> [String: Any] in
            let b = payout.breakdown
            var row: [String: Any] = [
                "campaign": labels[payout.id]?.campaignTitle ?? "",
                "status": state.text("kol.payout.\(payout.status.rawValue)"), "fee": ConsoleFormat.money(b.feeIdr, state.language),
                "bonus": ConsoleFormat.money(b.bonusIdr, state.language), "gross": ConsoleFormat.money(b.grossIdr, state.language),
                "tax": ConsoleFormat.money(b.taxIdr, state.language), "net": ConsoleFormat.money(b.netIdr, state.language),
            ]
            if let paid = payout.paidAt { row["paid"] = ConsoleFormat.time(paid, state.language) }
            if let hold = payout.holdReason { row["hold"] = hold.isEmpty ? nil : state.text("kol.payout.hold") }
            return row
        }
        return state.page("kol_payouts", title: state.text("kol.payouts.title"), ["payouts": rows, "no_payouts": rows.isEmpty])
    }

    @Sendable func profile(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try kol(context)
        guard let kol = try await services.read(context, { try await services.kols.kol(id: actor.userID, on: $0) }) else {
            throw KolabError.notFound("profile")
        }
        return profilePage(kol, state, saved: request.uri.queryParameters.get("saved") != nil)
    }

    private func profilePage(_ kol: KolRecord, _ state: ConsoleState, saved: Bool) -> Response {
        let accounts = kol.socialAccounts + Array(repeating: SocialAccount(platform: .instagram, handle: "", followers: 0), count: 2)
        let rows = accounts.prefix(max(3, kol.socialAccounts.count + 1)).enumerated().map { index, account -> [String: Any] in
            [
                "index": index, "number": index + 1, "handle": account.handle,
                "followers": account.handle.isEmpty ? "" : "\(account.followers)",
                "platforms": Platform.allCases.map { ["value": $0.rawValue, "selected": $0 == account.platform] as [String: Any] },
            ]
        }
        return state.page(
            "kol_profile", title: state.text("kol.profile.title"),
            [
                "full_name": kol.fullName, "city": kol.city, "region": kol.region, "niches": kol.niches.joined(separator: ", "),
                "accounts": rows, "version": kol.version, "saved": saved, "idempotency_key": UUID().uuidString.lowercased(),
                "bank_name": kol.bank?.bankName ?? "", "bank_code": kol.bank?.bankCode ?? "",
                "account_number": kol.bank?.accountNumber ?? "", "account_holder": kol.bank?.accountHolder ?? "",
            ])
    }

    /// Saves the profile as `PATCH /v1/kols/{id}` does, guarded by the version the form was read at.
    @Sendable func saveProfile(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try kol(context)
        let form = state.form
        guard let version = form["version"].flatMap(Int.init) else { throw KolabError.invalid(field: "version", "is required") }
        var v = Validator()
        var accounts: [SocialAccount] = []
        for index in 0..<10 {
            let handle = (form["social_accounts[\(index)].handle"] ?? "").trimmingCharacters(in: .whitespaces)
            guard !handle.isEmpty else { continue }
            guard let platform = form["social_accounts[\(index)].platform"].flatMap(Platform.init(rawValue:)) else {
                v.add("social_accounts[\(index)].platform", "is not a platform")
                continue
            }
            guard let followers = Int64((form["social_accounts[\(index)].followers"] ?? "").trimmingCharacters(in: .whitespaces)) else {
                v.add("social_accounts[\(index)].followers", "must be a whole number")
                continue
            }
            accounts.append(SocialAccount(platform: platform, handle: handle, followers: followers))
        }
        let bankFields = ["bank_name", "bank_code", "account_number", "account_holder"].map {
            (form[$0] ?? "").trimmingCharacters(in: .whitespaces)
        }
        let bank =
            bankFields.allSatisfy(\.isEmpty)
            ? nil
            : KolRules.validateBank(
                BankDetails(bankName: bankFields[0], bankCode: bankFields[1], accountNumber: bankFields[2], accountHolder: bankFields[3]),
                into: &v)
        let changes = KolStore.Changes(
            fullName: v.text(form["full_name"] ?? "", "full_name"), city: v.text(form["city"] ?? "", "city", max: 100),
            region: v.text(form["region"] ?? "", "region", max: 100),
            niches: KolRules.normalizeNiches(
                (form["niches"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty },
                into: &v),
            socialAccounts: KolRules.validateSocialAccounts(accounts, into: &v), bank: bank)
        try v.validate()
        let saved = try await services.write(context) {
            try await services.kols.update(kolID: actor.userID, expectedVersion: version, changes, on: $0)
        }
        guard saved else {
            throw KolabError(.conflict, state.text("kol.profile.changed"))
        }
        return ConsoleRenderer.redirect("/app/profile?saved=1")
    }
}
