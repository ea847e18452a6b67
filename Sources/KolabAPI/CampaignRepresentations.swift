import Foundation
import KolabDomain
import KolabStore

/// An optional member written as an explicit `null` when it has no value (clients see every field,
/// set or not), where Swift's synthesized `Encodable` would leave it out.
@propertyWrapper
struct ExplicitNull<Value: Encodable & Sendable>: Encodable, Sendable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

struct CampaignResponse: JSONWritable, Sendable {
    struct TermsBody: Sendable {
        var feeIdr: Int64
        var bonus: Bonus?
        var withholdingBp: Int
    }

    var id: UUID
    var brandId: UUID
    var officerId: UUID?
    var title: String
    var description: String
    var status: CampaignStatus
    var platforms: [Platform]
    var kolSlots: Int
    var acceptedCount: Int
    var eligibility: Eligibility
    var registrationClosesAt: Date?
    var brandReviewRequired: Bool
    var maxRevisionRounds: Int
    var insightsAfterDays: Int
    var terms: TermsBody
    var publishedBriefVersion: Int?
    var createdAt: Date
    var updatedAt: Date

    init(_ c: CampaignRecord) {
        id = c.id
        brandId = c.brandID
        officerId = c.officerID
        title = c.title
        description = c.description
        status = c.status
        platforms = c.platforms
        kolSlots = c.kolSlots
        acceptedCount = c.acceptedCount
        eligibility = c.eligibility
        registrationClosesAt = c.registrationClosesAt
        brandReviewRequired = c.brandReviewRequired
        maxRevisionRounds = c.maxRevisionRounds
        insightsAfterDays = c.insightsAfterDays
        terms = TermsBody(feeIdr: c.terms.feeIdr, bonus: c.terms.bonus, withholdingBp: c.terms.withholdingBp)
        publishedBriefVersion = c.publishedBriefVersion
        createdAt = c.createdAt
        updatedAt = c.updatedAt
    }
}

struct BriefResponse: Encodable, Sendable {
    var campaignId: UUID
    var version: Int
    var status: BriefStatus
    var keyMessages: [String]
    var dos: [String]
    var donts: [String]
    var hashtags: [String]
    var mentions: [String]
    var references: [String]
    var deliverables: [BriefDeliverable]
    var createdAt: Date
    @ExplicitNull var publishedAt: Date?

    init(_ b: BriefRecord) {
        campaignId = b.campaignID
        version = b.version
        status = b.status
        keyMessages = b.content.keyMessages
        dos = b.content.dos
        donts = b.content.donts
        hashtags = b.content.hashtags
        mentions = b.content.mentions
        references = b.content.references
        deliverables = b.content.deliverables
        createdAt = b.createdAt
        publishedAt = b.publishedAt
    }

    /// Published versions never change; the status is the only thing that moves.
    static func etag(_ b: BriefRecord) -> String { "\"b\(b.version)-\(b.status.rawValue)\"" }
}

struct RegistrationResponse: Encodable, Sendable {
    var id: UUID
    var campaignId: UUID
    var kolId: UUID
    var status: RegistrationStatus
    var pitch: String
    @ExplicitNull var briefVersionAcknowledged: Int?
    /// True when an accepted KOL has not yet acknowledged the published brief version.
    var briefAcknowledgementRequired: Bool
    @ExplicitNull var decidedAt: Date?
    var createdAt: Date
    var updatedAt: Date

    init(_ r: RegistrationRecord) {
        id = r.id
        campaignId = r.campaignID
        kolId = r.kolID
        status = r.status
        pitch = r.pitch
        briefVersionAcknowledged = r.briefVersionAcknowledged
        briefAcknowledgementRequired =
            r.status == .accepted && r.publishedBriefVersion != nil && r.briefVersionAcknowledged != r.publishedBriefVersion
        decidedAt = r.decidedAt
        createdAt = r.createdAt
        updatedAt = r.updatedAt
    }
}

struct DeliverableResponse: JSONWritable, Sendable {
    var id: UUID
    var registrationId: UUID
    var campaignId: UUID
    var kolId: UUID
    var key: String
    var unit: Int
    var briefVersion: Int
    var platform: Platform
    var format: DeliverableFormat
    var status: DeliverableStatus
    var currentDraftVersion: Int
    var revisionRoundsUsed: Int
    var extraRounds: Int
    var draftDueAt: Date
    var postDueAt: Date
    var postUrl: String?
    var postedAt: Date?
    var insightsDueAt: Date?
    var createdAt: Date
    var updatedAt: Date

    init(_ d: DeliverableRecord) {
        id = d.id
        registrationId = d.registrationID
        campaignId = d.campaignID
        kolId = d.kolID
        key = d.key
        unit = d.unit
        briefVersion = d.briefVersion
        platform = d.platform
        format = d.format
        status = d.status
        currentDraftVersion = d.currentDraftVersion
        revisionRoundsUsed = d.revisionRoundsUsed
        extraRounds = d.extraRounds
        draftDueAt = d.draftDueAt
        postDueAt = d.postDueAt
        postUrl = d.postURL
        postedAt = d.postedAt
        insightsDueAt = d.insightsDueAt
        createdAt = d.createdAt
        updatedAt = d.updatedAt
    }
}

struct EventResponse: Encodable, Sendable {
    var id: UUID
    var at: Date
    @ExplicitNull var actorId: UUID?
    @ExplicitNull var actorRole: String?
    var entityType: String
    var entityId: UUID
    @ExplicitNull var from: String?
    @ExplicitNull var to: String?
    var data: [String: String]

    init(_ e: EventRecord) {
        id = e.id
        at = e.at
        actorId = e.actorID
        actorRole = e.actorRole
        entityType = e.entityType
        entityId = e.entityID
        from = e.from
        to = e.to
        data = (try? JSONDecoder().decode([String: String].self, from: Data(e.dataJSON.utf8))) ?? [:]
    }
}

struct WorklistItemResponse: JSONWritable, Sendable {
    var kind: String
    var campaignId: UUID
    var entityType: String
    var entityId: UUID
    var since: Date
    var dueAt: Date?

    init(_ item: WorklistItem) {
        kind = item.kind
        campaignId = item.campaignID
        entityType = item.entityType
        entityId = item.entityID
        since = item.since
        dueAt = item.dueAt
    }
}

struct ReviewResponse: Encodable, Sendable {
    var id: UUID
    var draftId: UUID
    var decision: ReviewDecision
    var message: String
    var reviewerRole: Role
    var createdAt: Date

    init(_ r: ReviewRecord) {
        id = r.id
        draftId = r.draftID
        decision = r.decision
        message = r.message
        reviewerRole = r.reviewerRole
        createdAt = r.createdAt
    }
}

/// A draft with its reviews. A KOL reads only the officer's words to her: the brand's feedback and the
/// officer's note forwarding the draft to the brand are left out of what she receives.
struct DraftResponse: JSONWritable, Sendable {
    var id: UUID
    var deliverableId: UUID
    var version: Int
    var caption: String
    var media: [Media]
    var notes: String
    var submittedAt: Date
    var reviews: [ReviewResponse]

    init(_ d: DraftRecord, for actor: Actor) {
        id = d.id
        deliverableId = d.deliverableID
        version = d.version
        caption = d.caption
        media = d.media
        notes = d.notes
        submittedAt = d.submittedAt
        reviews = d.reviews
            .filter { actor.role != .kol || ReviewDecision.kolMayRead(decision: $0.decision, reviewerRole: $0.reviewerRole) }
            .map(ReviewResponse.init)
    }
}

// The hand-written JSON of the busiest documents (see `JSONWritable`); keys as in openapi.json.

extension CampaignResponse {
    func writeJSON(to writer: JSONStreamWriter) {
        writer.writeObject { o in
            o.field("id", id)
            o.field("brand_id", brandId)
            o.field("officer_id", officerId)
            o.field("title", title)
            o.field("description", description)
            o.field("status", status)
            o.field("platforms", platforms)
            o.field("kol_slots", kolSlots)
            o.field("accepted_count", acceptedCount)
            o.object("eligibility") { e in
                e.field("min_followers", eligibility.minFollowers)
                e.field("niches", eligibility.niches)
                e.field("regions", eligibility.regions)
            }
            o.field("registration_closes_at", registrationClosesAt)
            o.field("brand_review_required", brandReviewRequired)
            o.field("max_revision_rounds", maxRevisionRounds)
            o.field("insights_after_days", insightsAfterDays)
            o.object("terms") { t in
                t.field("fee_idr", terms.feeIdr)
                t.field("bonus", terms.bonus) { writer, bonus in
                    writer.writeObject { b in
                        b.field("metric", bonus.metric)
                        b.field("rate_idr_per_1000", bonus.rateIdrPer1000)
                        b.field("cap_idr", bonus.capIdr)
                    }
                }
                t.field("withholding_bp", terms.withholdingBp)
            }
            o.field("published_brief_version", publishedBriefVersion)
            o.field("created_at", createdAt)
            o.field("updated_at", updatedAt)
        }
    }
}

extension DraftResponse {
    func writeJSON(to writer: JSONStreamWriter) {
        writer.writeObject { o in
            o.field("id", id)
            o.field("deliverable_id", deliverableId)
            o.field("version", version)
            o.field("caption", caption)
            o.key("media")
            writer.writeArray(media) { item in
                writer.writeObject { m in
                    m.field("url", item.url)
                    m.field("kind", item.kind)
                }
            }
            o.field("notes", notes)
            o.field("submitted_at", submittedAt)
            o.key("reviews")
            writer.writeArray(reviews) { review in
                writer.writeObject { r in
                    r.field("id", review.id)
                    r.field("draft_id", review.draftId)
                    r.field("decision", review.decision)
                    r.field("message", review.message)
                    r.field("reviewer_role", review.reviewerRole)
                    r.field("created_at", review.createdAt)
                }
            }
        }
    }
}

extension DeliverableResponse {
    func writeJSON(to writer: JSONStreamWriter) {
        writer.writeObject { o in
            o.field("id", id)
            o.field("registration_id", registrationId)
            o.field("campaign_id", campaignId)
            o.field("kol_id", kolId)
            o.field("key", key)
            o.field("unit", unit)
            o.field("brief_version", briefVersion)
            o.field("platform", platform)
            o.field("format", format)
            o.field("status", status)
            o.field("current_draft_version", currentDraftVersion)
            o.field("revision_rounds_used", revisionRoundsUsed)
            o.field("extra_rounds", extraRounds)
            o.field("draft_due_at", draftDueAt)
            o.field("post_due_at", postDueAt)
            o.field("post_url", postUrl)
            o.field("posted_at", postedAt)
            o.field("insights_due_at", insightsDueAt)
            o.field("created_at", createdAt)
            o.field("updated_at", updatedAt)
        }
    }
}

extension WorklistItemResponse {
    func writeJSON(to writer: JSONStreamWriter) {
        writer.writeObject { o in
            o.field("kind", kind)
            o.field("campaign_id", campaignId)
            o.field("entity_type", entityType)
            o.field("entity_id", entityId)
            o.field("since", since)
            o.field("due_at", dueAt)
        }
    }
}
