import Foundation
import HTTPTypes
import Hummingbird
import KolabDomain
import KolabStore
import Logging
import NIOCore
import PostgresNIO

/// Login, the caller's own account, and logout.
struct AuthController {
    let services: Services

    struct LoginRequest: Decodable {
        var email: String
        var password: String
    }

    /// The token the request carries, without its value: `GET /v1/auth/tokens/current`.
    struct CurrentToken: Encodable {
        var userId: UUID
        var role: String
        var createdAt: Date
        var expiresAt: Date
    }

    struct TokenResponse: Encodable {
        var token: String
        var tokenType = "Bearer"
        var expiresAt: Date
        var user: UserResponse
    }

    func register(_ routes: RouteTable) {
        routes.on(.post, "/v1/auth/tokens", login)
        routes.on(.get, "/v1/me") { _, context in
            let actor = try context.requireActor()
            guard let user = try await services.read(context, { try await services.accounts.user(id: actor.userID, on: $0) }) else {
                throw KolabError(.unauthenticated, "This account no longer exists.")
            }
            return try Response.json(UserResponse(user))
        }
        routes.on(.get, "/v1/auth/tokens/current") { _, context in
            let actor = try context.requireActor()
            guard let token = context.bearerToken,
                let info = try await services.read(context, { try await services.auth.tokenInfo(token, on: $0) })
            else { throw KolabError(.unauthenticated, "The token is unknown, expired or revoked.") }
            var response = try Response.json(
                CurrentToken(userId: actor.userID, role: actor.role.rawValue, createdAt: info.createdAt, expiresAt: info.expiresAt))
            response.headers[.cacheControl] = "no-store"
            return response
        }
        routes.on(.delete, "/v1/auth/tokens/current") { _, context in
            _ = try context.requireActor()
            if let token = context.bearerToken {
                try await services.write(context) { try await services.auth.revoke(token: token, on: $0) }
            }
            return Response(status: .noContent)
        }
    }

    /// Ten failures for one e-mail within 15 minutes lock it until the oldest ages out (429 + Retry-After).
    /// Unknown e-mails and wrong passwords get the same answer in the same time.
    @Sendable func login(_ request: Request, context: KolabRequestContext) async throws -> Response {
        let body = try await request.decodeBody(LoginRequest.self, context: context)
        var v = Validator()
        let email = v.email(body.email)
        v.check(!body.password.isEmpty, "password", "is required")
        // bcrypt reads 72 bytes and ignores the rest: a longer password would log in with its prefix.
        v.check(body.password.utf8.count <= PasswordPolicy.maximumBytes, "password", "must be at most \(PasswordPolicy.maximumBytes) bytes")
        try v.validate()
        guard let email else { throw KolabError.invalid(v.errors) }

        let token = "kolab_" + Base64URL.encode(Data((0..<32).map { _ in UInt8.random(in: .min ... .max) }))
        let lifetime = services.configuration.tokenLifetimeSeconds
        let (expiresAt, user) = try await services.signIn(email: email, password: body.password, request: request, context: context) {
            userID, connection in
            let expiresAt = try await services.auth.storeToken(token, userID: userID, lifetimeSeconds: lifetime, on: connection)
            guard let user = try await services.accounts.user(id: userID, on: connection) else {
                throw KolabError(.unauthenticated, "The e-mail or the password is wrong.")
            }
            return (expiresAt, user)
        }
        return try Response.created(
            TokenResponse(token: token, expiresAt: expiresAt, user: UserResponse(user)), location: "/v1/auth/tokens/current")
    }
}

extension Services {
    /// The one sign-in, for the API's tokens and the console's sessions. The attempt is counted (and
    /// committed) before bcrypt runs, so a burst cannot slip past the throttle; unknown e-mails and
    /// wrong passwords get the same answer in the same time. `issue` writes the credential in the
    /// transaction that clears the e-mail's failures.
    func signIn<T: Sendable>(
        email: EmailAddress, password: String, request: Request, context: KolabRequestContext,
        issue: (UUID, PostgresConnection) async throws -> T
    ) async throws -> T {
        let attempt = try await transaction(context) {
            try await auth.admit(email: email.value, address: context.clientAddress(request, configuration), on: $0)
        }
        let stored = try await read(context) { try await accounts.passwordHash(email: email, on: $0) }
        guard try await passwords.verify(password, hash: stored?.1), let userID = stored?.0 else {
            throw KolabError(.unauthenticated, "The e-mail or the password is wrong.")
        }
        return try await write(context) { connection in
            try await auth.succeeded(attempt, on: connection)
            return try await issue(userID, connection)
        }
    }
}
