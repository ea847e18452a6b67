import Foundation
import Hummingbird
import KolabDomain
import KolabStore
import PostgresNIO

/// Finance's pages (DESIGN.md, "Web console", finance; issue 17): the approved payouts waiting for a
/// batch, every payout by status, the batches with their lines, the bank file and settling. Thin
/// callers of the API's workflows (`createBatch`, `approvePayout`, `settle`) and of its export, so
/// roles, visibility, states and idempotency are the API's; every total is the sum of the lines shown.
///
/// Payouts are invisible to brands, and a KOL reads hers on her own page (`/app/payouts` is hers when
/// she opens it): to both, the other pages do not exist (404). Officers see the payouts of their
/// campaigns and may approve them, as in the API; batches are finance's and admins' (an officer gets
/// the API's 403 for the list and 404 for a batch).
struct FinancePages {
    let services: Services

    func register(_ group: RouterGroup<KolabRequestContext>) {
        group.get("payouts", use: payouts)
        group.get("payouts/:id", use: payout)
        group.post("payouts/:id/approve", use: approve)
        group.get("payout-batches", use: batches)
        group.post("payout-batches", use: createBatch)
        group.get("payout-batches/:id", use: batch)
        group.get("payout-batches/:id/export.csv", use: export)
        group.post("payout-batches/:id/mark-paid", use: markPaid)
        group.post("payout-batches/:id/mark-failed", use: markFailed)
    }

    /// The signed-in user of a finance page: finance, admins and officers; brands and KOLs get 404.
    private func user(_ context: KolabRequestContext) throws -> (ConsoleState, Actor) {
        let (state, actor) = try context.consoleUser()
        guard actor.role == .finance || actor.role == .admin || actor.role == .officer else { throw KolabError.notFound("page") }
        return (state, actor)
    }

    /// What every finance page passes to its template: the section links the role may follow.
    private func common(_ actor: Actor) -> [String: Any] {
        [
            "is_finance": actor.role == .finance, "sees_batches": PayoutMachine.seesBatches(actor.role),
            "idempotency_key": UUID().uuidString.lowercased(),
        ]
    }

    // MARK: Waiting for a batch

    /// The start page at `/app` for finance: approved payouts not yet in a batch, those the next batch
    /// takes and those held for missing bank details, each list with its count and totals.
    func home(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try user(context)
        let (approved, labels) = try await services.read(context) { connection in
            let approved = try await everyPayout(visibleTo: actor, PayoutFilter(status: .approved), on: connection)
            return (approved, try await services.workflows.payouts.labels(payoutIDs: approved.map(\.id), on: connection))
        }
        // `createBatch` takes approved payouts outside any batch whose KOL has bank details.
        let waiting = approved.filter { $0.batchID == nil }
        let ready = waiting.filter { $0.holdReason == nil }
        let held = waiting.filter { $0.holdReason != nil }
        var values = common(actor)
        values["ready"] = table(ready, labels, state)
        values["ready_empty"] = ready.isEmpty
        values["held"] = held.isEmpty ? nil : table(held, labels, state)
        return state.page("finance_home", title: state.text("finance.home.title"), values)
    }

    /// Rows and totals of a list of payouts (the totals are the sums of exactly these rows).
    private func table(_ payouts: [PayoutRecord], _ labels: [UUID: PayoutLabel], _ state: ConsoleState) -> [String: Any] {
        ["rows": payouts.map { row($0, labels[$0.id], state, actor: nil) }, "totals": totals(payouts.map(\.breakdown), state)]
    }

    private func totals(_ lines: [PayoutBreakdown], _ state: ConsoleState) -> [String: Any] {
        let gross = lines.reduce(Int64(0)) { $0 + $1.grossIdr }
        let tax = lines.reduce(Int64(0)) { $0 + $1.taxIdr }
        let net = lines.reduce(Int64(0)) { $0 + $1.netIdr }
        return [
            "count": lines.count, "count_label": Self.countLabel(lines.count, state), "gross_idr": gross, "tax_idr": tax, "net_idr": net,
            "gross": ConsoleFormat.money(gross, state.language),
            "tax": ConsoleFormat.money(tax, state.language), "net": ConsoleFormat.money(net, state.language),
        ]
    }

    /// `1 payout`, `2 payouts` (Bahasa Indonesia has one form).
    static func countLabel(_ count: Int, _ state: ConsoleState) -> String {
        "\(count) \(state.text(count == 1 ? "finance.payouts.count_one" : "finance.payouts.count"))"
    }

    /// One payout as a line of a list; with `actor`, the links and the approve form that actor may use.
    private func row(_ payout: PayoutRecord, _ label: PayoutLabel?, _ state: ConsoleState, actor: Actor?) -> [String: Any] {
        let language = state.language
        let b = payout.breakdown
        var row: [String: Any] = [
            "id": payout.id.uuidString.lowercased(), "kol": label?.kolName ?? "", "campaign": label?.campaignTitle ?? "",
            "campaign_id": payout.campaignID.uuidString.lowercased(),
            "status": state.text("finance.payout.status.\(payout.status.rawValue)"),
            "status_key": payout.status.rawValue, "gross_idr": b.grossIdr, "tax_idr": b.taxIdr, "net_idr": b.netIdr,
            "gross": ConsoleFormat.money(b.grossIdr, language), "tax": ConsoleFormat.money(b.taxIdr, language),
            "net": ConsoleFormat.money(b.netIdr, language), "held": payout.holdReason != nil,
        ]
        if let at = payout.approvedAt {
            row["approved_at"] = ConsoleFormat.time(at, language)
            row["approved_at_iso"] = ConsoleFormat.machine(at)
        }
        if let at = payout.paidAt {
            row["paid_at"] = ConsoleFormat.time(at, language)
            row["paid_at_iso"] = ConsoleFormat.machine(at)
        }
        if let reference = payout.bankReference { row["bank_reference"] = reference }
        if let reason = payout.failureReason { row["failure_reason"] = reason }
        if let actor {
            if let batch = payout.batchID, PayoutMachine.seesBatches(actor.role) { row["batch_id"] = batch.uuidString.lowercased() }
            if (try? PayoutMachine.transition(from: payout.status, .approve, by: actor.role)) != nil {
                row["can_approve"] = true
                row["approve_label"] = state.text(payout.status == .failed ? "finance.reapprove" : "finance.approve")
            }
        }
        return row
    }

    /// Every payout of `filter` the actor sees, page after page of the API's own list.
    private func everyPayout(visibleTo actor: Actor, _ filter: PayoutFilter, on connection: PostgresConnection) async throws
        -> [PayoutRecord]
    {
        var all: [PayoutRecord] = []
        var after: PagePosition?
        repeat {
            let page = try await services.workflows.payouts.list(visibleTo: actor, filter, after: after, limit: 500, on: connection)
            all += page.items
            after = page.next
        } while after != nil
        return all
    }

    /// Takes every approved payout into a new batch (the API's workflow: one batch per payout, whoever
    /// clicks at the same moment). Nothing to take is the API's 409, as a page saying what to do.
    @Sendable func createBatch(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try user(context)
        let batch: BatchRecord? = try await services.write(context) { connection in
            do {
                return try await services.workflows.createBatch(actor: actor, on: connection)
            } catch let error as KolabError where error.code == .conflict {
                return nil  // nothing was taken, so nothing is left to roll back
            }
        }
        guard let batch else {
            var values = common(actor)
            values["detail"] = state.text("finance.nothing.advice")
            return state.page("finance_nothing", title: state.text("finance.nothing.title"), values, status: .conflict)
        }
        return ConsoleRenderer.redirect("/app/payout-batches/\(batch.id.uuidString.lowercased())?done=created")
    }

    // MARK: Payouts

    static let pageSize = 100

    /// Every payout the user sees, oldest first, by status, 100 to a page with the page's totals. A KOL's
    /// own payouts share the address (DESIGN.md lists one `/app/payouts`) and are her page.
    @Sendable func payouts(_ request: Request, context: KolabRequestContext) async throws -> Response {
        if try context.consoleUser().1.role == .kol { return try await KolPages(services: services).payouts(request, context: context) }
        let (state, actor) = try user(context)
        var filter = PayoutFilter()
        if let raw = request.uri.queryParameters.get("status"), !raw.isEmpty {
            guard let status = PayoutStatus(rawValue: raw) else {
                throw KolabError.invalid(field: "status", state.text("finance.error.status"))
            }
            filter.status = status
        }
        let after = try request.uri.queryParameters.get("after").map(Self.position)
        let (page, labels) = try await services.read(context) { connection in
            let page = try await services.workflows.payouts.list(
                visibleTo: actor, filter, after: after, limit: Self.pageSize, on: connection)
            return (page, try await services.workflows.payouts.labels(payoutIDs: page.items.map(\.id), on: connection))
        }
        let status = filter.status?.rawValue
        var values = common(actor)
        values["filters"] = ([nil] + PayoutStatus.allCases.map(\.rawValue)).map { key -> [String: Any] in
            [
                "href": key.map { "/app/payouts?status=\($0)" } ?? "/app/payouts", "current": key == status,
                "label": state.text(key.map { "finance.filter.\($0)" } ?? "finance.filter.all"),
            ]
        }
        values["rows"] = page.items.map { row($0, labels[$0.id], state, actor: actor) }
        values["totals"] = totals(page.items.map(\.breakdown), state)
        values["empty"] = page.items.isEmpty
        values["heading"] = state.text(status.map { "finance.filter.\($0)" } ?? "finance.filter.all")
        if let next = page.next {
            values["next"] =
                "/app/payouts?" + (status.map { "status=\($0)&" } ?? "") + "after=\(next.micros)_\(next.id.uuidString.lowercased())"
        }
        return state.page("finance_payouts", title: state.text("finance.payouts.title"), values)
    }

    /// A list position as the next-page link writes it (`{micros}_{id}`).
    static func position(_ raw: String) throws -> PagePosition {
        let parts = raw.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else {
            throw KolabError(.malformed, "The page link is broken; open the list from its first page.")
        }
        return PagePosition(micros: micros, id: id)
    }

    /// One payout with its breakdown, where it stands, and the approve form when the user may approve it.
    @Sendable func payout(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try user(context)
        let id = try context.parameters.id(of: "payout")
        let (payout, labels) = try await services.read(context) { connection in
            let payout = try await services.workflows.visiblePayout(id, actor: actor, on: connection)
            return (payout, try await services.workflows.payouts.labels(payoutIDs: [id], on: connection))
        }
        let language = state.language
        let b = payout.breakdown
        var values = common(actor).merging(row(payout, labels[id], state, actor: actor)) { _, row in row }
        var figures: [[String: Any]] = [
            ["label": state.text("finance.payout.fee"), "value": ConsoleFormat.money(b.feeIdr, language)],
            ["label": state.text("finance.payout.bonus"), "value": ConsoleFormat.money(b.bonusIdr, language)],
            ["label": state.text("finance.gross"), "value": ConsoleFormat.money(b.grossIdr, language)],
            ["label": state.text("finance.tax"), "value": ConsoleFormat.money(b.taxIdr, language)],
            ["label": state.text("finance.net"), "value": ConsoleFormat.money(b.netIdr, language)],
        ]
        figures.append(["label": state.text("finance.payout.withholding"), "value": Self.percent(basisPoints: b.withholdingBp, language)])
        if let metric = b.metric {
            figures.append(["label": state.text("finance.payout.metric"), "value": state.text("finance.metric.\(metric.rawValue)")])
            figures.append(["label": state.text("finance.payout.metric_value"), "value": ConsoleFormat.number(b.metricValue, language)])
            if let rate = b.rateIdrPer1000 {
                figures.append(["label": state.text("finance.payout.rate"), "value": ConsoleFormat.money(rate, language)])
            }
            if let cap = b.capIdr {
                figures.append(["label": state.text("finance.payout.cap"), "value": ConsoleFormat.money(cap, language)])
            }
        } else {
            figures.append(["label": state.text("finance.payout.bonus_terms"), "value": state.text("finance.payout.no_bonus")])
        }
        values["figures"] = figures
        if request.uri.queryParameters.get("done") == "approved" { values["done"] = state.text("finance.done.approved") }
        let label = labels[id]
        return state.page("finance_payout", title: "\(label?.kolName ?? "") · \(label?.campaignTitle ?? "")", values)
    }

    /// `250` basis points as `2.5%` (`2,5%` in Bahasa Indonesia).
    static func percent(basisPoints: Int, _ language: ConsoleLanguage) -> String {
        let whole = basisPoints / 100
        let fraction = basisPoints % 100
        guard fraction != 0 else { return "\(whole)%" }
        let digits = fraction % 10 == 0 ? "\(fraction / 10)" : String(format: "%02d", fraction)
        return "\(whole)\(language == .id ? "," : ".")\(digits)%"
    }

    /// Approves a calculated payout, or a failed one again for a later batch: the API's approve workflow.
    @Sendable func approve(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try user(context)
        let id = try context.parameters.id(of: "payout")
        _ = try await services.write(context) { connection in
            do {
                return try await services.workflows.approvePayout(id, actor: actor, on: connection)
            } catch let error as KolabError where error.code == .conflict {
                throw KolabError.conflict(state.text("finance.error.approve_conflict"))
            }
        }
        return ConsoleRenderer.redirect("/app/payouts/\(id.uuidString.lowercased())?done=approved")
    }

    // MARK: Batches

    /// Every batch, newest first, with its counts and totals (and the totals of them all).
    @Sendable func batches(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try user(context)
        try PayoutMachine.checkBatchAccess(actor.role)
        let batches = try await services.read(context) { connection in
            var all: [BatchRecord] = []
            var after: PagePosition?
            repeat {
                let page = try await services.workflows.payouts.listBatches(after: after, limit: 500, on: connection)
                all += page.items
                after = page.next
            } while after != nil
            return all
        }
        let language = state.language
        var values = common(actor)
        values["rows"] = batches.reversed().map { batch -> [String: Any] in
            [
                "id": batch.id.uuidString.lowercased(), "title": Self.title(batch, state),
                "created_iso": ConsoleFormat.machine(batch.createdAt),
                "status": state.text("finance.batch.status.\(batch.status.rawValue)"),
                "count": batch.payoutCount, "paid": batch.paidCount, "failed": batch.failedCount,
                "gross_idr": batch.totalGrossIdr, "tax_idr": batch.totalTaxIdr, "net_idr": batch.totalNetIdr,
                "gross": ConsoleFormat.money(batch.totalGrossIdr, language), "tax": ConsoleFormat.money(batch.totalTaxIdr, language),
                "net": ConsoleFormat.money(batch.totalNetIdr, language),
            ]
        }
        let gross = batches.reduce(Int64(0)) { $0 + $1.totalGrossIdr }
        let tax = batches.reduce(Int64(0)) { $0 + $1.totalTaxIdr }
        let net = batches.reduce(Int64(0)) { $0 + $1.totalNetIdr }
        values["totals"] = [
            "count": batches.reduce(0) { $0 + $1.payoutCount }, "gross_idr": gross, "tax_idr": tax, "net_idr": net,
            "gross": ConsoleFormat.money(gross, language), "tax": ConsoleFormat.money(tax, language),
            "net": ConsoleFormat.money(net, language),
        ]
        values["empty"] = batches.isEmpty
        return state.page("finance_batches", title: state.text("finance.batches.title"), values)
    }

    /// A batch is named by when it was made (and the start of its id, should two share a minute).
    static func title(_ batch: BatchRecord, _ state: ConsoleState) -> String {
        "\(state.text("finance.batch.title")) \(ConsoleFormat.time(batch.createdAt, state.language)) · \(batch.id.uuidString.lowercased().prefix(8))"
    }

    /// A batch: its lines in file order with where each stands, their totals, the bank file, and one
    /// form to settle the chosen lines (paid with the bank's reference, or failed with the reason).
    @Sendable func batch(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, actor) = try user(context)
        let id = try context.parameters.id(of: "payout batch")
        let (batch, lines, payouts, labels, creator) = try await services.read(context) { connection in
            let batch = try await services.workflows.visibleBatch(id, actor: actor, on: connection)
            let lines = try await services.workflows.payouts.batchLines(batchID: id, on: connection)
            let payouts = try await everyPayout(visibleTo: actor, PayoutFilter(batchID: id), on: connection)
            let labels = try await services.workflows.payouts.labels(payoutIDs: lines.map(\.payoutID), on: connection)
            let creator = try await services.accounts.user(id: batch.createdBy, on: connection)?.displayName
            return (batch, lines, Dictionary(payouts.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }), labels, creator)
        }
        let language = state.language
        var awaiting = 0
        var paid = 0
        var failed = 0
        let rows = lines.compactMap { line -> [String: Any]? in
            guard let payout = payouts[line.payoutID] else { return nil }
            var row = self.row(payout, labels[line.payoutID], state, actor: nil)
            row["line"] = line.line
            row["account"] = "\(line.bankCode) · \(line.accountNumber) · \(line.accountName)"
            if payout.batchID != id {
                // It failed in this batch and was approved again: it is settled in a later one.
                failed += 1
                row["status"] = state.text("finance.batch.moved")
                if let later = payout.batchID { row["later_batch"] = later.uuidString.lowercased() }
            } else {
                switch payout.status {
                case .exported:
                    awaiting += 1
                    row["awaiting"] = true
                case .paid: paid += 1
                default: failed += 1
                }
            }
            return row
        }
        let shown = lines.compactMap { payouts[$0.payoutID]?.breakdown }
        var values = common(actor)
        values["id"] = id.uuidString.lowercased()
        values["title"] = Self.title(batch, state)
        values["status"] = state.text("finance.batch.status.\(batch.status.rawValue)")
        values["created"] = ConsoleFormat.time(batch.createdAt, language)
        values["created_iso"] = ConsoleFormat.machine(batch.createdAt)
        values["creator"] = creator ?? ""
        values["rows"] = rows
        values["totals"] = totals(shown, state)
        values["counts"] = ["paid": paid, "failed": failed, "awaiting": awaiting]
        values["any_awaiting"] = awaiting > 0
        if let done = request.uri.queryParameters.get("done"), ["created", "paid", "failed"].contains(done) {
            values["done"] = state.text("finance.done.\(done)")
        }
        return state.page("finance_batch", title: Self.title(batch, state), values)
    }

    /// The bank file: the API's own export (`GET /v1/payout-batches/{id}/export.csv`), the same bytes.
    @Sendable func export(_ request: Request, context: KolabRequestContext) async throws -> Response {
        _ = try user(context)
        return try await PayoutController(services: services).export(request, context: context)
    }

    @Sendable func markPaid(_ request: Request, context: KolabRequestContext) async throws -> Response {
        try await settle(request, context: context, paid: true)
    }

    @Sendable func markFailed(_ request: Request, context: KolabRequestContext) async throws -> Response {
        try await settle(request, context: context, paid: false)
    }

    /// The API's mark-paid / mark-failed: the chosen lines (`payout_ids`), all of them or none.
    func settle(_ request: Request, context: KolabRequestContext, paid: Bool) async throws -> Response {
        let (state, actor) = try user(context)
        let id = try context.parameters.id(of: "payout batch")
        let (payoutIDs, note) = try await services.input(
            context, access: { _ = try await services.workflows.visibleBatch(id, actor: actor, on: $0) }
        ) { try Self.settlement(state, paid: paid) }
        _ = try await services.write(context) { connection in
            do {
                return try await services.workflows.settle(
                    batch: id, payoutIDs: payoutIDs, paid: paid, note: note, actor: actor, on: connection)
            } catch let error as KolabError where error.code == .conflict {
                // Thrown on, so that the lines already moved roll back (all or none).
                throw KolabError.conflict(state.text("finance.error.settle_conflict"))
            }
        }
        return ConsoleRenderer.redirect("/app/payout-batches/\(id.uuidString.lowercased())?done=\(paid ? "paid" : "failed")")
    }

    /// The settle form's fields, checked as the API checks its body: at least one payout id, and the
    /// bank reference (at most 200 characters) or the reason (at most 2,000).
    static func settlement(_ state: ConsoleState, paid: Bool) throws -> ([UUID], String) {
        var v = Validator()
        let raw = state.formValues["payout_ids"] ?? []
        let ids = raw.compactMap { UUID(uuidString: $0) }
        if raw.isEmpty || raw.count > 100_000 {
            v.add("payout_ids", state.text("finance.error.choose_lines"))
        } else if ids.count != raw.count {
            v.add("payout_ids", state.text("finance.error.payout_ids"))
        }
        let field = paid ? "bank_reference" : "reason"
        let note = (state.form[field] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if note.isEmpty || note.count > (paid ? 200 : 2_000) { v.add(field, state.text("finance.error.\(field)")) }
        try v.validate()
        return (Array(Set(ids)), note)
    }
}
