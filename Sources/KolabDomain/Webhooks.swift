import Foundation

/// Which events an endpoint receives (DESIGN.md, "Webhooks", scope).
public enum WebhookScope: String, Sendable, Codable, CaseIterable {
    /// Every event (admins only).
    case platform
    /// Events of one brand's campaigns that a brand user could read: never payouts or payout batches.
    case brand
    /// Payout and payout-batch events only (finance).
    case payouts
}

/// One entry of the catalogue served at `GET /v1/webhook-event-types`.
public struct WebhookEventType: Sendable, Equatable {
    public let type: String
    public let entityType: String
    public let description: String

    /// `{entity_type}.created` when an event has no `from` state, else `{entity_type}.{to}` (the same
    /// rule as `webhook_event_type` in sql/0012_webhooks.sql, which types the outbox's messages).
    public static func name(entityType: String, from: String?, to: String?) -> String {
        entityType + "." + (from == nil ? "created" : to ?? "updated")
    }

    public static let test = "webhook.test"

    /// Every type a message can have, derived from the state machines so that it cannot drift from them.
    public static let catalogue: [WebhookEventType] = {
        var all: [WebhookEventType] = []
        func add(_ entity: String, _ noun: String, states: [String]) {
            all.append(.init(type: "\(entity).created", entityType: entity, description: "A \(noun) was created."))
            for state in states {
                all.append(
                    .init(
                        type: "\(entity).\(state)", entityType: entity,
                        description:
                            "A \(noun) moved to `\(state)`\(state == "approved" && entity == "deliverable" ? " (content approved)" : "")."))
            }
        }
        add("campaign", "campaign", states: CampaignStatus.allCases.filter { $0 != .draft }.map(\.rawValue))
        add("brief_version", "brief version", states: BriefStatus.allCases.filter { $0 != .draft }.map(\.rawValue))
        add("registration", "registration", states: RegistrationStatus.allCases.filter { $0 != .applied }.map(\.rawValue))
        add("deliverable", "deliverable", states: DeliverableStatus.allCases.map(\.rawValue))
        add("payout", "payout", states: PayoutStatus.allCases.filter { $0 != .calculated }.map(\.rawValue))
        all.append(.init(type: "payout_batch.created", entityType: "payout_batch", description: "A payout batch was created and exported."))
        all.append(.init(type: test, entityType: "webhook", description: "A test message sent by `POST /v1/webhook-endpoints/{id}/test`."))
        return all
    }()

    public static let names: Set<String> = Set(catalogue.map(\.type))

    /// Whether an event of `type` may reach an endpoint of `scope` at all.
    public static func isPayoutType(_ type: String) -> Bool {
        type.hasPrefix("payout.") || type.hasPrefix("payout_batch.")
    }
}

/// Who may manage which webhook endpoints, and what a new endpoint's scope is (DESIGN.md, "Webhooks").
public enum WebhookRules {
    /// Admins, brand users and finance manage endpoints; officers and KOLs never do (403).
    public static func mayManage(_ role: Role) -> Bool {
        role == .admin || role == .brand || role == .finance
    }

    /// The endpoints a role lists: a brand its own brand's, finance the payout endpoints, admins all (nil, nil).
    public static func listScope(_ actor: Actor) -> (scope: WebhookScope?, brandID: UUID?) {
        switch actor.role {
        case .brand: (.brand, actor.brandID ?? UUID())
        case .finance: (.payouts, nil)
        default: (nil, nil)
        }
    }

    /// Whether `actor` sees an endpoint of this scope and brand (an endpoint it does not see is a 404).
    public static func maySee(_ actor: Actor, scope: WebhookScope, brandID: UUID?) -> Bool {
        switch actor.role {
        case .admin: true
        case .brand: scope == .brand && brandID != nil && brandID == actor.brandID
        case .finance: scope == .payouts
        default: false
        }
    }

    /// The scope and brand of an endpoint `actor` registers, with `requestedBrand` from the body.
    public static func placement(for actor: Actor, requestedBrand: UUID?) throws -> (scope: WebhookScope, brandID: UUID?) {
        switch actor.role {
        case .admin:
            return requestedBrand.map { (.brand, $0) } ?? (.platform, nil)
        case .brand:
            guard let own = actor.brandID, requestedBrand == nil || requestedBrand == own else {
                throw KolabError.invalid(field: "brand_id", "A brand user registers endpoints for its own brand only.")
            }
            return (.brand, own)
        case .finance:
            guard requestedBrand == nil else {
                throw KolabError.invalid(field: "brand_id", "Finance registers platform endpoints for payout events; leave brand_id out.")
            }
            return (.payouts, nil)
        default:
            throw KolabError.forbidden("Only admins, brand users and finance manage webhook endpoints.")
        }
    }

    /// The problems with an endpoint's event types for its scope (empty when they are fine).
    public static func problems(eventTypes: [String], scope: WebhookScope) -> [String] {
        if eventTypes.isEmpty { return ["List at least one event type, or [\"*\"] for all."] }
        if eventTypes.count > 100 { return ["List at most 100 event types."] }
        var problems: [String] = []
        for type in eventTypes where type != "*" {
            if !WebhookEventType.names.contains(type) || type == WebhookEventType.test {
                problems.append("`\(type)` is not an event type; GET /v1/webhook-event-types lists them.")
            } else if scope == .payouts && !WebhookEventType.isPayoutType(type) {
                problems.append("`\(type)`: finance endpoints receive payout.* and payout_batch.* events only.")
            } else if scope == .brand && WebhookEventType.isPayoutType(type) {
                problems.append("`\(type)`: brand endpoints never receive payout events.")
            }
        }
        return problems
    }

    /// The types as stored: each once, in the order given. For a finance endpoint `*` means every payout
    /// and payout-batch type (its scope filters the rest).
    public static func stored(eventTypes: [String]) -> [String] {
        var seen = Set<String>()
        return eventTypes.filter { seen.insert($0).inserted }
    }
}

/// When a failed delivery is tried again (DESIGN.md: `5s, 5m, 30m, 2h, 5h, 10h, 10h`, each ±20%).
public struct RetrySchedule: Sendable, Equatable {
    public var delays: [Duration]

    public static let standard = RetrySchedule(delays: [
        .seconds(5), .seconds(300), .seconds(1_800), .seconds(7_200), .seconds(18_000), .seconds(36_000), .seconds(36_000),
    ])

    public init(delays: [Duration]) {
        self.delays = delays
    }

    /// Parses `KOLAB_WEBHOOK_RETRY_SCHEDULE` (`1s,2s,4s`; units ms, s, m, h, d); nil when malformed.
    public init?(parsing text: String) {
        var delays: [Duration] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let digits = part.prefix { $0.isNumber }
            guard let value = Int64(digits), value >= 0 else { return nil }
            let unit = part.dropFirst(digits.count)
            switch unit {
            case "ms": delays.append(.milliseconds(value))
            case "s": delays.append(.seconds(value))
            case "m": delays.append(.seconds(value * 60))
            case "h": delays.append(.seconds(value * 3_600))
            case "d": delays.append(.seconds(value * 86_400))
            default: return nil
            }
        }
        guard !delays.isEmpty else { return nil }
        self.delays = delays
    }

    /// The wait after the `attempts`-th failed attempt, or nil when the message has had its last try.
    /// `jitter` is a number in -1...1 (±20% of the delay); `retryAfter` (429, 503) wins when longer.
    public func delay(afterAttempts attempts: Int, jitter: Double, retryAfter: Duration? = nil) -> Duration? {
        guard attempts >= 1, attempts <= delays.count else { return nil }
        let base = delays[attempts - 1]
        let factor = 1 + 0.2 * max(-1, min(1, jitter))
        let jittered = base * factor
        if let retryAfter, retryAfter > jittered { return min(retryAfter, .seconds(86_400)) }
        return jittered
    }
}

/// Where a webhook may be sent (DESIGN.md, "Webhooks", safety): never to this machine, a private
/// network, link-local (cloud metadata), multicast or unspecified addresses, in IPv4 or IPv6 form.
public enum WebhookAddressPolicy {
    /// Why an IPv4 address is refused, or nil when it is a public address.
    public static func refusal(ipv4 a: [UInt8]) -> String? {
        guard a.count == 4 else { return "not an IPv4 address" }
        switch (a[0], a[1]) {
        case (0, _): return "an unspecified address"
        case (127, _): return "a loopback address"
        case (10, _): return "a private address"
        case (172, 16...31): return "a private address"
        case (192, 168): return "a private address"
        case (100, 64...127): return "a shared (carrier-grade NAT) address"
        case (169, 254): return "a link-local (metadata) address"
        case (224...239, _): return "a multicast address"
        case (240...255, _): return "a reserved address"
        case (192, 0) where a[2] == 0: return "a reserved (metadata) address"
        case (198, 18...19): return "a benchmarking address"
        default: return nil
        }
    }

    /// Why an IPv6 address is refused, or nil; IPv4-mapped and NAT64 forms are judged by their IPv4 part.
    public static func refusal(ipv6 a: [UInt8]) -> String? {
        guard a.count == 16 else { return "not an IPv6 address" }
        let zeroPrefix = a[0..<10].allSatisfy { $0 == 0 }
        if zeroPrefix && a[10] == 0xff && a[11] == 0xff { return refusal(ipv4: Array(a[12..<16])) }
        if a[0..<12].allSatisfy({ $0 == 0 }) {
            if a[12..<15].allSatisfy({ $0 == 0 }) && a[15] <= 1 { return a[15] == 1 ? "a loopback address" : "an unspecified address" }
            return refusal(ipv4: Array(a[12..<16]))  // IPv4-compatible (deprecated)
        }
        if a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b { return refusal(ipv4: Array(a[12..<16])) }  // 64:ff9b::/96
        if a[0] & 0xfe == 0xfc { return "a private (unique local) address" }
        if a[0] == 0xfe && a[1] & 0xc0 == 0x80 { return "a link-local address" }
        if a[0] == 0xfe && a[1] & 0xc0 == 0xc0 { return "a site-local address" }
        if a[0] == 0xff { return "a multicast address" }
        if a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8 { return "a documentation address" }
        return nil
    }

    /// The parts of an endpoint URL that matter, or the problem with it. Outside development only
    /// `https` is allowed.
    public static func parse(_ text: String, development: Bool) -> Result<(scheme: String, host: String, port: Int), KolabError> {
        func invalid(_ message: String) -> Result<(scheme: String, host: String, port: Int), KolabError> {
            .failure(.invalid(field: "url", message))
        }
        guard text.count <= 2048 else { return invalid("At most 2048 characters.") }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let rawHost = components.host, !rawHost.isEmpty
        else { return invalid("An absolute URL with a host, like https://crm.example.com/kolab-hooks.") }
        guard scheme == "https" || (development && scheme == "http") else {
            return invalid(development ? "Use https or http." : "Use https; plain http is allowed only in development mode.")
        }
        guard components.user == nil && components.password == nil else { return invalid("Leave credentials out of the URL.") }
        var host = rawHost.lowercased()
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.hasSuffix(".") { host = String(host.dropLast()) }
        if !development && (host == "localhost" || host.hasSuffix(".localhost")) {
            return invalid("`\(host)` is this machine; webhooks go to public addresses only.")
        }
        return .success((scheme, host, components.port ?? (scheme == "https" ? 443 : 80)))
    }
}
