import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import NIOCore
import PostgresNIO

/// The pages of a guest review link (DESIGN.md, "Web console", "Guest review links"): the campaign's
/// drafts waiting for brand review, each draft's page (the brand's own, `DraftView`), and the
/// decision, recorded through the review workflow as a brand review by the guest. `ConsoleMiddleware`
/// (with `guests`) finds the link first: 404 for an unknown token, 410 for a revoked or expired one.
struct GuestReviewController {
    let services: Services

    func register(_ group: RouterGroup<KolabRequestContext>) {
        group.get(":token", use: queue)
        group.get(":token/drafts/:id", use: draft)
        group.post(":token/drafts/:id/reviews", use: review)
    }

    /// The plain page of a revoked or expired link: what happened and whom to ask, nothing to follow.
    static func linkGone(_ state: ConsoleState) -> Response {
        state.page("link_gone", title: state.text("guest.gone.title"), [:], status: .gone)
    }

    @Sendable func queue(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, guest) = try context.consoleGuest()
        let queue = try await services.read(context) {
            try await services.worklist.brandReviewQueue(
                brandID: guest.reviewer.brandID, campaignID: guest.reviewer.campaignID, limit: 200, on: $0)
        }
        let done = request.uri.queryParameters.get("done").flatMap { ["approve", "request_changes"].contains($0) ? String($0) : nil }
        var values: [String: Any] = [
            "campaign": guest.campaignTitle, "queue": queue.map { row($0, guest: guest, state) }, "queue_empty": queue.isEmpty,
            "expires": ConsoleFormat.time(guest.expiresAt, state.language), "expires_iso": ConsoleFormat.machine(guest.expiresAt),
        ]
        if let done { values["done"] = state.text("draft.done.\(done)") }
        return state.page("guest_queue", title: "\(state.text("guest.title")) · \(guest.campaignTitle)", values)
    }

    private func row(_ entry: WorklistStore.ReviewQueueEntry, guest: ConsoleState.Guest, _ state: ConsoleState) -> [String: Any] {
        [
            "href": "\(guest.home)/drafts/\(entry.draftID.uuidString.lowercased())", "version": entry.version,
            "caption": entry.caption.isEmpty ? state.text("draft.no_caption") : String(entry.caption.prefix(120)),
            "kol": entry.kolName, "deliverable": "\(entry.platform) · \(state.text("format.\(entry.format)"))",
            "since": ConsoleFormat.time(entry.waitingSince, state.language), "since_iso": ConsoleFormat.machine(entry.waitingSince),
            "due": ConsoleFormat.time(entry.draftDueAt, state.language), "due_iso": ConsoleFormat.machine(entry.draftDueAt),
            "overdue": entry.draftDueAt < Date(),
        ]
    }

    /// The brand's draft page, for a draft of the link's campaign waiting for brand review (else 404).
    @Sendable func draft(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, guest) = try context.consoleGuest()
        let id = try context.parameters.id(of: "draft")
        let view = try await services.read(context) { try await DraftView.load(id, guest: guest.reviewer, services: services, on: $0) }
        return state.page(
            "draft", title: view.title(state),
            view.values(
                state, actionPath: "\(guest.home)/drafts/\(view.draft.id.uuidString.lowercased())/reviews",
                back: (guest.home, state.text("guest.back"))))
    }

    /// Approve or request changes: the review workflow with the guest as a brand reviewer. The draft
    /// then no longer waits, so the answer leads back to the link's list.
    @Sendable func review(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (state, guest) = try context.consoleGuest()
        let id = try context.parameters.id(of: "draft")
        let (decision, message) = try await services.input(
            context, access: { _ = try await services.workflows.visibleDraft(id, guest: guest.reviewer, on: $0) }
        ) { try DraftView.decision(from: state.form) }
        _ = try await services.write(context) {
            try await services.workflows.review(draft: id, decision: decision, message: message, reviewer: .guest(guest.reviewer), on: $0)
        }
        return ConsoleRenderer.redirect("\(guest.home)?done=\(decision.rawValue)")
    }
}

extension KolabRequestContext {
    /// The console's state and the live review link of a guest page.
    func consoleGuest() throws -> (ConsoleState, ConsoleState.Guest) {
        let state = try consoleState()
        guard let guest = state.guest else { throw KolabError(.internal, "a guest page ran without its review link") }
        return (state, guest)
    }
}
