import Foundation
import KolabDomain
import Testing

@Suite("Webhook rules")
struct WebhookRulesTests {
    static let brand = UUID()
    static let admin = Actor(userID: UUID(), role: .admin, brandID: nil)
    static let brandUser = Actor(userID: UUID(), role: .brand, brandID: brand)
    static let finance = Actor(userID: UUID(), role: .finance, brandID: nil)
    static let officer = Actor(userID: UUID(), role: .officer, brandID: nil)
    static let kol = Actor(userID: UUID(), role: .kol, brandID: nil)

    @Test func onlyAdminsBrandUsersAndFinanceManageEndpoints() {
        #expect(Role.allCases.filter(WebhookRules.mayManage) == [.admin, .brand, .finance])
    }

    @Test(arguments: [
        (admin, WebhookScope.platform, nil as UUID?, true), (admin, .brand, brand, true), (admin, .payouts, nil, true),
        (brandUser, .brand, brand, true), (brandUser, .brand, UUID(), false), (brandUser, .platform, nil, false),
        (brandUser, .payouts, nil, false), (finance, .payouts, nil, true), (finance, .platform, nil, false),
        (finance, .brand, brand, false), (officer, .platform, nil, false), (kol, .brand, brand, false),
    ])
    func whoSeesWhichEndpoint(actor: Actor, scope: WebhookScope, brandID: UUID?, sees: Bool) {
        #expect(WebhookRules.maySee(actor, scope: scope, brandID: brandID) == sees)
    }

    @Test func placementFollowsTheRole() throws {
        #expect(try WebhookRules.placement(for: Self.admin, requestedBrand: nil) == (.platform, nil))
        #expect(try WebhookRules.placement(for: Self.admin, requestedBrand: Self.brand) == (.brand, Self.brand))
        #expect(try WebhookRules.placement(for: Self.brandUser, requestedBrand: nil) == (.brand, Self.brand))
        #expect(try WebhookRules.placement(for: Self.brandUser, requestedBrand: Self.brand) == (.brand, Self.brand))
        #expect(throws: KolabError.self) { try WebhookRules.placement(for: Self.brandUser, requestedBrand: UUID()) }
        #expect(try WebhookRules.placement(for: Self.finance, requestedBrand: nil) == (.payouts, nil))
        #expect(throws: KolabError.self) { try WebhookRules.placement(for: Self.finance, requestedBrand: Self.brand) }
        #expect(throws: KolabError.self) { try WebhookRules.placement(for: Self.officer, requestedBrand: nil) }
    }

    @Test func eventTypesMustComeFromTheCatalogueAndFitTheScope() {
        #expect(WebhookRules.problems(eventTypes: ["*"], scope: .platform).isEmpty)
        #expect(WebhookRules.problems(eventTypes: ["deliverable.in_brand_review", "payout.paid"], scope: .platform).isEmpty)
        #expect(WebhookRules.problems(eventTypes: [], scope: .platform).count == 1)
        #expect(WebhookRules.problems(eventTypes: ["deliverable.teleported"], scope: .platform).count == 1)
        #expect(WebhookRules.problems(eventTypes: ["webhook.test"], scope: .platform).count == 1)
        #expect(WebhookRules.problems(eventTypes: ["payout.paid", "payout_batch.created", "*"], scope: .payouts).isEmpty)
        #expect(WebhookRules.problems(eventTypes: ["deliverable.approved"], scope: .payouts).count == 1)
        #expect(WebhookRules.problems(eventTypes: ["payout.paid"], scope: .brand).count == 1)
        #expect(WebhookRules.stored(eventTypes: ["a", "b", "a"]) == ["a", "b"])
    }

    @Test func typesAreCreatedOrTheNewState() {
        #expect(WebhookEventType.name(entityType: "registration", from: nil, to: "applied") == "registration.created")
        #expect(
            WebhookEventType.name(entityType: "deliverable", from: "draft_submitted", to: "in_brand_review")
                == "deliverable.in_brand_review")
        let names = WebhookEventType.names
        for state in DeliverableStatus.allCases { #expect(names.contains("deliverable.\(state.rawValue)")) }
        for state in PayoutStatus.allCases where state != .calculated { #expect(names.contains("payout.\(state.rawValue)")) }
        #expect(names.contains("campaign.created") && names.contains("payout_batch.created") && names.contains("webhook.test"))
        #expect(!names.contains("campaign.draft"))
        #expect(WebhookEventType.catalogue.count == names.count)
    }

    @Test func theScheduleWaitsWithJitterThenGivesUp() throws {
        let schedule = RetrySchedule.standard
        #expect(schedule.delay(afterAttempts: 1, jitter: 0) == .seconds(5))
        #expect(schedule.delay(afterAttempts: 1, jitter: 1) == .seconds(6))
        #expect(schedule.delay(afterAttempts: 1, jitter: -1) == .seconds(4))
        #expect(schedule.delay(afterAttempts: 2, jitter: 0) == .seconds(300))
        #expect(schedule.delay(afterAttempts: 7, jitter: 0) == .seconds(36_000))
        #expect(schedule.delay(afterAttempts: 8, jitter: 0) == nil)
        // Retry-After wins when it asks for longer, never past a day.
        #expect(schedule.delay(afterAttempts: 1, jitter: 0, retryAfter: .seconds(120)) == .seconds(120))
        #expect(schedule.delay(afterAttempts: 1, jitter: 0, retryAfter: .seconds(1)) == .seconds(5))
        #expect(schedule.delay(afterAttempts: 1, jitter: 0, retryAfter: .seconds(999_999)) == .seconds(86_400))
    }

    @Test func schedulesAreParsedFromTheEnvironmentsForm() {
        #expect(RetrySchedule(parsing: "1s,2s,4s")?.delays == [.seconds(1), .seconds(2), .seconds(4)])
        #expect(
            RetrySchedule(parsing: "500ms, 5m, 2h, 1d")?.delays == [.milliseconds(500), .seconds(300), .seconds(7_200), .seconds(86_400)])
        #expect(RetrySchedule(parsing: "") == nil)
        #expect(RetrySchedule(parsing: "5") == nil)
        #expect(RetrySchedule(parsing: "5s,soon") == nil)
        #expect(RetrySchedule(parsing: "-1s") == nil)
    }

    @Test(
        arguments: [
            ([127, 0, 0, 1], true), ([10, 1, 2, 3], true), ([172, 16, 0, 1], true), ([172, 31, 255, 1], true), ([172, 32, 0, 1], false),
            ([192, 168, 1, 1], true), ([169, 254, 169, 254], true), ([100, 64, 0, 1], true), ([0, 0, 0, 0], true),
            ([224, 0, 0, 1], true), ([255, 255, 255, 255], true), ([192, 0, 0, 192], true), ([8, 8, 8, 8], false),
            ([203, 0, 114, 1], false),
        ] as [([UInt8], Bool)])
    func ipv4Addresses(address: [UInt8], refused: Bool) {
        #expect((WebhookAddressPolicy.refusal(ipv4: address) != nil) == refused)
    }

    @Test func ipv6AddressesIncludingMappedIPv4() {
        func v6(_ prefix: [UInt8], _ suffix: [UInt8] = []) -> [UInt8] {
            prefix + Array(repeating: 0, count: 16 - prefix.count - suffix.count) + suffix
        }
        #expect(WebhookAddressPolicy.refusal(ipv6: v6([], [1])) != nil)  // ::1
        #expect(WebhookAddressPolicy.refusal(ipv6: v6([])) != nil)  // ::
        #expect(WebhookAddressPolicy.refusal(ipv6: v6([0xfe, 0x80], [1])) != nil)  // fe80::1
        #expect(WebhookAddressPolicy.refusal(ipv6: v6([0xfc, 0x00], [1])) != nil)  // fc00::1
        #expect(WebhookAddressPolicy.refusal(ipv6: v6([0xfd, 0x00, 0x0e, 0xc2], [0x02, 0x54])) != nil)  // fd00:ec2::254 (metadata)
        #expect(WebhookAddressPolicy.refusal(ipv6: v6([0xff, 0x02], [1])) != nil)  // ff02::1
        #expect(WebhookAddressPolicy.refusal(ipv6: v6([], [0xff, 0xff, 127, 0, 0, 1])) != nil)  // ::ffff:127.0.0.1
        #expect(WebhookAddressPolicy.refusal(ipv6: v6([], [0xff, 0xff, 169, 254, 169, 254])) != nil)  // ::ffff:169.254.169.254
        #expect(WebhookAddressPolicy.refusal(ipv6: v6([0, 0x64, 0xff, 0x9b], [10, 0, 0, 1])) != nil)  // 64:ff9b::10.0.0.1
        #expect(WebhookAddressPolicy.refusal(ipv6: v6([], [0xff, 0xff, 8, 8, 8, 8])) == nil)  // ::ffff:8.8.8.8
        #expect(WebhookAddressPolicy.refusal(ipv6: v6([0x26, 0x06, 0x47, 0x00], [0x11, 0x11])) == nil)  // 2606:4700::1111
    }

    @Test func urlsMustBeHttpsWithAHostOutsideDevelopment() throws {
        #expect(throws: Never.self) { try WebhookAddressPolicy.parse("https://crm.example.com/hooks", development: false).get() }
        #expect(throws: KolabError.self) { try WebhookAddressPolicy.parse("http://crm.example.com/hooks", development: false).get() }
        #expect(throws: Never.self) { try WebhookAddressPolicy.parse("http://127.0.0.1:9000/hooks", development: true).get() }
        #expect(throws: KolabError.self) { try WebhookAddressPolicy.parse("https://localhost/hooks", development: false).get() }
        #expect(throws: KolabError.self) { try WebhookAddressPolicy.parse("https://user:pw@crm.example.com/", development: false).get() }
        #expect(throws: KolabError.self) { try WebhookAddressPolicy.parse("crm.example.com/hooks", development: false).get() }
        #expect(throws: KolabError.self) { try WebhookAddressPolicy.parse("ftp://crm.example.com/", development: true).get() }
        let parsed = try WebhookAddressPolicy.parse("https://[::ffff:127.0.0.1]:8443/x", development: false).get()
        #expect(parsed.host == "::ffff:127.0.0.1" && parsed.port == 8443)
    }
}
