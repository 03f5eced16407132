import PGMCPOAuth
import PGRegistry

/// Who a request comes from: the owner its work sessions and handles are bound to, and (under OAuth)
/// the principal patterns that decide which databases it sees and writes (`SessionOwner`). Over
/// stdio, and over HTTP without OAuth, `anyone`; the static token is one credential for all.
typealias Caller = SessionOwner

extension SessionOwner {
    /// An OAuth principal, as the patterns database entries use.
    init(_ principal: Principal) {
        self.init(
            credential: "sub:" + principal.subject,
            identities: ["sub:" + principal.subject] + principal.groups.map { "group:" + $0 } + principal.scopes.map { "scope:" + $0 })
    }
}
