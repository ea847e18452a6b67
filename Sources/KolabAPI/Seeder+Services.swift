import KolabFixtures

extension Seeder {
    /// A seeder that writes as the service would: its workflows, and its password hasher and cost.
    public init(services: Services) {
        let passwords = services.passwords
        self.init(database: services.database, workflows: services.workflows, hashPassword: { try await passwords.hash($0) })
    }
}
