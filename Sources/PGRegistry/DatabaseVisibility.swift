import PGConfig

/// Which configured databases a caller sees and may write, by its principal patterns (OAuth:
/// `allowedPrincipals`, `writePrincipals`). Without OAuth (`identities` nil) it sees and writes
/// what the configuration allows everyone.
public struct DatabaseVisibility: Sendable {
    public let identities: [String]?

    public init(identities: [String]?) { self.identities = identities }

    public func sees(_ config: DatabaseConfig) -> Bool { config.isVisible(to: identities) }

    /// A configured database as this caller sees it: nil when hidden, read-only when the caller may
    /// not write it.
    public func asSeen(_ target: DatabaseTarget) -> DatabaseTarget? {
        guard let identities else { return target }
        guard target.config.isVisible(to: identities) else { return nil }
        guard !target.config.readOnly, !target.config.isWritable(by: identities) else { return target }
        var seen = target
        seen.config.readOnly = true
        return seen
    }

    /// Where a session of this caller starts: the default database, or, when that one is hidden
    /// from the caller, the first configured database it may see.
    public func startingDatabase(in configuration: Configuration) -> String {
        let fallback = configuration.defaultDatabaseID
        guard identities != nil, configuration.databases.first(where: { $0.id == fallback }).map(sees) != true else { return fallback }
        return configuration.databases.first(where: sees)?.id ?? fallback
    }
}
