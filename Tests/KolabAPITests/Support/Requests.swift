import Foundation

/// A well-formed request body: typed, its members named as openapi.json documents them (snake_case,
/// through `.convertToSnakeCase`, or explicit `CodingKeys` where that conversion would not give the
/// documented name). An optional member that is nil is left out of the JSON, as a client that does not
/// set it would. Dates are ISO 8601 text, as the API reads and writes them.
///
/// Bodies a test sends malformed on purpose (unknown or wrongly typed members, required ones missing,
/// broken JSON) are `RawJSON`, never one of these.
protocol RequestBody: Encodable, Sendable {}

extension RequestBody {
    /// The body as the JSON text sent.
    var jsonText: String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }
}

/// A body a test sends malformed on purpose, to see it refused: unknown members, members of the wrong
/// type, required members missing, or text that is not JSON at all. Everything well-formed is a
/// `RequestBody`.
struct RawJSON: @unchecked Sendable {  // only ever built and read in one task
    let text: String

    /// The text as is (broken JSON, a NUL, ...).
    init(text: String) { self.text = text }

    /// A JSON object of loose members.
    init(_ object: [String: Any]) {
        text = String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// A typed body with members set, replaced (`NSNull()` sends null) or removed (`removing`): the
    /// well-formed body a test spoils in one place.
    init(_ body: some RequestBody, setting changes: [String: Any] = [:], removing removed: [String] = []) {
        var object = try! JSONSerialization.jsonObject(with: Data(body.jsonText.utf8)) as? [String: Any] ?? [:]
        for (key, value) in changes { object[key] = value }
        for key in removed { object[key] = nil }
        self.init(object)
    }
}

/// `{}`: for a route that takes no body, sent one anyway (as some clients do).
struct EmptyBody: RequestBody {}

// MARK: - Accounts

struct LoginBody: RequestBody {
    var email: String
    var password: String = testPassword
}

struct UserBody: RequestBody {
    var email: String
    var password: String = testPassword
    var role: String
    var displayName: String
    var brandID: String?
}

struct BrandBody: RequestBody {
    var name: String
}

struct SocialAccountBody: RequestBody {
    var platform: String = "instagram"
    var handle: String
    var followers: Int
}

struct BankBody: RequestBody {
    var bankName = "Bank Central Asia"
    var bankCode = "BCA"
    var accountNumber = "1234567890"
    var accountHolder = "Ibu Test"
}

struct KolSignUpBody: RequestBody {
    var email: String
    var password: String = testPassword
    var fullName: String
    var city: String
    var region: String
    var niches: [String]?
    var socialAccounts: [SocialAccountBody]?
    var bank: BankBody?

    init(
        email: String, password: String = testPassword, fullName: String, city: String, region: String, niches: [String]? = nil,
        socialAccounts: [SocialAccountBody]? = nil, bank: BankBody? = nil
    ) {
        self.email = email
        self.password = password
        self.fullName = fullName
        self.city = city
        self.region = region
        self.niches = niches
        self.socialAccounts = socialAccounts
        self.bank = bank
    }

    /// The sign-up `TestApp.kol()` sends: a parenting KOL of Bandung with one Instagram account.
    init(
        email: String, niches: [String] = ["parenting"], followers: Int = 25_000, region: String = "Jawa Barat", bank: Bool = true
    ) {
        self.init(
            email: email, fullName: "Ibu \(email.prefix(5))", city: "Bandung", region: region, niches: niches,
            socialAccounts: [SocialAccountBody(handle: "h\(email.prefix(6))", followers: followers)], bank: bank ? BankBody() : nil)
    }
}

struct KolUpdateBody: RequestBody {
    var fullName: String?
    var city: String?
    var region: String?
    var niches: [String]?
    var socialAccounts: [SocialAccountBody]?
    var bank: BankBody?
}

// MARK: - Campaigns and briefs

struct BonusBody: RequestBody {
    var metric = "views"
    var rateIDRPer1000 = 2_000
    var capIDR = 500_000

    enum CodingKeys: String, CodingKey {
        case metric
        case rateIDRPer1000 = "rate_idr_per_1000"  // digits: `.convertToSnakeCase` would write rate_idr_per1000
        case capIDR = "cap_idr"
    }
}

struct TermsBody: RequestBody {
    var feeIDR = 1_500_000
    var bonus: BonusBody? = BonusBody()
    var withholdingBP: Int?
}

struct EligibilityBody: RequestBody {
    var minFollowers: Int?
    var niches: [String]?
    var regions: [String]?
}

/// A new campaign (`NewCampaign`): by default Susu Bunda's Ramadan campaign for 5 KOLs.
struct CampaignDraftBody: RequestBody {
    var brandID: String?
    var title = "Susu Bunda Ramadan"
    var description: String? = "Stories about sahur with little ones"
    var platforms = ["instagram", "tiktok"]
    var kolSlots: Int
    var eligibility: EligibilityBody? = EligibilityBody(minFollowers: 10_000, niches: ["parenting"], regions: [])
    var registrationClosesAt: String?
    var brandReviewRequired: Bool?
    var maxRevisionRounds: Int?
    var insightsAfterDays: Int?
    var terms = TermsBody()
    var officerID: String?

    init(brandID: String?, slots: Int = 5) {
        self.brandID = brandID
        self.kolSlots = slots
    }
}

/// A change to a campaign (`CampaignUpdate`): only the members set are sent.
struct CampaignUpdateBody: RequestBody {
    var title: String?
    var description: String?
    var platforms: [String]?
    var kolSlots: Int?
    var eligibility: EligibilityBody?
    var registrationClosesAt: String?
    var brandReviewRequired: Bool?
    var maxRevisionRounds: Int?
    var insightsAfterDays: Int?
    var terms: TermsBody?
    var officerID: String?
}

struct BriefDeliverableBody: RequestBody {
    var key: String
    var platform = "instagram"
    var format: String
    var quantity = 1
    var draftDueAt: String
    var postDueAt: String
}

/// A brief version (`NewBriefVersion`): by default Susu Bunda's, one feed post and three stories.
struct BriefBody: RequestBody {
    var keyMessages: [String]? = ["Susu Bunda helps little ones sleep after sahur"]
    var dos: [String]? = ["Show the pack"]
    var donts: [String]? = ["No medical claims"]
    var hashtags: [String]? = ["SusuBunda", "#RamadanBersama"]
    var mentions: [String]? = ["susubunda.id"]
    var references: [String]? = ["https://susubunda.id/brand"]
    var deliverables = [
        BriefDeliverableBody(
            key: "ig-feed", format: "feed_post", draftDueAt: "2030-01-05T09:00:00Z", postDueAt: "2030-01-10T09:00:00Z"),
        BriefDeliverableBody(
            key: "ig-story", format: "story", quantity: 3, draftDueAt: "2030-01-06T09:00:00Z", postDueAt: "2030-01-11T09:00:00Z"),
    ]
}

struct RegistrationBody: RequestBody {
    var pitch: String?
}

struct BriefAcknowledgementBody: RequestBody {
    var version: Int
}

struct ReviewLinkBody: RequestBody {
    var reviewerName: String
    var reviewerEmail: String
    var expiresAt: String
}

// MARK: - Content

struct MediaBody: RequestBody {
    var url: String
    var kind: String = "image"
}

struct DraftBody: RequestBody {
    var caption: String?
    var media: [MediaBody]?
    var notes: String?
}

struct ReviewBody: RequestBody {
    var decision: String
    var message: String?
}

/// The proof a KOL posted (`PostProof`).
struct PostBody: RequestBody {
    var url: String
    var postedAt: String
}

struct ReasonBody: RequestBody {
    var reason: String
}

struct InsightsBody: RequestBody {
    var reach = 1_000
    var impressions = 2_000
    var views: Int
    var likes = 100
    var comments = 10
    var shares = 5
    var saves = 5
    var clicks = 3
    var evidenceURLs: [String]

    enum CodingKeys: String, CodingKey {
        case reach, impressions, views, likes, comments, shares, saves, clicks
        case evidenceURLs = "evidence_urls"  // `.convertToSnakeCase` would write evidence_ur_ls
    }

    /// The insights `TestApp.complete` submits: `views` views, twice `reach` impressions, one screenshot.
    init(views: Int, reach: Int = 1_000, likes: Int = 100) {
        self.views = views
        self.reach = reach
        self.impressions = reach * 2
        self.likes = likes
        self.evidenceURLs = ["https://cdn.example.id/insights/\(views).png"]
    }
}

// MARK: - Payouts

struct MarkPaidBody: RequestBody {
    var payoutIDs: [String]
    var bankReference: String

    enum CodingKeys: String, CodingKey {
        case payoutIDs = "payout_ids"  // `.convertToSnakeCase` would write payout_i_ds
        case bankReference = "bank_reference"
    }
}

struct MarkFailedBody: RequestBody {
    var payoutIDs: [String]
    var reason: String

    enum CodingKeys: String, CodingKey {
        case payoutIDs = "payout_ids"
        case reason
    }
}

// MARK: - Webhooks

struct WebhookEndpointBody: RequestBody {
    var url: String
    var eventTypes: [String] = ["*"]
    var description: String?
    var brandID: String?
}

struct WebhookEndpointPatchBody: RequestBody {
    var url: String?
    var eventTypes: [String]?
    var description: String?
    var enabled: Bool?
}

struct WebhookRecoverBody: RequestBody {
    var since: String
}
