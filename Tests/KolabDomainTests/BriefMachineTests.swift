import Foundation
import KolabDomain
import Testing

@Suite("Brief versions and the campaign states decisions need")
struct BriefMachineTests {
    static let triples: [(BriefStatus, CampaignStatus, Role)] = BriefStatus.allCases.flatMap { status in
        CampaignStatus.allCases.flatMap { campaign in Role.allCases.map { (status, campaign, $0) } }
    }

    /// Every (version state, campaign state, role): only a draft of a live campaign is published, by
    /// its officer or an admin; others get 403, the rest 409.
    @Test(arguments: triples)
    func publishingEveryVersionStateInEveryCampaignStateByEveryRole(status: BriefStatus, campaign: CampaignStatus, role: Role) {
        let staff = role == .officer || role == .admin
        let live = campaign != .completed && campaign != .cancelled
        do {
            let next = try BriefMachine.publish(version: 2, status: status, campaign: campaign, publishedVersion: 1, by: role)
            #expect(staff && live && status == .draft)
            #expect(next == .published)
        } catch {
            #expect(error.code == (staff ? .conflict : .forbidden), "\(status) in a \(campaign) campaign by \(role): \(error.detail)")
            #expect(!(staff && live && status == .draft))
        }
    }

    @Test func anOlderDraftIsNotPublishedOverANewerVersion() throws {
        #expect(throws: KolabError.self) {
            try BriefMachine.publish(version: 1, status: .draft, campaign: .recruiting, publishedVersion: 2, by: .officer)
        }
        #expect(try BriefMachine.publish(version: 3, status: .draft, campaign: .running, publishedVersion: 2, by: .admin) == .published)
    }

    @Test(arguments: CampaignStatus.allCases)
    func writingANewVersion(campaign: CampaignStatus) {
        for role in Role.allCases {
            let allowed = (role == .officer || role == .admin) && campaign != .completed && campaign != .cancelled
            #expect((try? BriefMachine.checkWrite(campaign: campaign, by: role)) != nil || !allowed)
        }
    }

    /// Officers decide registrations only while the campaign recruits or runs; a KOL may withdraw in any.
    @Test(arguments: CampaignStatus.allCases)
    func registrationDecisionsFollowTheCampaignsState(campaign: CampaignStatus) throws {
        let open = campaign == .recruiting || campaign == .running
        for action in [RegistrationAction.shortlist, .accept, .reject] {
            do {
                _ = try RegistrationMachine.transition(from: .applied, action, by: .officer, campaign: campaign)
                #expect(open, "\(action) in a \(campaign) campaign")
            } catch {
                #expect(!open)
                #expect(error.code == .conflict)
            }
        }
        #expect(try RegistrationMachine.transition(from: .accepted, .withdraw, by: .kol, isOwner: true, campaign: campaign) == .withdrawn)
    }
}
