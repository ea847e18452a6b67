import Foundation
import KolabDomain
import Testing

@Suite("Deliverable lifecycle")
struct DeliverableMachineTests {
    typealias S = DeliverableStatus

    /// The contract's table: (state, action, role) -> next state. Everything else is refused.
    static func expected(_ status: S, _ action: DeliverableAction, _ role: Role, _ rules: DeliverableRules) -> S? {
        let staff = role == .officer || role == .admin
        switch (status, action) {
        case (.awaitingDraft, .submitDraft) where role == .kol: return .draftSubmitted
        case (.changesRequested, .submitDraft) where role == .kol:
            return rules.revisionRoundsUsed < rules.revisionRoundsAllowed ? .draftSubmitted : nil
        case (.draftSubmitted, .forward) where staff: return .inBrandReview
        case (.draftSubmitted, .requestChanges) where staff: return .changesRequested
        case (.draftSubmitted, .approve) where staff: return rules.brandReviewRequired ? nil : .approved
        case (.inBrandReview, .approve) where role == .brand: return .approved
        case (.inBrandReview, .requestChanges) where role == .brand: return .brandFeedback
        case (.brandFeedback, .relay) where staff: return .changesRequested
        case (.approved, .submitPost) where role == .kol: return .posted
        case (.posted, .verifyPost) where staff: return .live
        case (.posted, .rejectPost) where staff: return .approved
        case (.live, .submitInsights) where role == .kol: return .insightsSubmitted
        case (.insightsSubmitted, .verifyInsights) where staff: return .completed
        case (.insightsSubmitted, .rejectInsights) where staff: return .live
        case (_, .cancel) where staff && status != .completed && status != .cancelled: return .cancelled
        default: return nil
        }
    }

    static let ruleSets = [
        DeliverableRules(brandReviewRequired: true, revisionRoundsUsed: 0, revisionRoundsAllowed: 2),
        DeliverableRules(brandReviewRequired: false, revisionRoundsUsed: 2, revisionRoundsAllowed: 2),
    ]

    static let triples: [(S, DeliverableAction, Role)] = S.allCases.flatMap { status in
        DeliverableAction.allCases.flatMap { action in Role.allCases.map { (status, action, $0) } }
    }

    @Test(arguments: triples)
    func everyStateActionAndRole(status: S, action: DeliverableAction, role: Role) {
        for rules in Self.ruleSets {
            let want = Self.expected(status, action, role, rules)
            do {
                let next = try DeliverableMachine.transition(from: status, action, by: role, rules: rules)
                #expect(next == want, "\(status) --\(action) by \(role)--> \(next), expected \(String(describing: want))")
            } catch {
                #expect(want == nil, "\(status) --\(action) by \(role)--> refused: \(error.detail)")
                let roleMayEver = DeliverableMachine.actors(of: action).contains(role)
                #expect(error.code == (roleMayEver ? .conflict : .forbidden))
            }
        }
    }

    @Test func aRevisionPastTheCapWaitsForAnExtraRound() throws {
        let capped = DeliverableRules(brandReviewRequired: true, revisionRoundsUsed: 1, revisionRoundsAllowed: 1)
        #expect(throws: KolabError.self) {
            try DeliverableMachine.transition(from: .changesRequested, .submitDraft, by: .kol, rules: capped)
        }
        let granted = DeliverableRules(brandReviewRequired: true, revisionRoundsUsed: 1, revisionRoundsAllowed: 2)
        #expect(try DeliverableMachine.transition(from: .changesRequested, .submitDraft, by: .kol, rules: granted) == .draftSubmitted)
        // The first draft never uses a round, whatever the count.
        #expect(try DeliverableMachine.transition(from: .awaitingDraft, .submitDraft, by: .kol, rules: capped) == .draftSubmitted)
        #expect(DeliverableMachine.isRevision(from: .changesRequested))
        #expect(!DeliverableMachine.isRevision(from: .awaitingDraft))
    }

    @Test(arguments: S.allCases, Role.allCases)
    func extraRoundsAreForStaffWhileContentIsMadeInACampaignStillRunning(status: S, role: Role) {
        for campaign in CampaignStatus.allCases {
            let allowed = (try? DeliverableMachine.checkExtraRound(status: status, campaignStatus: campaign, by: role)) != nil
            let making: [S] = [.awaitingDraft, .draftSubmitted, .inBrandReview, .brandFeedback, .changesRequested]
            let open = campaign != .cancelled && campaign != .completed
            #expect(allowed == ((role == .officer || role == .admin) && making.contains(status) && open), "\(status), \(campaign)")
        }
    }

    /// In a cancelled campaign only a deliverable's own cancel moves it; every other allowed move is 409.
    @Test(arguments: triples)
    func aCancelledCampaignsDeliverablesNoLongerMove(status: S, action: DeliverableAction, role: Role) {
        var rules = DeliverableRules(brandReviewRequired: true, campaignStatus: .cancelled)
        rules.revisionRoundsAllowed = 2
        let want = action == .cancel ? Self.expected(status, action, role, rules) : nil
        let next = try? DeliverableMachine.transition(from: status, action, by: role, rules: rules)
        #expect(next == want, "\(status) --\(action) by \(role)")
    }

    @Test func insightsWaitForTheirDueTime() throws {
        let due = Date(timeIntervalSince1970: 1_800_000_000)
        let early = DeliverableRules(brandReviewRequired: false, insightsDueAt: due, now: due.addingTimeInterval(-1))
        #expect(throws: KolabError.self) { try DeliverableMachine.transition(from: .live, .submitInsights, by: .kol, rules: early) }
        let onTime = DeliverableRules(brandReviewRequired: false, insightsDueAt: due, now: due)
        #expect(try DeliverableMachine.transition(from: .live, .submitInsights, by: .kol, rules: onTime) == .insightsSubmitted)
    }

    /// A review decides on one version: the deliverable moves as `DeliverableMachine` says, and only
    /// when the version reviewed is still the latest; every (state, decision, role) triple.
    static let reviewTriples: [(S, ReviewDecision, Role)] = S.allCases.flatMap { status in
        ReviewDecision.allCases.flatMap { decision in Role.allCases.map { (status, decision, $0) } }
    }

    @Test(arguments: reviewTriples)
    func aReviewMovesTheDeliverableOnlyForTheLatestVersion(status: S, decision: ReviewDecision, role: Role) {
        let rules = DeliverableRules(brandReviewRequired: true)
        let want = Self.expected(status, decision.action, role, rules)
        let latest = try? DraftReviewMachine.review(decision, version: 2, currentVersion: 2, status: status, by: role, rules: rules)
        #expect(latest == want)
        let stale = try? DraftReviewMachine.review(decision, version: 1, currentVersion: 2, status: status, by: role, rules: rules)
        #expect(stale == nil)
        do {
            _ = try DraftReviewMachine.review(decision, version: 1, currentVersion: 2, status: status, by: role, rules: rules)
        } catch {
            // A role that never reviews is told so first (403); a stale version of an allowed move is 409.
            #expect(error.code == (DeliverableMachine.actors(of: decision.action).contains(role) ? .conflict : .forbidden))
        }
    }

    @Test(arguments: S.allCases)
    func aGuestSeesOnlyTheLatestDraftWaitingForTheBrandInTheLinksCampaign(status: S) {
        let campaign = UUID()
        #expect(
            DraftReviewMachine.guestMaySee(version: 3, currentVersion: 3, status: status, campaign: campaign, linkCampaign: campaign)
                == (status == .inBrandReview))
        #expect(!DraftReviewMachine.guestMaySee(version: 2, currentVersion: 3, status: status, campaign: campaign, linkCampaign: campaign))
        #expect(!DraftReviewMachine.guestMaySee(version: 3, currentVersion: 3, status: status, campaign: campaign, linkCampaign: UUID()))
    }

    @Test(arguments: ReviewDecision.allCases, [Role.officer, .admin, .brand])
    func theKolReadsOnlyTheOfficersWordsToHer(decision: ReviewDecision, role: Role) {
        let readable = ReviewDecision.kolMayRead(decision: decision, reviewerRole: role)
        #expect(readable == (role != .brand && decision != .forward))
    }

    @Test func draftsNeedSomethingToReviewAndWebLinks() {
        var empty = Validator()
        _ = DraftRules.validate(caption: "  ", media: [], notes: "", into: &empty)
        #expect(empty.errors.map(\.field) == ["caption"])
        var badLink = Validator()
        _ = DraftRules.validate(caption: "", media: [Media(url: "ftp://x/y.jpg", kind: .image)], notes: "", into: &badLink)
        #expect(badLink.errors.map(\.field) == ["media[0].url"])
        var fine = Validator()
        _ = DraftRules.validate(caption: "", media: [Media(url: "https://cdn.example.id/a.jpg", kind: .image)], notes: "", into: &fine)
        #expect(fine.errors.isEmpty)
        var future = Validator()
        DraftRules.validatePost(url: "https://instagram.com/p/x", postedAt: Date().addingTimeInterval(3600), now: Date(), into: &future)
        #expect(future.errors.map(\.field) == ["posted_at"])
    }
}
