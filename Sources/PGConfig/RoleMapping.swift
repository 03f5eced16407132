import PGClient

/// One item of a database entry's `roles`: callers that match `principal` run as `user`, through a
/// pool of that role's own (CONTRACT.md, `roles`). The first item a caller matches wins.
public struct RoleMapping: Sendable, Equatable {
    /// `sub:<subject>`, `group:<group>`, `scope:<scope>`, `token` (the static bearer token) or `*`.
    public var principal: String
    /// The PostgreSQL role the caller logs in as.
    public var user: String
    public var password: Secret?
    /// The most connections this role's pool opens at once. Defaults to an equal share of what the
    /// entry's `pool.max` leaves after the roles that set theirs.
    public var maxConnections: Int

    public init(principal: String, user: String, password: Secret? = nil, maxConnections: Int) {
        self.principal = principal
        self.user = user
        self.password = password
        self.maxConnections = maxConnections
    }

    /// The principal of a caller who presented the static bearer token (`PGMCP_AUTH_TOKEN`).
    public static let tokenPrincipal = "token"

    /// Whether `entry` has the form of a role's principal: a principal pattern, or `token`.
    public static func isPrincipal(_ entry: String) -> Bool {
        entry == tokenPrincipal || DatabaseConfig.isPrincipalPattern(entry)
    }

    /// Whether a caller with these principals (its OAuth identities, and `token` for the static
    /// token) matches. `*` matches every caller, an unauthenticated one too (stdio, no token).
    public func matches(_ principals: [String]) -> Bool {
        principal == "*" || principals.contains(principal)
    }
}

extension DatabaseConfig {
    /// The index in `roles` of the first mapping a caller with `principals` matches; nil when the
    /// entry has no `roles` or none matches.
    public func roleIndex(for principals: [String]) -> Int? {
        roles?.firstIndex { $0.matches(principals) }
    }

    /// This entry as the role of `roles[index]` sees it: its user and password, a pool of at most
    /// the `maxConnections` of every item mapped to that role (one pool per role; min 0: opened on
    /// first use, closed when idle), and the role's name in `role` (what pools and metrics are
    /// named by, never the caller).
    public func asRole(_ index: Int) -> DatabaseConfig {
        guard let roles, roles.indices.contains(index) else { return self }
        let mapping = roles[index]
        var config = self
        config.connection["user"] = mapping.user
        config.password = mapping.password
        config.pool.min = 0
        config.pool.max = roles.filter { $0.user == mapping.user }.reduce(0) { $0 + $1.maxConnections }
        config.role = mapping.user
        return config
    }

    /// `principal → user` of each role, in order: for listings (never a password).
    public var roleSummary: String? {
        roles.map { $0.map { "\($0.principal) → \($0.user)" }.joined(separator: ", ") }
    }
}
