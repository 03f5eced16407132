import Foundation
import PGConfig
import PGMCPJSON

/// The resource server's settings: the issuer whose tokens are accepted, this server's own
/// resource identifier (the audience tokens must name, RFC 8707), where the keys come from, and
/// the scopes every request needs.
public struct OAuthConfiguration: Sendable {
    public var issuer: String
    public var audience: String
    /// A JWKS file read instead of the issuer's metadata (offline set-ups, tests).
    public var jwksFile: String?
    public var requiredScopes: [String]
    /// How far `exp` and `nbf` may be off: clocks of two machines never agree exactly.
    public var clockSkew: TimeInterval = 60
    /// How soon the keys may be fetched again for a token naming a key not among them.
    public var keyRefreshInterval: Duration = .seconds(60)

    public init(issuer: String, audience: String, jwksFile: String? = nil, requiredScopes: [String] = []) {
        self.issuer = issuer
        self.audience = audience
        self.jwksFile = jwksFile
        self.requiredScopes = requiredScopes
    }

    /// From the server settings, or nil when OAuth is not configured.
    public init?(settings: ServerSettings) {
        guard let issuer = settings.oauthIssuer, let audience = settings.oauthAudience else { return nil }
        self.init(issuer: issuer, audience: audience, jwksFile: settings.oauthJWKSFile, requiredScopes: settings.oauthRequiredScopes)
    }

    /// RFC 9728's metadata document for this resource: where a client learns which authorization
    /// server to ask for a token for it.
    public var protectedResourceMetadata: JSONValue {
        var metadata = JSONObject([
            ("resource", .string(audience)), ("authorization_servers", [.string(issuer)]), ("bearer_methods_supported", ["header"]),
        ])
        if !requiredScopes.isEmpty { metadata["scopes_supported"] = .array(requiredScopes.map { .string($0) }) }
        return .object(metadata)
    }

    /// Where that document is served, as RFC 9728 §3.1 derives it from the resource identifier:
    /// `/.well-known/oauth-protected-resource` inserted before the resource's path.
    public var protectedResourceMetadataURL: String {
        guard let url = URL(string: audience), let scheme = url.scheme, let host = url.host else {
            return audience + "/.well-known/oauth-protected-resource"
        }
        let port = url.port.map { ":\($0)" } ?? ""
        let path = url.path == "/" ? "" : url.path
        let hostText = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(hostText)\(port)/.well-known/oauth-protected-resource\(path)"
    }
}
