import Foundation
import KolabDomain
import Logging
import PostgresNIO

// MARK: - Insights and the payout they make due

extension Workflows {
    /// Runs `body` holding the row lock of the deliverable's registration, then calculates the
    /// registration's payout if it has just become due. Moves that can complete a registration take
    /// this lock first, so two deliverables finished at once cannot both miss the payout.
    func withRegistrationLocked(
        deliverable id: UUID, actor: Actor, on connection: PostgresConnection, _ body: () async throws -> DeliverableRecord
    ) async throws -> DeliverableRecord {
        // Lock order: campaign, registration, deliverable (the move below locks the deliverable).
        try await registrations.lockCampaign(ofDeliverable: id, .share, on: connection)
        let (deliverable, _) = try await visibleDeliverable(id, actor: actor, on: connection)
        _ = try await registrations.registration(id: deliverable.registrationID, lock: true, on: connection)
        let moved = try await body()
        try await calculatePayoutIfDue(registrationID: moved.registrationID, actor: actor, on: connection)
        return moved
    }

    /// The KOL reports her insights on a live deliverable, once they are due.
    public func submitInsights(deliverable id: UUID, _ insights: Insights, actor: Actor, now: Date, on connection: PostgresConnection)
        async throws -> InsightsRecord
    {
        let move = try await decide(id, .submitInsights, actor: actor, now: now, on: connection)
        let record = try await payouts.addInsights(insights, deliverableID: id, by: actor.userID, on: connection)
        _ = try await apply(move, data: ["insights_id": record.id.uuidString.lowercased()], on: connection)
        return record
    }

    /// The officer verifies the submitted insights: the deliverable is completed, and when it was the
    /// registration's last, the payout is calculated in the same transaction.
    public func verifyInsights(deliverable id: UUID, actor: Actor, on connection: PostgresConnection) async throws -> DeliverableRecord {
        try await withRegistrationLocked(deliverable: id, actor: actor, on: connection) {
            let move = try await decide(id, .verifyInsights, actor: actor, on: connection)
            try await payouts.decideInsights(deliverableID: id, verified: true, reason: nil, on: connection)
            return try await apply(move, on: connection)
        }
    }

    /// The officer sends the insights back with a reason; the KOL submits again.
    public func rejectInsights(deliverable id: UUID, reason: String, actor: Actor, on connection: PostgresConnection) async throws
        -> DeliverableRecord
    {
        let move = try await decide(id, .rejectInsights, actor: actor, on: connection)
        try await payouts.decideInsights(deliverableID: id, verified: false, reason: reason, on: connection)
        return try await apply(move, data: ["reason": reason], on: connection)
    }

    /// Calculates and stores the registration's payout when every deliverable that is not cancelled is
    /// completed (and at least one is). The caller holds the registration's row lock.
    func calculatePayoutIfDue(registrationID: UUID, actor: Actor, on connection: PostgresConnection) async throws {
        guard let registration = try await registrations.registration(id: registrationID, on: connection),
            registration.status == .accepted,
            try await payouts.payout(registrationID: registrationID, on: connection) == nil
        else { return }
        let statuses = try await registrations.deliverables(registrationID: registrationID, on: connection).map(\.status)
        guard PayoutCalculator.isDue(statuses),
            let campaign = try await campaigns.campaign(id: registration.campaignID, on: connection)
        else { return }
        let verified = try await payouts.verifiedInsights(registrationID: registrationID, on: connection)
        let breakdown = PayoutCalculator.calculate(
            terms: campaign.terms, metricValue: PayoutCalculator.metricValue(campaign.terms.bonus?.metric, over: verified))
        let payoutID = try await payouts.createPayout(
            registrationID: registrationID, campaignID: campaign.id, kolID: registration.kolID, breakdown, on: connection)
        try await events.record(
            by: actor, campaignID: campaign.id, kolID: registration.kolID, entity: .payout, entityID: payoutID, from: nil,
            to: PayoutStatus.calculated.rawValue,
            data: ["gross_idr": "\(breakdown.grossIdr)", "net_idr": "\(breakdown.netIdr)", "metric_value": "\(breakdown.metricValue)"],
            on: connection)
    }
}

// MARK: - Payouts and batches

extension Workflows {
    /// A payout the actor may see: finance and admins all; an officer those of their campaigns; a KOL
    /// hers. Brands never see payouts.
    public func visiblePayout(_ id: UUID, actor: Actor, lock: Bool = false, on connection: PostgresConnection) async throws -> PayoutRecord
    {
        guard let payout = try await payouts.payout(id: id, lock: lock, on: connection) else { throw KolabError.notFound("payout") }
        let visible: Bool
        switch actor.role {
        case .admin, .finance: visible = true
        case .kol: visible = payout.kolID == actor.userID
        case .brand: visible = false
        case .officer: visible = try await campaigns.campaign(id: payout.campaignID, on: connection)?.officerID == actor.userID
        }
        guard visible else { throw KolabError.notFound("payout") }
        return payout
    }

    public func approvePayout(_ id: UUID, actor: Actor, on connection: PostgresConnection) async throws -> PayoutRecord {
        let payout = try await visiblePayout(id, actor: actor, lock: true, on: connection)
        let next = try PayoutMachine.transition(from: payout.status, .approve, by: actor.role)
        try await payouts.approve(id: id, from: payout.status, on: connection)
        try await events.record(
            by: actor, campaignID: payout.campaignID, kolID: payout.kolID, entity: .payout, entityID: id, from: payout.status.rawValue,
            to: next.rawValue, on: connection)
        guard let updated = try await payouts.payout(id: id, on: connection) else { throw KolabError.notFound("payout") }
        return updated
    }

    /// Finance takes every approved, unbatched payout (with bank details) into a new batch; 409 when
    /// there is nothing to take.
    public func createBatch(actor: Actor, on connection: PostgresConnection) async throws -> BatchRecord {
        let state = try PayoutBatchMachine.create(by: actor.role)
        guard let batchID = try await payouts.createBatch(by: actor.userID, on: connection),
            let batch = try await payouts.batch(id: batchID, on: connection)
        else { throw PayoutBatchMachine.nothingToTake }
        try await events.record(
            by: actor, campaignID: nil, entity: .payoutBatch, entityID: batchID, from: nil, to: state.rawValue,
            data: ["payout_count": "\(batch.payoutCount)"], on: connection)
        try await events.recordBatchExport(batchID: batchID, by: actor, on: connection)
        return batch
    }

    /// A batch, for finance and admins; to every other role batches are not visible (404, DESIGN.md's
    /// "a resource the caller may not see answers 404", whether or not the id exists).
    public func visibleBatch(_ id: UUID, actor: Actor, on connection: PostgresConnection) async throws -> BatchRecord {
        guard PayoutMachine.seesBatches(actor.role) else { throw KolabError.notFound("payout batch") }
        guard let batch = try await payouts.batch(id: id, on: connection) else { throw KolabError.notFound("payout batch") }
        return batch
    }

    /// Marks lines of a batch paid (with the bank's reference) or failed (with a reason): all or none.
    public func settle(
        batch id: UUID, payoutIDs: [UUID], paid: Bool, note: String, actor: Actor, on connection: PostgresConnection
    ) async throws -> BatchRecord {
        _ = try await visibleBatch(id, actor: actor, on: connection)
        let next = try PayoutBatchMachine.settle(paid: paid, by: actor.role)
        let moved = try await payouts.settle(
            batchID: id, payoutIDs: payoutIDs, paid: paid, bankReference: paid ? note : nil, reason: paid ? nil : note, on: connection)
        try await events.recordPayouts(
            moved, by: actor, from: PayoutStatus.exported.rawValue, to: next.rawValue,
            data: ["batch_id": id.uuidString.lowercased()], on: connection)
        guard let batch = try await payouts.batch(id: id, on: connection) else { throw KolabError.notFound("payout batch") }
        return batch
    }
}
