import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import KolabDomain
import KolabStore
import KolabWebhooks
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// Everything a handler needs, built once by `buildApplication`.
public struct Services: Sendable {
    public let configuration: Configuration
    public let database: Database
    public let accounts: AccountStore
    public let kols: KolStore
    public let auth: AuthStore
    public let idempotency: IdempotencyStore
    public let workflows: Workflows
    public let campaigns: CampaignStore
    public let briefs: BriefStore
    public let registrations: RegistrationStore
    public let events: EventStore
    public let worklist: WorklistStore
    public let passwords: PasswordHasher
    public let webhooks: WebhookStore
    public let webhookAddresses: WebhookAddressGuard
    let cursors: CursorCodec
    /// The JSON of campaigns by revision, for the campaign list.
    let campaignJSON = CampaignJSONCache()

    public init(configuration: Configuration, database: Database, logger: Logger) {
        self.configuration = configuration
        self.database = database
        let workflows = Workflows(logger: logger)
        self.workflows = workflows
        self.accounts = workflows.accounts
        self.kols = workflows.kols
        self.campaigns = workflows.campaigns
        self.briefs = workflows.briefs
        self.registrations = workflows.registrations
        self.events = workflows.events
        self.auth = AuthStore(logger: logger)
        self.idempotency = IdempotencyStore(logger: logger, box: configuration.secretBox)
        self.worklist = WorklistStore(logger: logger)
        self.passwords = PasswordHasher(cost: configuration.bcryptCost)
        self.webhooks = WebhookStore(logger: logger)
        self.webhookAddresses = WebhookAddressGuard(development: configuration.development)
        self.cursors = CursorCodec(auth: auth, database: database)
    }

    /// Runs reads on the request's transaction when a middleware holds one, else on the request's
    /// connection, else on a pooled one.
    func read<T: Sendable>(_ context: KolabRequestContext, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        if let transaction = context.transaction { return try await body(transaction) }
        if let connection = context.connection { return try await body(connection) }
        return try await database.withConnection(body)
    }

    /// Runs a change in the request's transaction (the idempotency key commits with it), or in a new one.
    func write<T: Sendable>(_ context: KolabRequestContext, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        if let transaction = context.transaction { return try await body(transaction) }
        return try await transaction(context, body)
    }

    /// A deliverable step (`Workflows.Step`: post proof, its check and its rejection) in the request's
    /// transaction when a middleware holds one (an idempotency key), else in its own statement, which
    /// commits at once (the locked way in a new transaction if a row changed since it was read).
    func perform(_ step: Workflows.Step, deliverable id: UUID, actor: Actor, _ context: KolabRequestContext) async throws
        -> DeliverableRecord
    {
        if let transaction = context.transaction {
            return try await workflows.perform(step, deliverable: id, actor: actor, on: transaction, inTransaction: true)
        }
        return try await read(context) { try await workflows.perform(step, deliverable: id, actor: actor, on: $0, inTransaction: false) }
    }

    /// A new transaction on the request's connection, or on a pooled one for anonymous requests.
    func transaction<T: Sendable>(_ context: KolabRequestContext, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        if let connection = context.connection {
            return try await Database.transaction(on: connection, logger: database.logger, body)
        }
        return try await database.withTransaction(body)
    }
}

/// bcrypt on the thread pool, so that a login never blocks an event loop.
public struct PasswordHasher: Sendable {
    public let cost: UInt8
    /// Compared against when the e-mail is unknown, so both answers take as long.
    private let decoy: String

    public init(cost: UInt8) {
        self.cost = cost
        self.decoy = Bcrypt.hash("kolab-decoy-password", cost: cost)
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, hash: String?) async throws -> Bool {
        let decoy = self.decoy
        return try await NIOThreadPool.singleton.runIfActive {
            let matches = Bcrypt.verify(password, hash: hash ?? decoy)
            return hash != nil && matches
        }
    }
}
