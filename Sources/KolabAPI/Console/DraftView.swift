import Foundation
import KolabDomain
import KolabStore
import PostgresNIO

/// The draft page (DESIGN.md, "Web console", brand): the caption and media, the brief beside it with
/// its hashtags and mentions found or missing, the previous version with the words that changed, the
/// review history the reader may see, and the decision form when the draft waits on this reader.
/// Signed-in brand users and guest reviewers (a review link) see the same page.
struct DraftView {
    let draft: DraftRecord
    let previous: DraftRecord?
    let deliverable: DeliverableRecord
    let campaign: CampaignRecord
    let brief: BriefRecord?
    let kolName: String
    let history: [(version: Int, review: ReviewRecord)]
    /// Whether the reader may decide now: the current version, in brand review, and a brand reader.
    let canDecide: Bool

    /// A signed-in reader's page: all versions in one statement, then the deliverable with its campaign
    /// (the API's visibility rule), the brief version and the KOL's name: four round trips.
    static func load(_ id: UUID, actor: Actor, services: Services, on connection: PostgresConnection) async throws -> DraftView {
        let drafts = try await services.workflows.content.versions(ofDraft: id, on: connection)
        guard let draft = drafts.first(where: { $0.id == id }) else { throw KolabError.notFound("draft") }
        let deliverable: DeliverableRecord
        let campaign: CampaignRecord
        do {
            (deliverable, campaign) = try await services.workflows.visibleDeliverable(draft.deliverableID, actor: actor, on: connection)
        } catch let error as KolabError where error.code == .notFound {
            throw KolabError.notFound("draft")
        }
        return try await load(draft, deliverable, campaign: campaign, drafts: drafts, reader: actor, services: services, on: connection)
    }

    /// The page of a guest holding a review link: only a draft of the link's campaign that waits for
    /// brand review (else 404); the guest reads it as the campaign's brand does.
    static func load(_ id: UUID, guest: GuestReviewer, services: Services, on connection: PostgresConnection) async throws -> DraftView {
        let view = try await load(id, actor: guest.actor, services: services, on: connection)
        try Workflows.checkGuest(guest, sees: view.draft, of: view.deliverable)
        return view
    }

    private static func load(
        _ draft: DraftRecord, _ deliverable: DeliverableRecord, campaign: CampaignRecord, drafts: [DraftRecord], reader actor: Actor,
        services: Services, on connection: PostgresConnection
    ) async throws -> DraftView {
        let brief = try await services.briefs.version(campaignID: campaign.id, version: deliverable.briefVersion, on: connection)
        let kolName = try await services.kols.fullName(ofKol: deliverable.kolID, on: connection)
        let history = drafts.flatMap { version in
            version.reviews
                .filter { actor.role != .kol || ReviewDecision.kolMayRead(decision: $0.decision, reviewerRole: $0.reviewerRole) }
                .map { (version: version.version, review: $0) }
        }
        return DraftView(
            draft: draft, previous: drafts.last { $0.version == draft.version - 1 }, deliverable: deliverable, campaign: campaign,
            brief: brief, kolName: kolName ?? "",
            history: history,
            canDecide: actor.role == .brand && deliverable.status == .inBrandReview
                && draft.version == deliverable.currentDraftVersion)
    }

    /// The decision a form asks for, checked as the API checks it (feedback required to ask for changes).
    static func decision(from form: [String: String]) throws -> (ReviewDecision, String) {
        guard let raw = form["decision"], let decision = ReviewDecision(rawValue: raw),
            decision == .approve || decision == .requestChanges
        else { throw KolabError.invalid(field: "decision", "Choose Approve or Request changes.") }
        var v = Validator()
        let message = DraftRules.validateMessage(form["message"] ?? "", decision: decision, into: &v)
        try v.validate()
        return (decision, message)
    }

    func title(_ state: ConsoleState) -> String {
        "\(kolName) · \(campaign.title) · v\(draft.version)"
    }

    func values(_ state: ConsoleState, actionPath: String, back: (path: String, label: String), done: String? = nil) -> [String: Any] {
        let language = state.language
        var values: [String: Any] = [
            "back": back.path, "back_label": back.label,
            "draft_id": draft.id.uuidString.lowercased(), "version": draft.version, "kol": kolName, "campaign": campaign.title,
            "campaign_id": campaign.id.uuidString.lowercased(),
            "deliverable": "\(deliverable.platform.rawValue) · \(state.text("format.\(deliverable.format.rawValue)"))",
            "status": state.text("deliverable.status.\(deliverable.status.rawValue)"),
            "submitted": ConsoleFormat.time(draft.submittedAt, language), "submitted_iso": ConsoleFormat.machine(draft.submittedAt),
            "due": ConsoleFormat.time(deliverable.draftDueAt, language), "due_iso": ConsoleFormat.machine(deliverable.draftDueAt),
            "caption": draft.caption, "notes": draft.notes, "has_notes": !draft.notes.isEmpty,
            "media": draft.media.map { media -> [String: Any] in
                let kind = media.kind.rawValue
                return ["url": media.url, "is_image": kind == "image", "is_video": kind == "video", "kind": kind]
            },
            "has_media": !draft.media.isEmpty,
            "can_decide": canDecide, "action": actionPath, "idempotency_key": UUID().uuidString.lowercased(),
            "history": history.map { entry -> [String: Any] in
                [
                    "version": entry.version, "decision": state.text("decision.\(entry.review.decision.rawValue)"),
                    "role": entry.review.reviewLinkID == nil
                        ? state.text("role.\(entry.review.reviewerRole.rawValue)")
                        : "\(state.text("role.guest")) (\(entry.review.guestName ?? ""))",
                    "message": entry.review.message,
                    "has_message": !entry.review.message.isEmpty,
                    "at": ConsoleFormat.time(entry.review.createdAt, language), "at_iso": ConsoleFormat.machine(entry.review.createdAt),
                ]
            },
            "no_history": history.isEmpty,
        ]
        if let done { values["done"] = state.text("draft.done.\(done)") }
        if let previous {
            let (old, new) = CaptionReview.compare(previous: previous.caption, current: draft.caption)
            values["previous_version"] = previous.version
            values["previous_segments"] = old.map(Self.segment)
            values["current_segments"] = new.map(Self.segment)
        }
        if let brief {
            let content = brief.content
            let checks = CaptionReview.checklist(caption: draft.caption, hashtags: content.hashtags, mentions: content.mentions)
            values["brief"] =
                [
                    "version": brief.version, "key_messages": content.keyMessages, "dos": content.dos, "donts": content.donts,
                    "checks": checks.map { ["tag": $0.tag, "found": $0.found] as [String: Any] },
                    "has_checks": !checks.isEmpty, "has_key_messages": !content.keyMessages.isEmpty, "has_dos": !content.dos.isEmpty,
                    "has_donts": !content.donts.isEmpty, "missing": checks.filter { !$0.found }.count,
                ] as [String: Any]
        }
        return values
    }

    private static func segment(_ segment: CaptionReview.Segment) -> [String: Any] {
        ["text": segment.text, "removed": segment.kind == .removed, "added": segment.kind == .added, "same": segment.kind == .same]
    }
}
