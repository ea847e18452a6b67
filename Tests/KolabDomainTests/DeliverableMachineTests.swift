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
    func extraRoundsAreForStaffWhileContentIsMade(status: S, role: Role) {
        let allowed = (try? DeliverableMachine.checkExtraRound(status: status, by: role)) != nil
        let making: [S] = [.awaitingDraft, .draftSubmitted, .inBrandReview, .brandFeedback, .changesRequested]
        #expect(allowed == ((role == .officer || role == .admin) && making.contains(status)))
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
