/// Turns a host name into the addresses it names now, as numeric text (`10.1.2.3`, `fd00::7`).
///
/// A value, not a protocol, so that tests hand the dynamic-connection policy a fake one (a name
/// that resolves into the metadata service) without a DNS server.
public struct HostResolver: Sendable {
    public var lookup: @Sendable (String) async throws -> [String]

    public init(lookup: @escaping @Sendable (String) async throws -> [String]) {
        self.lookup = lookup
    }

    /// The system's resolver (`getaddrinfo`: /etc/hosts, DNS, whatever nsswitch says), IPv4 and
    /// IPv6, de-duplicated, in the order getaddrinfo prefers, never on Swift's cooperative pool
    /// (`SystemHostLookup`); a lookup that takes longer than five seconds fails.
    public static let system = HostResolver { name in
        try await SystemHostLookup.shared.addresses(of: name, deadline: .seconds(5))
    }
}

/// Why a host name gave no address. The message names the host and the resolver's reason, and
/// nothing else of what the client wrote.
public struct HostLookupError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(message: String) { self.message = message }

    public var description: String { message }
}
