import Foundation
import KolabDomain
import Logging
import PostgresNIO

/// The state changes of Kolab, each applied the same way: find what the actor may see (404 otherwise),
/// take its row lock, let the domain machine decide (403, 409), apply it with a guarded statement, and
/// write its event, all on the caller's transaction. The HTTP layer and the seeder both call these.
public struct Workflows: Sendable {
    public let accounts: AccountStore
    public let kols: KolStore
    public let campaigns: CampaignStore
    public let briefs: BriefStore
    public let registrations: RegistrationStore
    public let events: EventStore
    public let content: ContentStore
    public let payouts: PayoutStore
    public let reports: ReportStore
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
        reports = ReportStore(logger: logger)
        payouts = PayoutStore(logger: logger)
        content = ContentStore(logger: logger)
        accounts = AccountStore(logger: logger)
        kols = KolStore(logger: logger)
        campaigns = CampaignStore(logger: logger)
        briefs = BriefStore(logger: logger)
        registrations = RegistrationStore(logger: logger)
        events = EventStore(logger: logger)
    }
}

// MARK: - Campaigns

extension Workflows {
    /// A campaign the actor may see, or the same 404 as for one that does not exist.
    public func visibleCampaign(_ id: UUID, actor: Actor, lock: Bool = false, on connection: PostgresConnection) async throws
        -> CampaignRecord
    {
        guard let campaign = try await campaigns.campaign(id: id, kol: actor.ownKolID, lock: lock, on: connection),
            Self.maySee(campaign, actor)
        else { throw KolabError.notFound("campaign") }
        return campaign
    }

    /// The SQL lists' twin: whether `actor` sees `campaign` (else it answers 404, as if it did not exist).
    static func maySee(_ campaign: CampaignRecord, _ actor: Actor) -> Bool {
        CampaignAccess.maySee(
            actor, brandID: campaign.brandID, officerID: campaign.officerID, status: campaign.status,
            callerRegistered: campaign.callerRegistered)
    }

    /// Creates a draft campaign after checking that its brand and officer exist.
    public func createCampaign(_ new: NewCampaign, actor: Actor, on connection: PostgresConnection) async throws -> CampaignRecord {
        guard try await accounts.brand(id: new.brandID, on: connection) != nil else {
            throw KolabError.invalid(field: "brand_id", "names no brand")
        }
        if let officerID = new.officerID, try await !campaigns.isOfficer(officerID, on: connection) {
            throw KolabError.invalid(field: "officer_id", "must name a user with the officer role")
        }
        let campaign = try await campaigns.create(new, createdBy: actor.userID, on: connection)
        try await events.record(
            by: actor, campaignID: campaign.id, entity: .campaign, entityID: campaign.id, from: nil, to: campaign.status.rawValue,
            on: connection)
        return campaign
    }

    /// publish, close-registration, complete, cancel.
    public func perform(_ action: CampaignAction, campaign id: UUID, actor: Actor, on connection: PostgresConnection) async throws
        -> CampaignRecord
    {
        let campaign = try await visibleCampaign(id, actor: actor, lock: true, on: connection)
        let next = try CampaignMachine.transition(from: campaign.status, action, by: actor.role)
        if action == .publish {
            try CampaignMachine.checkPublishable(
                hasOfficer: campaign.officerID != nil, hasPublishedBrief: campaign.publishedBriefVersion != nil)
        }
        try await campaigns.setStatus(id: id, from: campaign.status, to: next, on: connection)
        try await events.record(
            by: actor, campaignID: id, entity: .campaign, entityID: id, from: campaign.status.rawValue, to: next.rawValue, on: connection)
        if next == .cancelled {
            // The campaign's row lock (FOR UPDATE) waits out every transition in flight and holds back
            // new ones, which then find the campaign cancelled: nothing moves after this commits.
            let closed = try await registrations.closeForCancelledCampaign(campaignID: id, on: connection)
            for deliverable in closed.deliverables {
                try await events.record(
                    by: actor, campaignID: id, kolID: deliverable.kolID, entity: .deliverable, entityID: deliverable.id,
                    from: deliverable.from, to: DeliverableStatus.cancelled.rawValue, data: ["reason": "campaign cancelled"], on: connection
                )
            }
            for registration in closed.registrations {
                try await events.record(
                    by: actor, campaignID: id, kolID: registration.kolID, entity: .registration, entityID: registration.id,
                    from: registration.from, to: RegistrationStatus.rejected.rawValue, data: ["reason": "campaign cancelled"],
                    on: connection)
            }
        }
        guard let updated = try await campaigns.campaign(id: id, on: connection) else { throw KolabError.notFound("campaign") }
        return updated
    }
}

// MARK: - Briefs

extension Workflows {
    /// Writes the campaign's next brief version (the campaign's row lock numbers versions one at a time).
    /// `draft` is the version as its author wrote it; it is validated against the campaign here.
    public func createBrief(_ draft: BriefContent, campaign id: UUID, actor: Actor, on connection: PostgresConnection) async throws
        -> BriefRecord
    {
        let campaign = try await visibleCampaign(id, actor: actor, lock: true, on: connection)
        try BriefMachine.checkWrite(campaign: campaign.status, by: actor.role)
        var v = Validator()
        let content = BriefRules.validate(
            keyMessages: draft.keyMessages, dos: draft.dos, donts: draft.donts, hashtags: draft.hashtags, mentions: draft.mentions,
            references: draft.references, deliverables: draft.deliverables, platforms: campaign.platforms, into: &v)
        try v.validate()
        let brief = try await briefs.create(campaignID: id, content, createdBy: actor.userID, on: connection)
        try await events.record(
            by: actor, campaignID: id, entity: .briefVersion, entityID: brief.id, from: nil, to: brief.status.rawValue,
            data: ["version": "\(brief.version)"], on: connection)
        return brief
    }

    /// Publishes a draft version; the one published before is superseded in the same transaction.
    public func publishBrief(campaign id: UUID, version number: Int, actor: Actor, on connection: PostgresConnection) async throws
        -> BriefRecord
    {
        let campaign = try await visibleCampaign(id, actor: actor, lock: true, on: connection)
        guard let brief = try await briefs.version(campaignID: id, version: number, lock: true, on: connection) else {
            throw KolabError.notFound("brief version")
        }
        _ = try BriefMachine.publish(
            version: number, status: brief.status, campaign: campaign.status, publishedVersion: campaign.publishedBriefVersion,
            by: actor.role)
        if let superseded = try await briefs.publish(campaignID: id, version: number, on: connection),
            let old = try await briefs.version(campaignID: id, version: superseded, on: connection)
        {
            try await events.record(
                by: actor, campaignID: id, entity: .briefVersion, entityID: old.id, from: BriefStatus.published.rawValue,
                to: BriefStatus.superseded.rawValue, data: ["version": "\(superseded)"], on: connection)
        }
        try await events.record(
            by: actor, campaignID: id, entity: .briefVersion, entityID: brief.id, from: BriefStatus.draft.rawValue,
            to: BriefStatus.published.rawValue, data: ["version": "\(number)"], on: connection)
        guard let published = try await briefs.version(campaignID: id, version: number, on: connection) else {
            throw KolabError.notFound("brief version")
        }
        return published
    }
}

// MARK: - Registrations

extension Workflows {
    /// A registration the actor may see: inside a campaign they see, and a KOL's own only.
    public func visibleRegistration(_ id: UUID, actor: Actor, lock: Bool = false, on connection: PostgresConnection) async throws
        -> (RegistrationRecord, CampaignRecord)
    {
        if lock { try await registrations.lockCampaign(ofRegistration: id, .noKeyUpdate, on: connection) }
        guard let registration = try await registrations.registration(id: id, lock: lock, on: connection),
            actor.role != .kol || registration.kolID == actor.userID
        else { throw KolabError.notFound("registration") }
        do {
            return (registration, try await visibleCampaign(registration.campaignID, actor: actor, on: connection))
        } catch let error as KolabError where error.code == .notFound {
            throw KolabError.notFound("registration")
        }
    }

    /// A deliverable the actor may see: a KOL's own, inside a campaign the actor sees; read with its
    /// campaign in one statement. The deliverable's `campaign_id` and `kol_id` are its registration's
    /// (a foreign key keeps them so), so the registration itself is not read.
    public func visibleDeliverable(_ id: UUID, actor: Actor, lock: Bool = false, on connection: PostgresConnection) async throws
        -> (DeliverableRecord, CampaignRecord)
    {
        if lock { try await registrations.lockCampaign(ofDeliverable: id, .share, on: connection) }
        guard
            let (deliverable, campaign) = try await registrations.deliverableWithCampaign(
                id: id, kol: actor.ownKolID, lock: lock, on: connection),
            Self.maySee(deliverable, of: campaign, actor)
        else { throw KolabError.notFound("deliverable") }
        return (deliverable, campaign)
    }

    /// A KOL sees her own deliverables, others those of the campaigns they see.
    static func maySee(_ deliverable: DeliverableRecord, of campaign: CampaignRecord, _ actor: Actor) -> Bool {
        (actor.role != .kol || deliverable.kolID == actor.userID) && maySee(campaign, actor)
    }

    /// A KOL registers: open campaign, eligible profile, once per campaign.
    public func register(campaign id: UUID, pitch: String, actor: Actor, now: Date, on connection: PostgresConnection) async throws
        -> RegistrationRecord
    {
        // Held against a cancel or close committing between the check and the insert.
        try await registrations.lockCampaign(id, .share, on: connection)
        let campaign = try await visibleCampaign(id, actor: actor, on: connection)
        try RegistrationMachine.checkRegister(by: actor.role)
        try CampaignMachine.checkOpenForRegistration(status: campaign.status, closesAt: campaign.registrationClosesAt, now: now)
        guard let kol = try await kols.kol(id: actor.userID, on: connection) else {
            throw KolabError.forbidden("Your account has no KOL profile.")
        }
        let failures = campaign.eligibility.failures(
            platforms: campaign.platforms, accounts: kol.socialAccounts, niches: kol.niches, region: kol.region)
        guard failures.isEmpty else {
            throw KolabError(
                .invalid, "You are not eligible for this campaign; see `errors` for the rules you do not meet.", fieldErrors: failures)
        }
        let registration = try await registrations.create(campaignID: id, kolID: actor.userID, pitch: pitch, on: connection)
        try await events.record(
            by: actor, campaignID: id, kolID: actor.userID, entity: .registration, entityID: registration.id, from: nil,
            to: registration.status.rawValue, on: connection)
        return registration
    }

    /// shortlist, accept, reject, withdraw, with their side effects: a slot taken in one guarded statement
    /// (never past `kol_slots`) and the deliverables of the published brief on accept; the slot freed and
    /// open deliverables cancelled on withdrawal.
    public func perform(_ action: RegistrationAction, registration id: UUID, actor: Actor, on connection: PostgresConnection)
        async throws -> RegistrationRecord
    {
        let (registration, campaign) = try await visibleRegistration(id, actor: actor, lock: true, on: connection)
        let next = try RegistrationMachine.transition(
            from: registration.status, action, by: actor.role, isOwner: registration.kolID == actor.userID, campaign: campaign.status)
        switch action {
        case .shortlist, .reject:
            break
        case .accept:
            guard try await campaigns.takeSlot(id: campaign.id, on: connection) else {
                throw KolabError.conflict("All \(campaign.kolSlots) KOL slots of this campaign are taken.")
            }
        case .withdraw:
            if try await registrations.hasSignedOffContent(id: id, on: connection) {
                throw KolabError.conflict("Content of this registration has been approved; it can no longer be withdrawn.")
            }
            if registration.status == .accepted {
                try await campaigns.releaseSlot(id: campaign.id, on: connection)
                for (deliverableID, from) in try await registrations.cancelOpenDeliverables(registrationID: id, on: connection) {
                    try await events.record(
                        by: actor, campaignID: campaign.id, kolID: registration.kolID, entity: .deliverable, entityID: deliverableID,
                        from: from, to: DeliverableStatus.cancelled.rawValue, data: ["reason": "registration withdrawn"], on: connection)
                }
            }
        }
        try await registrations.setStatus(id: id, from: registration.status, to: next, on: connection)
        try await events.record(
            by: actor, campaignID: campaign.id, kolID: registration.kolID, entity: .registration, entityID: id,
            from: registration.status.rawValue, to: next.rawValue, on: connection)
        if action == .accept {
            try await registrations.createDeliverables(registrationID: id, on: connection)
            for deliverable in try await registrations.deliverables(registrationID: id, on: connection) {
                try await events.record(
                    by: actor, campaignID: campaign.id, kolID: registration.kolID, entity: .deliverable, entityID: deliverable.id,
                    from: nil, to: deliverable.status.rawValue, data: ["key": deliverable.key, "unit": "\(deliverable.unit)"],
                    on: connection)
            }
        }
        guard let updated = try await registrations.registration(id: id, on: connection) else { throw KolabError.notFound("registration") }
        return updated
    }

    /// An accepted KOL confirms the brief version she read; it must be the published one.
    public func acknowledgeBrief(registration id: UUID, version: Int, actor: Actor, on connection: PostgresConnection) async throws
        -> RegistrationRecord
    {
        let (registration, campaign) = try await visibleRegistration(id, actor: actor, lock: true, on: connection)
        guard actor.role == .kol && registration.kolID == actor.userID else {
            throw KolabError.forbidden("Only the KOL of this registration acknowledges the brief.")
        }
        guard registration.status == .accepted else {
            throw KolabError.conflict("Only an accepted registration acknowledges the brief; this one is \(registration.status.rawValue).")
        }
        guard let published = registration.publishedBriefVersion, version == published else {
            throw KolabError.invalid(
                field: "version", "must be the published brief version (\(registration.publishedBriefVersion.map(String.init) ?? "none"))")
        }
        try await registrations.acknowledge(id: id, version: version, on: connection)
        try await events.record(
            by: actor, campaignID: campaign.id, kolID: registration.kolID, entity: .registration, entityID: id,
            from: registration.status.rawValue, to: registration.status.rawValue, data: ["brief_version_acknowledged": "\(version)"],
            on: connection)
        guard let updated = try await registrations.registration(id: id, on: connection) else { throw KolabError.notFound("registration") }
        return updated
    }
}
