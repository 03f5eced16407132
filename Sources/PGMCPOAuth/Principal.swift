/// Who a request comes from, as an OAuth access token says: its subject, its groups and its
/// scopes. Database entries list which principals may see and write them (`allowedPrincipals`).
public struct Principal: Sendable, Equatable {
    public var subject: String
    public var groups: [String]
    public var scopes: [String]

    public init(subject: String, groups: [String] = [], scopes: [String] = []) {
        self.subject = subject
        self.groups = groups
        self.scopes = scopes
    }

    /// Whether one of `entries` names this principal: `sub:<subject>`, `group:<group>`,
    /// `scope:<scope>`, or `*` for any authenticated caller.
    public func matches(any entries: [String]) -> Bool {
        entries.contains { entry in
            if entry == "*" { return true }
            if entry.hasPrefix("sub:") { return entry.dropFirst(4) == Substring(subject) }
            if entry.hasPrefix("group:") { return groups.contains(String(entry.dropFirst(6))) }
            if entry.hasPrefix("scope:") { return scopes.contains(String(entry.dropFirst(6))) }
            return false
        }
    }
}
