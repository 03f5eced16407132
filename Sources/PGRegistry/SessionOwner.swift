/// Who a work session belongs to: the credential that made it and, under OAuth, the principal
/// patterns its caller matched (`sub:…`, `group:…`, `scope:…`). One value, so that every
/// ownership check (a handle's use, `close_session`, an MCP session's requests) is the same check.
public struct SessionOwner: Sendable, Hashable {
    /// A fingerprint of the credential; nil for anyone (no authentication, stdio).
    public let credential: String?
    /// Nil without OAuth: the caller sees every database.
    public let identities: [String]?

    public init(credential: String?, identities: [String]?) {
        self.credential = credential
        self.identities = identities
    }

    /// No credential and no identities: stdio, or HTTP without authentication.
    public static let anyone = SessionOwner(credential: nil, identities: nil)

    /// The same credential and the same groups and scopes, in any order: a later token of the same
    /// subject with fewer rights is not the owner of what a broader one made.
    public static func == (lhs: SessionOwner, rhs: SessionOwner) -> Bool {
        lhs.credential == rhs.credential && lhs.identities.map(Set.init) == rhs.identities.map(Set.init)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(credential)
        hasher.combine(identities.map(Set.init))
    }

    /// What decides the databases this owner sees and writes.
    public var visibility: DatabaseVisibility { DatabaseVisibility(identities: identities) }
}
