import PGClient

/// Decides whether a client may connect to a database by connection string (`connect_database`),
/// and pins the connection to what was checked.
///
/// The string is parsed by libpq (both `key=value` and `postgresql://` forms); only the keywords
/// of `DynamicConnectionKeywords.allowed` may appear; it must name exactly one TCP host, allowed
/// by PGMCP_DYNAMIC_ALLOWED_HOSTS both as written and as resolved now; and its sslmode must be at
/// least `require` when PGMCP_DYNAMIC_REQUIRE_SSL. The parameters returned connect to the address
/// that was checked (`hostaddr`), so a second lookup an attacker could answer differently never
/// happens, while TLS verification and SNI still use the name (`host`).
///
/// Counting dynamic connections per session (PGMCP_SESSION_MAX_DYNAMIC) is the registry's.
public struct DynamicConnectionPolicy: Sendable {
    public var allowDynamicConnections: Bool
    public var allowedHosts: [HostPattern]
    public var requireSSL: Bool

    public init(settings: ServerSettings) {
        allowDynamicConnections = settings.allowDynamicConnections
        allowedHosts = settings.dynamicAllowedHosts
        requireSSL = settings.dynamicRequireSSL
    }

    /// Checks a client-supplied connection string and returns the parameters to connect with:
    /// the client's allowed keywords, `host` as written (an IP literal in canonical form),
    /// `hostaddr` the checked address, and `DynamicConnectionKeywords.pinned` (no file of the
    /// server's, no Kerberos); `password` is set to `noPassword` when the client gave none (or an
    /// empty one), so that libpq never falls back to the server's PGPASSWORD.
    public func check(
        _ connectionString: String, resolve: HostResolver = .system
    ) async throws(DynamicConnectionRefusal)
        -> PGConnectionParameters
    {
        guard allowDynamicConnections else { throw .off }
        guard !allowedHosts.isEmpty else { throw .noAllowedHosts }
        let parameters: PGConnectionParameters
        do {
            parameters = try PGConnectionParameters(conninfo: connectionString)
        } catch {
            // PGConnectionParameters' messages hold no piece of a secret (and never libpq's own text about the string).
            throw .unreadable(error.message)
        }
        for (keyword, value) in parameters.pairs where !DynamicConnectionKeywords.allows(keyword, value: value) {
            throw .option(keyword)
        }
        let target = try Self.target(of: parameters)
        try checkSSLMode(parameters["sslmode"])
        if let dbname = parameters["dbname"], dbname.contains("=") || dbname.hasPrefix("postgresql://") || dbname.hasPrefix("postgres://") {
            throw .dbname
        }
        let address = try await checkedAddress(of: target, resolve: resolve)
        guard let addressText = IPAddress.text(address) else { throw .resolution("an address could not be written as text") }

        var result = parameters
        result["host"] = target.literal != nil ? addressText : target.host
        result["hostaddr"] = addressText
        for (keyword, value) in DynamicConnectionKeywords.pinned { result[keyword] = value }
        // libpq treats an empty password as none given and takes PGPASSWORD (or a service file's) in
        // its place, which would hand the server's own password to whatever host the client named.
        if result["password"]?.isEmpty ?? true { result["password"] = Self.noPassword }
        return result
    }

    /// Sent as the password when the client gave none: never empty, so libpq never fills it in from
    /// the server's environment; a server that asks for a password refuses it.
    static let noPassword = "pgmcp-no-password-given"

    /// The one host, as written and (when it is an IP literal) as address bytes.
    struct Target {
        var host: String
        var literal: [UInt8]?
    }

    /// Exactly one host, a name or an IP literal, reached over TCP; one port at most.
    static func target(of parameters: PGConnectionParameters) throws(DynamicConnectionRefusal) -> Target {
        guard let host = parameters["host"], !host.isEmpty else {
            throw .oneHost(
                "the connection string names no host, so libpq would use a Unix socket on the server's machine; "
                    + "give host=… or postgresql://host/…")
        }
        if host.contains(",") || (parameters["port"] ?? "").contains(",") {
            throw .oneHost("the connection string names several hosts or ports; give exactly one host")
        }
        if host.hasPrefix("/") || host.hasPrefix("@") { throw .unixSocket }
        if let port = parameters["port"], !port.isEmpty {
            guard port.count <= 5, port.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(port), (1...65535).contains(number)
            else { throw .port }
        }
        if let address = IPAddress.parse(host) { return Target(host: host, literal: IPAddress.unmapped(address)) }
        guard HostPattern.isHostName(host) else { throw .notAHostName }
        return Target(host: host, literal: nil)
    }

    /// With PGMCP_DYNAMIC_REQUIRE_SSL, `require` or stronger, written out (libpq's default is `prefer`).
    func checkSSLMode(_ mode: String?) throws(DynamicConnectionRefusal) {
        let strong = ["require", "verify-ca", "verify-full"]
        if let mode, !(strong + ["disable", "allow", "prefer"]).contains(mode) { throw .unknownSSLMode }
        if requireSSL, !strong.contains(mode ?? "") { throw .sslRequired }
    }

    /// The address to connect to: the literal, if an address pattern allows it; or, for a name,
    /// the first address it resolves to, once every one of them is allowed — by an address
    /// pattern, or (for a name a name pattern allows) by lying outside the forbidden ranges.
    func checkedAddress(of target: Target, resolve: HostResolver) async throws(DynamicConnectionRefusal) -> [UInt8] {
        let ranges = allowedHosts.filter(\.isAddressRange)
        func rangeAllows(_ address: [UInt8]) -> Bool { ranges.contains { $0.matches(address: address) } }

        if let literal = target.literal {
            guard rangeAllows(literal) else {
                throw .notAllowed("the host \(target.host) is in no address range listed there; the server's operator can add it")
            }
            return literal
        }
        let name = target.host
        let nameAllowed = allowedHosts.contains { !$0.isAddressRange && $0.matches(name) }
        guard nameAllowed || !ranges.isEmpty else {
            throw .notAllowed("the host \(name) matches no name or *.suffix pattern listed there; the server's operator can add it")
        }
        let texts: [String]
        do {
            texts = try await resolve.lookup(name)
        } catch let error as HostLookupError {
            throw .resolution(error.message)
        } catch is CancellationError {
            throw .resolution("looking up the host name was cancelled")
        } catch {
            throw .resolution("the host name \(name) could not be looked up")
        }
        var addresses: [[UInt8]] = []
        for text in texts {
            if let address = IPAddress.parse(text).map(IPAddress.unmapped), !addresses.contains(address) { addresses.append(address) }
        }
        guard let first = addresses.first else { throw .resolution("the host name \(name) resolves to no address") }
        for address in addresses where !rangeAllows(address) {
            let shown = IPAddress.text(address) ?? "an address"
            if !nameAllowed {
                throw .notAllowed(
                    "the host \(name) matches no name pattern listed there, and resolves to \(shown), "
                        + "which no address range there holds; the server's operator can add the name or the address")
            }
            if let forbidden = Self.forbiddenRanges.first(where: { $0.pattern.matches(address: address) }) {
                throw .notAllowed(
                    "the host \(name) resolves to \(shown), \(forbidden.what), which a host name may not reach "
                        + "(whoever controls the name's DNS could point it there); to allow it, the server's operator can list "
                        + "the address itself or a range holding it")
            }
        }
        return first
    }

    /// Where a name that a name pattern allows may not lead, unless an address pattern lists the
    /// address: the server's own machine and what only it can reach (cloud metadata services
    /// answer at 169.254.169.254).
    static let forbiddenRanges: [(pattern: HostPattern, what: String)] = [
        ("127.0.0.0/8", "a loopback address"),
        ("::1/128", "the loopback address"),
        ("169.254.0.0/16", "a link-local address (where cloud metadata services answer)"),
        ("fe80::/10", "a link-local address"),
        ("0.0.0.0/8", "an address of 'this network' (0.0.0.0 reaches the server's own machine)"),
        ("::/128", "the unspecified address (it reaches the server's own machine)"),
    ].compactMap { text, what in HostPattern(text).map { (pattern: $0, what: what) } }
}
