import Foundation
import KolabDomain
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a webhook may go (DESIGN.md, "Webhooks", safety), checked when an endpoint is registered or
/// changed and again before every attempt: `https` only, and no host that is or resolves to a
/// loopback, private, link-local, multicast, unspecified or metadata address. Development mode allows
/// both, for local receivers.
///
/// A host that does not resolve at registration is accepted (its DNS may come later); each attempt
/// resolves it again and refuses a private answer. What is left: the HTTP client resolves the name
/// once more when it connects, so a name that changes its answer within that moment (DNS rebinding)
/// is not caught; see docs/architecture.md.
public struct WebhookAddressGuard: Sendable {
    public let development: Bool

    public init(development: Bool) {
        self.development = development
    }

    /// Throws a 422 naming `url` when the endpoint may not be registered.
    public func checkRegistration(_ url: String) async throws {
        if let problem = try await problem(with: url, unresolvedIsFine: true) {
            throw KolabError.invalid(field: "url", problem)
        }
    }

    /// Why a message may not be sent to `url` now, or nil.
    public func refusalBeforeSending(_ url: String) async -> String? {
        do {
            return try await problem(with: url, unresolvedIsFine: false)
        } catch {
            return "The endpoint's address could not be checked."
        }
    }

    private func problem(with url: String, unresolvedIsFine: Bool) async throws -> String? {
        let parts: (scheme: String, host: String, port: Int)
        switch WebhookAddressPolicy.parse(url, development: development) {
        case .success(let value): parts = value
        case .failure(let error): return error.fieldErrors.first?.message ?? error.detail
        }
        if development { return nil }
        let addresses: [Address]
        if let literal = Address(literal: parts.host) {
            addresses = [literal]
        } else {
            addresses = await Self.resolve(parts.host)
            if addresses.isEmpty {
                return unresolvedIsFine ? nil : "`\(parts.host)` does not resolve to an address."
            }
        }
        for address in addresses {
            if let refusal = address.refusal {
                return "`\(parts.host)` is or resolves to \(refusal); webhooks go to public addresses only."
            }
        }
        return nil
    }

    /// An IPv4 or IPv6 address as bytes.
    enum Address {
        case v4([UInt8])
        case v6([UInt8])

        init?(literal: String) {
            var v4 = in_addr()
            var v6 = in6_addr()
            if inet_pton(AF_INET, literal, &v4) == 1 {
                self = .v4(withUnsafeBytes(of: &v4) { Array($0) })
            } else if inet_pton(AF_INET6, literal, &v6) == 1 {
                self = .v6(withUnsafeBytes(of: &v6) { Array($0) })
            } else {
                return nil
            }
        }

        var refusal: String? {
            switch self {
            case .v4(let bytes): WebhookAddressPolicy.refusal(ipv4: bytes)
            case .v6(let bytes): WebhookAddressPolicy.refusal(ipv6: bytes)
            }
        }
    }

    /// Every address `host` resolves to (empty when it does not), on the thread pool: `getaddrinfo` blocks.
    static func resolve(_ host: String) async -> [Address] {
        (try? await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [Address]() }
            defer { freeaddrinfo(list) }
            var addresses: [Address] = []
            var node: UnsafeMutablePointer<addrinfo>? = first
            while let current = node {
                if let sockaddr = current.pointee.ai_addr {
                    switch Int32(current.pointee.ai_family) {
                    case AF_INET:
                        sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                            var address = pointer.pointee.sin_addr
                            addresses.append(.v4(withUnsafeBytes(of: &address) { Array($0) }))
                        }
                    case AF_INET6:
                        sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                            var address = pointer.pointee.sin6_addr
                            addresses.append(.v6(withUnsafeBytes(of: &address) { Array($0) }))
                        }
                    default: break
                    }
                }
                node = current.pointee.ai_next
            }
            return addresses
        }) ?? []
    }
}
