import PGClient

/// One configured database: where it is, how it may be used, and how its pool behaves.
/// Defaults follow CONTRACT.md.
public struct DatabaseConfig: Sendable {
    public enum Isolation: String, Sendable, CaseIterable {
        /// Every session shares the database (and its pool).
        case shared
        /// Every work session gets its own copy (`CREATE DATABASE … TEMPLATE …`), dropped at its end.
        case clone
    }

    /// What stands between pgmcp and PostgreSQL.
    public enum Pooling: String, Sendable, CaseIterable {
        /// pgmcp's connections are PostgreSQL sessions of their own.
        case direct
        /// A pooler in transaction mode (PgBouncer `pool_mode = transaction`): a server connection
        /// is ours only within a transaction. pgmcp then sets nothing for the session outside one,
        /// and refuses what needs a real session (clone databases).
        case transaction
    }

    public enum PrivilegeCheck: String, Sendable, CaseIterable {
        /// A read-only entry whose role is superuser or BYPASSRLS is logged as a warning.
        case warn
        /// …or refused.
        case enforce
    }

    /// `[a-z0-9_-]{1,63}`: how tools and sessions name it.
    public var id: String
    /// A display title. Defaults to the id.
    public var title: String
    public var description: String?
    /// Host, port, database, user, sslmode… as libpq will use them. The password is not here.
    public var connection: PGConnectionParameters
    public var password: Secret?
    /// Defaults to true: writes are refused unless an entry says otherwise.
    public var readOnly: Bool
    /// Defaults to 30000 ms; 0 turns the limit off.
    public var statementTimeoutMs: Int
    /// Defaults to 1000.
    public var maxRows: Int
    public var pool: PoolSettings
    public var isolation: Isolation
    public var pooling: Pooling
    public var privilegeCheck: PrivilegeCheck
    /// With OAuth: the principals that may see and use this database (`sub:<subject>`,
    /// `group:<group>`, `scope:<scope>`, `*` for any authenticated caller); nil for everyone.
    public var allowedPrincipals: [String]?
    /// With OAuth: the principals that may write here (on a writable entry); nil for every allowed one.
    public var writePrincipals: [String]?
    /// Callers mapped to PostgreSQL roles of their own, first match wins (see `RoleMapping`); nil:
    /// every caller runs as the entry's `user`.
    public var roles: [RoleMapping]?
    /// For the entry as one of its roles sees it (`asRole`): that role's user name. Nil for the entry.
    public var role: String?

    public init(
        id: String, title: String? = nil, description: String? = nil, connection: PGConnectionParameters,
        password: Secret? = nil, readOnly: Bool = true, statementTimeoutMs: Int = 30_000, maxRows: Int = 1_000,
        pool: PoolSettings = PoolSettings(), isolation: Isolation = .shared, pooling: Pooling = .direct, privilegeCheck: PrivilegeCheck = .warn,
        allowedPrincipals: [String]? = nil, writePrincipals: [String]? = nil, roles: [RoleMapping]? = nil
    ) {
        self.roles = roles
        self.allowedPrincipals = allowedPrincipals
        self.writePrincipals = writePrincipals
        self.id = id
        self.title = title ?? id
        self.description = description
        self.connection = connection
        self.password = password
        self.readOnly = readOnly
        self.statementTimeoutMs = statementTimeoutMs
        self.maxRows = maxRows
        self.pool = pool
        self.isolation = isolation
        self.pooling = pooling
        self.privilegeCheck = privilegeCheck
    }

    /// Whether `entry` has the form of a principal pattern.
    public static func isPrincipalPattern(_ entry: String) -> Bool {
        entry == "*" || ["sub:", "group:", "scope:"].contains { entry.hasPrefix($0) && entry.count > $0.count }
    }

    /// Whether a caller named by `identities` (nil: no OAuth, so everyone) may see this database.
    public func isVisible(to identities: [String]?) -> Bool {
        Self.admits(allowedPrincipals, identities)
    }

    /// Whether that caller may write here (the entry's own `readOnly` aside).
    public func isWritable(by identities: [String]?) -> Bool {
        Self.admits(allowedPrincipals, identities) && Self.admits(writePrincipals, identities)
    }

    private static func admits(_ patterns: [String]?, _ identities: [String]?) -> Bool {
        guard let patterns, let identities else { return true }
        return patterns.contains("*") || patterns.contains { identities.contains($0) }
    }

    /// What libpq connects with, password included. Keep it in memory only.
    public var connectionParameters: PGConnectionParameters {
        var parameters = connection
        if let password { parameters["password"] = password.reveal() }
        return parameters
    }

    /// `postgresql://user:•••@host:port/db`: safe to print anywhere.
    public var maskedTarget: String { connectionParameters.maskedTarget }

    /// `prod (postgresql://app:•••@db:5432/app, read-only)`: for logs.
    public var summary: String {
        "\(id) (\(maskedTarget), \(readOnly ? "read-only" : "read-write"))"
    }
}

/// A database's pool. Defaults: min 0, max 10, idle timeout 300 s, maximum lifetime 1800 s.
public struct PoolSettings: Sendable, Equatable {
    public var min: Int
    public var max: Int
    public var idleTimeoutSeconds: Int
    public var maxLifetimeSeconds: Int

    public init(min: Int = 0, max: Int = 10, idleTimeoutSeconds: Int = 300, maxLifetimeSeconds: Int = 1800) {
        self.min = min
        self.max = max
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.maxLifetimeSeconds = maxLifetimeSeconds
    }
}
