import PGMCPOAuth
import PGRegistry

/// Who a request comes from: the owner its work sessions and handles are bound to, and (under OAuth)
/// the principal patterns that decide which databases it sees and writes. Over stdio, and over HTTP
/// without OAuth, `anyone`.
struct Caller: Sendable {
    /// `sub:<subject>` under OAuth; nil for the static token or no token (one credential for all).
    var owner: String?
    /// nil: every database (no OAuth, or the static token, which is the operator's).
    var identities: [String]?

    static let anyone = Caller(owner: nil, identities: nil)

    /// Whether `session` is this caller's (`WorkSession.belongs`).
    func owns(_ session: WorkSession) -> Bool { session.belongs(to: owner, identities: identities) }

    init(owner: String?, identities: [String]?) {
        self.owner = owner
        self.identities = identities
    }

    /// An OAuth principal, as the patterns database entries use.
    init(_ principal: Principal) {
        owner = "sub:" + principal.subject
        identities = ["sub:" + principal.subject] + principal.groups.map { "group:" + $0 } + principal.scopes.map { "scope:" + $0 }
    }
}
