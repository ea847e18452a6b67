import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import NIOCore
import PostgresNIO

/// Insights, payouts, finance's batches and their bank file, and the campaign report.
struct PayoutController {
    let services: Services

    func register(_ routes: RouteTable) {
        routes.on(.post, "/v1/deliverables/{id}/insights", submitInsights)
        routes.on(.get, "/v1/deliverables/{id}/insights", insightsHistory)
        routes.on(.post, "/v1/deliverables/{id}/insights/verify", verifyInsights)
        routes.on(.post, "/v1/deliverables/{id}/insights/reject", rejectInsights)
        routes.on(.get, "/v1/payouts", listPayouts)
        routes.on(.get, "/v1/payouts/{id}", showPayout)
        routes.on(.post, "/v1/payouts/{id}/approve", approvePayout)
        routes.on(.post, "/v1/payout-batches", createBatch)
        routes.on(.get, "/v1/payout-batches", listBatches)
        routes.on(.get, "/v1/payout-batches/{id}", showBatch)
        routes.on(.get, "/v1/payout-batches/{id}/export.csv", export)
        routes.on(.post, "/v1/payout-batches/{id}/mark-paid", markPaid)
        routes.on(.post, "/v1/payout-batches/{id}/mark-failed", markFailed)
        routes.on(.get, "/v1/campaigns/{id}/report", report)
        routes.on(.get, "/v1/campaigns/{id}/report.csv", reportCSV)
    }

    // MARK: Insights

    @Sendable func submitInsights(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "deliverable")
        // The domain's own type is the allow-list: its eight counts and the evidence links.
        let insights = try await services.input(context, access: deliverableAccess(id, .submitInsights, actor)) {
            var insights = try await request.decodeBody(Insights.self, context: context)
            insights.evidenceUrls = insights.evidenceUrls.map { $0.trimmingCharacters(in: .whitespaces) }
            var v = Validator()
            insights.validate(into: &v)
            try v.validate()
            return insights
        }
        let record = try await services.write(context) {
            try await services.workflows.submitInsights(deliverable: id, insights, actor: actor, now: Date(), on: $0)
        }
        return try Response.created(InsightsResponse(record), location: "/v1/deliverables/\(id)/insights")
    }

    /// Every submission, oldest first; the verified one counts.
    @Sendable func insightsHistory(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "deliverable")
        let list = try await services.listRequest(request, context, scope: "insights:\(id)")
        let history = try await services.read(context) { connection in
            _ = try await services.workflows.visibleDeliverable(id, actor: actor, on: connection)
            return try await services.workflows.payouts.insightsHistory(deliverableID: id, on: connection)
        }
        // Submissions are only appended (oldest first): the rank is stable.
        let page = services.page(history, list) { _, rank in Int64(rank) }
        return try Response.json(try await services.listResponse(page, list, InsightsResponse.init))
    }

    @Sendable func verifyInsights(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "deliverable")
        let deliverable = try await services.write(context) {
            try await services.workflows.verifyInsights(deliverable: id, actor: actor, on: $0)
        }
        return Response.json(DeliverableResponse(deliverable))
    }

    @Sendable func rejectInsights(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "deliverable")
        let reason = try await services.input(context, access: deliverableAccess(id, .rejectInsights, actor)) {
            try await ContentController.reason(request, context: context)
        }
        let deliverable = try await services.write(context) {
            try await services.workflows.rejectInsights(deliverable: id, reason: reason, actor: actor, on: $0)
        }
        return Response.json(DeliverableResponse(deliverable))
    }

    // MARK: Payouts

    @Sendable func listPayouts(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        guard PayoutMachine.mayList(actor.role) else { throw KolabError.forbidden("Brands do not see payouts.") }
        var filter = PayoutFilter()
        if let raw = request.uri.queryParameters.get("status") {
            guard let status = PayoutStatus(rawValue: raw) else {
                throw KolabError.invalid(field: "status", "must be one of \(PayoutStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.status = status
        }
        filter.campaignID = try request.queryUUID("campaign_id")
        filter.batchID = try request.queryUUID("batch_id")
        let list = try await services.listRequest(request, context, scope: "payouts")
        let page = try await services.read(context) {
            try await services.workflows.payouts.list(visibleTo: actor, filter, after: list.after, limit: list.limit, on: $0)
        }
        return try Response.json(try await services.listResponse(page, list, PayoutResponse.init))
    }

    @Sendable func showPayout(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "payout")
        let payout = try await services.read(context) { try await services.workflows.visiblePayout(id, actor: actor, on: $0) }
        return try Response.json(PayoutResponse(payout))
    }

    @Sendable func approvePayout(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "payout")
        let payout = try await services.write(context) { try await services.workflows.approvePayout(id, actor: actor, on: $0) }
        return try Response.json(PayoutResponse(payout))
    }

    // MARK: Batches

    @Sendable func createBatch(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let batch = try await services.write(context) { try await services.workflows.createBatch(actor: actor, on: $0) }
        return try Response.created(BatchResponse(batch), location: "/v1/payout-batches/\(batch.id)")
    }

    @Sendable func listBatches(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try PayoutMachine.checkBatchAccess(actor.role)
        let list = try await services.listRequest(request, context, scope: "payout-batches")
        let page = try await services.read(context) {
            try await services.workflows.payouts.listBatches(after: list.after, limit: list.limit, on: $0)
        }
        return try Response.json(try await services.listResponse(page, list, BatchResponse.init))
    }

    @Sendable func showBatch(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "payout batch")
        let batch = try await services.read(context) { try await services.workflows.visibleBatch(id, actor: actor, on: $0) }
        return try Response.json(BatchResponse(batch))
    }

    /// The bank bulk-transfer file, streamed from the database in chunks: the same bytes on every
    /// download (the lines were frozen when the batch was made), memory flat whatever its size.
    @Sendable func export(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "payout batch")
        _ = try await services.read(context) { try await services.workflows.visibleBatch(id, actor: actor, on: $0) }
        let logger = context.logger
        let body = ResponseBody { writer in
            var buffer = ByteBuffer()
            buffer.writeString(BankFile.header + "\n")
            do {
                try await services.database.withConnection { connection in
                    try await services.workflows.payouts.streamLines(batchID: id, on: connection) { chunk in
                        if buffer.readableBytes > 0 {
                            try await writer.write(buffer)
                            buffer.clear()
                        }
                        try await writer.write(chunk)
                    }
                }
            } catch {
                // Headers are gone by now: the client sees a cut-off body; the log says why.
                logger.error(
                    "Export of batch stopped", metadata: ["batch_id": "\(id)", "error": "\(KolabError.loggable(Database.unwrap(error)))"])
                throw error
            }
            if buffer.readableBytes > 0 { try await writer.write(buffer) }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8",
                .contentDisposition: "attachment; filename=\"kolab-batch-\(id.uuidString.lowercased()).csv\"",
                .cacheControl: "no-store",
            ],
            body: body)
    }

    /// `{payout_ids, bank_reference}` (paid) or `{payout_ids, reason}` (failed): one body type, the note named by the outcome.
    struct Settlement: Decodable {
        var payoutIds: [UUID]
        var bankReference: String?
        var reason: String?
    }

    @Sendable func markPaid(_ request: Request, context: KolabRequestContext) async throws -> Response {
        try await settle(request, context: context, paid: true)
    }

    @Sendable func markFailed(_ request: Request, context: KolabRequestContext) async throws -> Response {
        try await settle(request, context: context, paid: false)
    }

    func settle(_ request: Request, context: KolabRequestContext, paid: Bool) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "payout batch")
        let (body, note) = try await services.input(
            context, access: { _ = try await services.workflows.visibleBatch(id, actor: actor, on: $0) }
        ) {
            let body = try await request.decodeBody(Settlement.self, context: context)
            var v = Validator()
            v.check(!body.payoutIds.isEmpty && body.payoutIds.count <= 100_000, "payout_ids", "must name 1 to 100000 payouts")
            let note = paid ? v.text(body.bankReference ?? "", "bank_reference", max: 200) : v.text(body.reason ?? "", "reason", max: 2000)
            try v.validate()
            return (body, note)
        }
        let batch = try await services.write(context) {
            try await services.workflows.settle(
                batch: id, payoutIDs: Array(Set(body.payoutIds)), paid: paid, note: note, actor: actor, on: $0)
        }
        return try Response.json(BatchResponse(batch))
    }

    /// The access check of a deliverable action (see `Services.input`).
    func deliverableAccess(_ id: UUID, _ action: DeliverableAction, _ actor: Actor) -> (PostgresConnection) async throws -> Void {
        ContentController(services: services).access(id, action, actor)
    }

    // MARK: Report

    /// The campaign report for whoever sees the campaign; a KOL's covers her own figures only.
    func reportData(_ request: Request, context: KolabRequestContext) async throws -> (UUID, ReportData) {
        let actor = try context.requireActor()
        let id = try context.parameters.id(of: "campaign")
        let data = try await services.read(context) { connection in
            _ = try await services.workflows.visibleCampaign(id, actor: actor, on: connection)
            return try await services.workflows.reports.report(
                campaignID: id, onlyKol: actor.ownKolID, on: connection)
        }
        return (id, data)
    }

    @Sendable func report(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (id, data) = try await reportData(request, context: context)
        return Response.json(ReportResponse(campaignID: id, data))
    }

    @Sendable func reportCSV(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let (id, data) = try await reportData(request, context: context)
        let report = ReportResponse(campaignID: id, data)
        var text =
            "kol_id,full_name,registration_status,deliverables,deliverables_completed,reach,impressions,views,engagements,"
            + "engagement_rate,payout_status,gross_idr,net_idr,cpm_idr,cpe_idr\n"
        for r in report.kols {
            let fields: [String] = [
                r.kolId.uuidString.lowercased(), r.fullName, r.registrationStatus, "\(r.deliverables)", "\(r.deliverablesCompleted)",
                "\(r.reach)", "\(r.impressions)", "\(r.views)", "\(r.engagements)", r.engagementRate.map { "\($0)" } ?? "",
                r.payoutStatus ?? "", "\(r.grossIdr)", "\(r.netIdr)", r.cpmIdr.map(String.init) ?? "",
                r.cpeIdr.map(String.init) ?? "",
            ]
            text += fields.map(BankFile.field).joined(separator: ",") + "\n"
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8",
                .contentDisposition: "attachment; filename=\"kolab-report-\(id.uuidString.lowercased()).csv\"",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
