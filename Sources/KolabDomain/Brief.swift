import Foundation

public enum BriefAction: String, Sendable, CaseIterable {
    case write, publish
}

/// A campaign's brief versions, decided here: a new version is a `draft`; publishing one makes it
/// `published` and the version published before it `superseded`; a published version never changes.
/// Only the campaign's officer and admins write or publish, and not once the campaign is over.
public enum BriefMachine {
    public static func mayAct(_ role: Role) -> Bool { role == .officer || role == .admin }

    public static func checkAct(_ role: Role) throws(KolabError) {
        guard mayAct(role) else { throw KolabError.forbidden("Only the campaign's officer or an admin may write or publish briefs.") }
    }

    /// Every version (drafts too) is for those who see the campaign, but KOLs: they read the published one.
    public static func checkReadVersions(_ role: Role) throws(KolabError) {
        guard role != .kol else { throw KolabError.forbidden("KOLs read the published brief at GET /v1/campaigns/{id}/brief.") }
    }

    /// Whether a new version may be written (its content is validated by `BriefRules`).
    public static func checkWrite(campaign: CampaignStatus, by role: Role) throws(KolabError) {
        guard mayAct(role) else {
            throw KolabError.forbidden("Only the campaign's officer or an admin may write or publish briefs.")
        }
        guard campaign != .completed && campaign != .cancelled else {
            throw KolabError.conflict("A \(campaign.rawValue) campaign takes no new brief.")
        }
    }

    /// The state a version moves to when published (`published`), or why it cannot be (403, 409):
    /// it must be a draft, of a campaign that is not over, and not older than the published one.
    public static func publish(
        version: Int, status: BriefStatus, campaign: CampaignStatus, publishedVersion: Int?, by role: Role
    ) throws(KolabError) -> BriefStatus {
        guard mayAct(role) else {
            throw KolabError.forbidden("Only the campaign's officer or an admin may write or publish briefs.")
        }
        guard campaign != .completed && campaign != .cancelled else {
            throw KolabError.conflict("A \(campaign.rawValue) campaign's brief cannot change.")
        }
        guard status == .draft else {
            throw KolabError.conflict("Brief version \(version) is \(status.rawValue); only a draft can be published.")
        }
        if let publishedVersion, publishedVersion > version {
            throw KolabError.conflict("Version \(publishedVersion) is published and newer; write a new version instead.")
        }
        return .published
    }
}
