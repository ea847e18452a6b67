import Foundation
import KolabDomain
import Testing

@Suite("Campaign lifecycle")
struct CampaignMachineTests {
    static let legal: [CampaignStatus: [CampaignAction: CampaignStatus]] = [
        .draft: [.publish: .recruiting, .cancel: .cancelled],
        .recruiting: [.closeRegistration: .running, .cancel: .cancelled],
        .running: [.complete: .completed, .cancel: .cancelled],
        .completed: [:],
        .cancelled: [:],
    ]

    static let triples: [(CampaignStatus, CampaignAction, Role)] = CampaignStatus.allCases.flatMap { status in
        CampaignAction.allCases.flatMap { action in Role.allCases.map { (status, action, $0) } }
    }

    @Test(arguments: triples)
    func everyStateActionAndRole(status: CampaignStatus, action: CampaignAction, role: Role) {
        let expected = Self.legal[status]?[action]
        do {
            let next = try CampaignMachine.transition(from: status, action, by: role)
            #expect(role == .officer || role == .admin, "\(role) moved a campaign")
            #expect(next == expected, "\(status) --\(action)--> \(next)")
        } catch {
            if role != .officer && role != .admin {
                #expect(error.code == .forbidden)
            } else {
                #expect(expected == nil, "\(status) --\(action)--> refused: \(error.detail)")
                #expect(error.code == .conflict)
            }
        }
    }

    @Test func publishingNeedsAnOfficerAndAPublishedBrief() {
        #expect(throws: KolabError.self) { try CampaignMachine.checkPublishable(hasOfficer: false, hasPublishedBrief: true) }
        #expect(throws: KolabError.self) { try CampaignMachine.checkPublishable(hasOfficer: true, hasPublishedBrief: false) }
        #expect(throws: Never.self) { try CampaignMachine.checkPublishable(hasOfficer: true, hasPublishedBrief: true) }
    }

    @Test(arguments: CampaignStatus.allCases)
    func registrationIsOpenOnlyWhileRecruitingAndBeforeTheClose(status: CampaignStatus) {
        let now = Date()
        let open = (try? CampaignMachine.checkOpenForRegistration(status: status, closesAt: now.addingTimeInterval(60), now: now)) != nil
        #expect(open == (status == .recruiting))
        let closed = (try? CampaignMachine.checkOpenForRegistration(status: status, closesAt: now.addingTimeInterval(-1), now: now)) != nil
        #expect(!closed)
    }

    @Test(arguments: CampaignStatus.allCases)
    func termsAreFixedAfterDraft(status: CampaignStatus) {
        let termsEditable = (try? CampaignMachine.checkEditable(status: status, changesTermsOrRules: true)) != nil
        let titleEditable = (try? CampaignMachine.checkEditable(status: status, changesTermsOrRules: false)) != nil
        #expect(termsEditable == (status == .draft))
        #expect(titleEditable == [.draft, .recruiting, .running].contains(status))
    }

    @Test(arguments: Role.allCases)
    func visibility(role: Role) {
        let me = UUID()
        let brand = UUID()
        let actor = Actor(userID: me, role: role, brandID: role == .brand ? brand : nil)
        let mine = CampaignAccess.maySee(actor, brandID: brand, officerID: me, status: .draft, callerRegistered: false)
        let others = CampaignAccess.maySee(actor, brandID: UUID(), officerID: UUID(), status: .draft, callerRegistered: false)
        let recruiting = CampaignAccess.maySee(actor, brandID: UUID(), officerID: UUID(), status: .recruiting, callerRegistered: false)
        let registered = CampaignAccess.maySee(actor, brandID: UUID(), officerID: UUID(), status: .running, callerRegistered: true)
        switch role {
        case .admin, .finance: #expect(mine && others && recruiting && registered)
        case .officer, .brand: #expect(mine && !others && !recruiting)
        case .kol: #expect(!mine && !others && recruiting && registered)
        }
    }

    @Test func eligibilityNamesEveryRuleThatFails() {
        let rules = Eligibility(minFollowers: 10_000, niches: ["parenting"], regions: ["Jawa Barat"])
        let fine = rules.failures(
            platforms: [.instagram], accounts: [SocialAccount(platform: .instagram, handle: "a", followers: 10_000)],
            niches: ["parenting"], region: "jawa barat")
        #expect(fine.isEmpty)
        let small = rules.failures(
            platforms: [.instagram], accounts: [SocialAccount(platform: .instagram, handle: "a", followers: 9_999)],
            niches: ["food"], region: "Bali")
        #expect(small.map(\.field) == ["min_followers", "niches", "regions"])
        let wrongPlatform = rules.failures(
            platforms: [.tiktok], accounts: [SocialAccount(platform: .instagram, handle: "a", followers: 1_000_000)],
            niches: ["parenting"], region: "Jawa Barat")
        #expect(wrongPlatform.map(\.field) == ["platforms"])
    }
}

@Suite("Registration lifecycle")
struct RegistrationMachineTests {
    static let legal: [RegistrationStatus: [RegistrationAction: RegistrationStatus]] = [
        .applied: [.shortlist: .shortlisted, .accept: .accepted, .reject: .rejected, .withdraw: .withdrawn],
        .shortlisted: [.accept: .accepted, .reject: .rejected, .withdraw: .withdrawn],
        .accepted: [.withdraw: .withdrawn],
        .rejected: [:],
        .withdrawn: [:],
    ]

    static let triples: [(RegistrationStatus, RegistrationAction, Role)] = RegistrationStatus.allCases.flatMap { status in
        RegistrationAction.allCases.flatMap { action in Role.allCases.map { (status, action, $0) } }
    }

    @Test(arguments: triples)
    func everyStateActionAndRole(status: RegistrationStatus, action: RegistrationAction, role: Role) {
        let expected = Self.legal[status]?[action]
        let roleMayAct = action == .withdraw ? role == .kol : (role == .officer || role == .admin)
        do {
            let next = try RegistrationMachine.transition(from: status, action, by: role, isOwner: true)
            #expect(roleMayAct)
            #expect(next == expected)
        } catch {
            if !roleMayAct {
                #expect(error.code == .forbidden)
            } else {
                #expect(expected == nil, "\(status) --\(action)--> refused: \(error.detail)")
                #expect(error.code == .conflict)
            }
        }
    }

    @Test func aKolWithdrawsOnlyTheirOwnRegistration() {
        #expect(throws: KolabError.forbidden("Only the KOL who registered may withdraw.")) {
            try RegistrationMachine.transition(from: .applied, .withdraw, by: .kol, isOwner: false)
        }
    }
}
