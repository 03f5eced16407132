/// Who a work session belongs to: the credential that made it and, under OAuth, the principal
/// patterns its caller matched (`sub:…`, `group:…`, `scope:…`). One value, so that every
/// ownership check (a handle's use, `close_session`, an MCP session's requests) is the same check.
public struct SessionOwner: Sendable, Hashable {
    /// A fingerprint of the credential; nil for anyone (no authentication, stdio).
    public let credential: String?
    /// Nil without OAuth: the caller sees every database.
    public let identities: [String]?
    /// Whether the caller presented the static bearer token (`PGMCP_AUTH_TOKEN`): the principal
    /// `token` of a database entry's `roles`.
    public let staticToken: Bool

    /// `identities` are kept sorted and without repeats: the order a token lists its groups and
    /// scopes in does not make another owner, and comparing two owners is comparing two arrays.
    public init(credential: String?, identities: [String]?, staticToken: Bool = false) {
        self.credential = credential
        self.identities = identities.map { Array(Set($0)).sorted() }
        self.staticToken = staticToken
    }

    /// No credential and no identities: stdio, or HTTP without authentication.
    public static let anyone = SessionOwner(credential: nil, identities: nil)

    /// The holder of the static bearer token: sees what `anyone` sees, and is the principal `token`
    /// of `roles`.
    public static let tokenHolder = SessionOwner(credential: nil, identities: nil, staticToken: true)

    /// What decides the databases this owner sees and writes, and the role it runs as.
    public var visibility: DatabaseVisibility { DatabaseVisibility(identities: identities, staticToken: staticToken) }
}
