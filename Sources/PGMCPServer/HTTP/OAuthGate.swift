import Foundation
import HTTPTypes
import Hummingbird
import PGMCPJSON
import PGMCPOAuth
import PGRegistry

/// The OAuth 2.1 resource server at the door of `/mcp` and `/metrics`: a bearer access token is
/// checked (`TokenVerifier`) and becomes a `Caller`; a missing or bad one gets 401, a token
/// without a required scope 403, each with the `WWW-Authenticate` challenge that points a client
/// at this resource's metadata (RFC 9728, RFC 6750). The static `PGMCP_AUTH_TOKEN`, when also
/// set, still works: it is the operator's, and sees everything.
struct OAuthGate: Sendable {
    let verifier: TokenVerifier
    let configuration: OAuthConfiguration
    let staticToken: String?

    /// `authorization` is the request's `Authorization` header, as `RequestHeaders` found it.
    func authenticate(authorization: String?) async throws(RequestValidation.Rejection) -> Caller {
        guard let header = authorization, header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw RequestValidation.Rejection(
                status: .unauthorized, message: "this server needs an OAuth access token for \(configuration.audience) (Authorization: Bearer …)",
                wwwAuthenticate: challenge(nil))
        }
        let token = header.dropFirst(7).trimmingCharacters(in: .whitespaces)
        if let staticToken, constantTimeEquals(token, staticToken) { return .tokenHolder }
        do {
            return Caller(try await verifier.verify(token))
        } catch {
            let status: HTTPResponse.Status = error.kind == .insufficientScope ? .forbidden : .unauthorized
            throw RequestValidation.Rejection(status: status, message: error.description, wwwAuthenticate: challenge(error))
        }
    }

    /// `Bearer resource_metadata="…"`, and the error when there is one.
    func challenge(_ failure: OAuthFailure?) -> String {
        var parts = ["resource_metadata=\(quoted(configuration.protectedResourceMetadataURL))"]
        if let failure, failure.kind != .missingToken {
            parts.append("error=\(quoted(failure.kind.rawValue))")
            parts.append("error_description=\(quoted(failure.description))")
            if failure.kind == .insufficientScope { parts.append("scope=\(quoted(configuration.requiredScopes.joined(separator: " ")))") }
        }
        return "Bearer " + parts.joined(separator: ", ")
    }

    private func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// RFC 9728's document, as JSON bytes.
    var metadataDocument: [UInt8] { configuration.protectedResourceMetadata.serialized() }
}
