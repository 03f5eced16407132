import Foundation
import HTTPTypes
import Hummingbird
import PGConfig

/// Checks every `/mcp` request before anything is created for it: bearer token, Origin and Host
/// (DNS-rebinding protection), and for POST the media types. Failures carry the spec's status.
struct RequestValidation: Sendable {
    let settings: ServerSettings

    struct Rejection: Error {
        var status: HTTPResponse.Status
        var message: String
    }

    static let sessionID = HTTPField.Name("Mcp-Session-Id")!
    static let protocolVersion = HTTPField.Name("MCP-Protocol-Version")!

    /// Auth, Origin, Host: for every method of `/mcp` and for `/metrics`.
    func checkAccess(_ request: Request) throws(Rejection) {
        if let token = settings.authToken {
            let given = request.headers[.authorization] ?? ""
            let expected = "Bearer " + token.reveal()
            guard constantTimeEquals(given, expected) else {
                throw Rejection(status: .unauthorized, message: "missing or wrong bearer token (Authorization: Bearer <PGMCP_AUTH_TOKEN>)")
            }
        }
        if let origin = request.headers[.origin], !isAllowed(origin: origin) {
            throw Rejection(status: .forbidden, message: "origin \(origin) is not allowed (PGMCP_ALLOWED_ORIGINS widens the list)")
        }
        // HTTPTypes moves Host into the authority; a loopback server answers only to loopback names.
        if settings.bindsLoopback, let authority = request.head.authority, !isLoopback(host: hostPart(of: authority)) {
            throw Rejection(status: .forbidden, message: "host \(authority) is not allowed for a server bound to \(settings.host)")
        }
    }

    /// Content-Type and Accept of a POST; decides JSON or SSE for the answer.
    func checkPost(_ request: Request) throws(Rejection) -> ResponseFormat {
        // Byte-level and case-insensitive: these run on every request (Foundation's string search
        // showed in the profile).
        let contentType = request.headers[.contentType] ?? ""
        guard contentType.utf8.starts(with: "application/json".utf8, by: Self.sameLetter) else {
            throw Rejection(status: .unsupportedMediaType, message: "Content-Type must be application/json")
        }
        let accept = request.headers[.accept] ?? "*/*"
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

    func isAllowed(origin: String) -> Bool {
        if settings.allowedOrigins.contains(origin) || settings.allowedOrigins.contains("*") { return true }
        guard let schemeEnd = origin.range(of: "://") else { return false }
        return isLoopback(host: hostPart(of: String(origin[schemeEnd.upperBound...])))
    }

    func isLoopback(host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// `host:port` or `[v6]:port` → the host.
    func hostPart(of authority: String) -> String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[...close])
        }
        return String(authority.split(separator: ":", maxSplits: 1).first ?? "").lowercased()
    }

    func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}

enum ResponseFormat { case json, eventStream }
