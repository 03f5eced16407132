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
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            throw Rejection(status: .unsupportedMediaType, message: "Content-Type must be application/json")
        }
        let accept = request.headers[.accept]?.lowercased() ?? "*/*"
        if accept.contains("application/json") || accept.contains("*/*") || accept.contains("application/*") { return .json }
        if accept.contains("text/event-stream") { return .eventStream }
        throw Rejection(status: .notAcceptable, message: "Accept must include application/json or text/event-stream")
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
