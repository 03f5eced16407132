import HTTPTypes
import Hummingbird
import PGConfig
import Synchronization

/// Checks a request before anything is created for it: bearer token, Origin and Host (DNS-rebinding
/// protection; both run by `AccessMiddleware`), and for POST to `/mcp` the media types. Failures
/// carry the spec's status.
struct RequestValidation: Sendable {
    let settings: ServerSettings
    /// `PGMCP_ALLOWED_ORIGINS`, parsed once; `*` allows every origin.
    let allowedOrigins: Set<WebOrigin>
    let allowsAnyOrigin: Bool
    /// Entries of `PGMCP_ALLOWED_ORIGINS` that are no origin (a path, `null`, a typo): they match nothing.
    let unusableOrigins: [String]
    /// `settings.bindsLoopback`, decided once: parsing the bound host is not free, and every request asks.
    let bindsLoopback: Bool

    init(settings: ServerSettings) {
        self.settings = settings
        var allowed = Set<WebOrigin>()
        var unusable: [String] = []
        for entry in settings.allowedOrigins where entry != "*" {
            // A configured origin may end in one `/` (as copied from an address bar); a sent one never does.
            let text = entry.hasSuffix("/") ? entry.dropLast() : Substring(entry)
            if let origin = WebOrigin(text) { allowed.insert(origin) } else { unusable.append(entry) }
        }
        allowedOrigins = allowed
        allowsAnyOrigin = settings.allowedOrigins.contains("*")
        unusableOrigins = unusable
        bindsLoopback = settings.bindsLoopback
    }

    struct Rejection: Error {
        var status: HTTPResponse.Status
        var message: String
        /// The `WWW-Authenticate` challenge of a 401 or 403; plain `Bearer` when nil.
        var wwwAuthenticate: String? = nil
    }

    static let sessionID = HTTPField.Name("Mcp-Session-Id")!
    static let protocolVersion = HTTPField.Name("MCP-Protocol-Version")!
    static let host = HTTPField.Name("Host")!

    /// The static bearer token (`PGMCP_AUTH_TOKEN`), when one is set; without OAuth only (under
    /// OAuth, `OAuthGate` checks the bearer, the static token included).
    func checkStaticToken(_ headers: RequestHeaders) throws(Rejection) {
        guard let token = settings.authToken else { return }
        let given = headers.authorization ?? ""
        guard constantTimeEquals(given, "Bearer " + token.reveal()) else {
            throw Rejection(status: .unauthorized, message: "missing or wrong bearer token (Authorization: Bearer <PGMCP_AUTH_TOKEN>)")
        }
    }

    /// Origin and Host alone (DNS-rebinding protection), for every endpoint that says anything
    /// about the databases: `/readyz` names the default database and its error, which a rebound
    /// page must not read, while an orchestrator's probe carries no token.
    func checkOriginAndHost(_ headers: RequestHeaders, authority: String?) throws(Rejection) {
        // Several Origin fields arrive joined by ", ", which parses as no origin.
        if let origin = headers.origin, !isAllowed(origin: origin) {
            throw Rejection(status: .forbidden, message: "origin \(origin) is not allowed (PGMCP_ALLOWED_ORIGINS widens the list)")
        }
        // HTTPTypes moves the first Host into the authority and leaves any other among the fields.
        // A loopback server answers only to loopback hosts: a rebound DNS name reaches it with its
        // own name in Host. A server bound beyond loopback has a token, which a rebinding page lacks.
        if bindsLoopback {
            if headers.hostFields > 0 {
                throw Rejection(status: .forbidden, message: "more than one Host header")
            }
            if let authority, !isLoopback(authority: authority) {
                throw Rejection(status: .forbidden, message: "host \(authority) is not allowed for a server bound to \(settings.host)")
            }
        }
    }

    /// Content-Type and Accept of a POST; decides JSON or SSE for the answer.
    func checkPost(_ headers: RequestHeaders) throws(Rejection) -> ResponseFormat {
        // Byte-level and case-insensitive: these run on every request (Foundation's string search
        // showed in the profile).
        let contentType = headers.contentType ?? ""
        guard contentType.utf8.starts(with: "application/json".utf8, by: Self.sameLetter) else {
            throw Rejection(status: .unsupportedMediaType, message: "Content-Type must be application/json")
        }
        let accept = headers.accept ?? "*/*"
        if Self.mentions(accept, "application/json") || Self.mentions(accept, "*/*") || Self.mentions(accept, "application/*") { return .json }
        if Self.mentions(accept, "text/event-stream") { return .eventStream }
        throw Rejection(status: .notAcceptable, message: "Accept must include application/json or text/event-stream")
    }

    /// Whether `header` contains `token` (ASCII, any case).
    static func mentions(_ header: String, _ token: StaticString) -> Bool {
        let needle = UnsafeBufferPointer(start: token.utf8Start, count: token.utf8CodeUnitCount)
        let haystack = Array(header.utf8)
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start..<start + needle.count].elementsEqual(needle, by: sameLetter) {
            return true
        }
        return false
    }

    static func sameLetter(_ a: UInt8, _ b: UInt8) -> Bool {
        a == b || (a | 0x20 == b | 0x20 && (a | 0x20) >= UInt8(ascii: "a") && (a | 0x20) <= UInt8(ascii: "z"))
    }

    /// Loopback origins, the configured ones, or any with `*`. Compared parsed, so case and default
    /// ports do not matter and `http://127.0.0.1.rebind.example` is not loopback.
    func isAllowed(origin: String) -> Bool {
        if allowsAnyOrigin { return true }
        guard let parsed = WebOrigin(Substring(origin)) else { return false }
        return parsed.isLoopback || allowedOrigins.contains(parsed)
    }

    /// A `Host` value naming this machine's loopback interface (see `LoopbackHost` for the forms).
    func isLoopback(authority: String) -> Bool {
        loopbackAuthorities.verdict(on: authority) { HostAndPort(Substring($0))?.isLoopback ?? false }
    }

    /// Every request of a loopback server carries a `Host`, nearly always the same few: each is
    /// parsed once.
    private let loopbackAuthorities = Verdicts()
}

/// Answers remembered by the text they were about: at most 16, forgotten all at once when full,
/// so that a client sending many different values only costs their parsing.
final class Verdicts: Sendable {
    private let remembered = Mutex<[String: Bool]>([:])

    func verdict(on text: String, _ decide: (String) -> Bool) -> Bool {
        if let known = remembered.withLock({ $0[text] }) { return known }
        let verdict = decide(text)
        remembered.withLock { remembered in
            if remembered.count >= 16 { remembered.removeAll() }
            remembered[text] = verdict
        }
        return verdict
    }
}

/// Compares secrets in time that does not depend on where they differ.
func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    var difference = UInt8(x.count == y.count ? 0 : 1)
    for index in 0..<max(x.count, y.count) {
        difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
    }
    return difference == 0
}

enum ResponseFormat { case json, eventStream }
