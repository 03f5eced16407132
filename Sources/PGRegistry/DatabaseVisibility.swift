import PGConfig

/// Which configured databases a caller sees and may write, by its principal patterns (OAuth:
/// `allowedPrincipals`, `writePrincipals`), and, on an entry with `roles`, the role it runs as.
/// Without OAuth (`identities` nil) it sees and writes what the configuration allows everyone.
public struct DatabaseVisibility: Sendable {
    public let identities: [String]?
    /// Whether the caller presented the static bearer token (the principal `token` of `roles`).
    public let staticToken: Bool

    public init(identities: [String]?, staticToken: Bool = false) {
        self.identities = identities
        self.staticToken = staticToken
    }

    /// What the items of an entry's `roles` are matched against: the OAuth identities, and `token`.
    public var rolePrincipals: [String] {
        (identities ?? []) + (staticToken ? [RoleMapping.tokenPrincipal] : [])
    }

    public func sees(_ config: DatabaseConfig) -> Bool {
        config.isVisible(to: identities) && (config.roles == nil || config.roleIndex(for: rolePrincipals) != nil)
    }

    /// A configured database as this caller sees it: nil when hidden, read-only when the caller may
    /// not write it. On an entry with `roles`, as the caller's role (its config, and its pool, made
    /// on first use); hidden when no item matches the caller.
    public func asSeen(_ target: DatabaseTarget) -> DatabaseTarget? {
        if let rolePools = target.rolePools { return asRole(target, rolePools) }
        guard let identities else { return target }
        guard target.config.isVisible(to: identities) else { return nil }
        guard !target.config.readOnly, !target.config.isWritable(by: identities) else { return target }
        var config = target.config
        config.readOnly = true
        return target.with(config: config)
    }

    private func asRole(_ target: DatabaseTarget, _ rolePools: RolePools) -> DatabaseTarget? {
        guard target.config.isVisible(to: identities), let index = target.config.roleIndex(for: rolePrincipals) else { return nil }
        var config = target.config.asRole(index)
        if !target.config.isWritable(by: identities) { config.readOnly = true }
        return target.with(config: config, pool: rolePools.pool(index))
    }

    /// Where a session of this caller starts: the default database, or, when that one is hidden
    /// from the caller, the first configured database it may see.
    public func startingDatabase(in configuration: Configuration) -> String {
        let fallback = configuration.defaultDatabaseID
        guard identities != nil || configuration.hasRoles, configuration.databases.first(where: { $0.id == fallback }).map(sees) != true else {
            return fallback
        }
        return configuration.databases.first(where: sees)?.id ?? fallback
    }
}
