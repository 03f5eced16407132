import AsyncHTTPClient
import Foundation
import IOReactor
import JWTKit
import Logging
import NIOCore

/// Checks bearer access tokens: signed (RS256 or ES256) by a key of the issuer's JWKS, from the
/// configured issuer, for this resource (`aud`), within `exp`/`nbf` give or take the clock skew,
/// with the required scopes. The JWKS is fetched from the issuer's metadata (or read from a file),
/// kept, and fetched again when a token names a key it lacks (at most once a minute), so a key
/// rotation needs no restart.
public actor TokenVerifier {
    public let configuration: OAuthConfiguration
    private let logger: Logger
    private var keys: JWTKeyCollection?
    /// The `kid`s of the keys held: a token naming another is never checked against a default key.
    private var knownKids: Set<String> = []
    /// The fetch under way, shared by every caller that needs the keys meanwhile.
    private var loading: Task<String, any Error>?
    private var lastFetch: ContinuousClock.Instant?
    /// Fetching the keys: HTTP (or a file read) off Swift's cooperative pool, bounded.
    private let fetch: @Sendable (OAuthConfiguration) async throws -> String

    /// At most one fetch per this long for unknown keys: a flood of made-up `kid`s cannot make us hammer the issuer.
    private var refreshInterval: Duration { configuration.keyRefreshInterval }
    static let algorithms: Set<String> = ["RS256", "ES256"]

    public init(
        configuration: OAuthConfiguration, logger: Logger,
        fetch: @escaping @Sendable (OAuthConfiguration) async throws -> String = TokenVerifier.fetchJWKS
    ) {
        self.configuration = configuration
        self.logger = logger
        self.fetch = fetch
    }

    /// The principal a valid token names, or why it is not accepted.
    public func verify(_ token: String) async throws(OAuthFailure) -> Principal {
        guard let header = try? DefaultJWTParser().parse(Array(token.utf8), as: AccessClaims.self).header, let algorithm = header.alg else {
            throw OAuthFailure(.invalidToken, "the bearer token is not a JWT")
        }
        guard Self.algorithms.contains(algorithm) else {
            throw OAuthFailure(.invalidToken, "tokens signed with \(algorithm) are not accepted (RS256 or ES256)")
        }
        guard let kid = header.kid else { throw OAuthFailure(.invalidToken, "the token names no key (kid)") }
        let claims = try await verifiedClaims(token, kid: kid)
        let now = Date()
        guard claims.iss?.value == configuration.issuer else {
            throw OAuthFailure(.invalidToken, "the token was issued by another issuer than \(configuration.issuer)")
        }
        guard claims.aud?.value.contains(configuration.audience) == true else {
            throw OAuthFailure(.invalidToken, "the token is not for this resource (aud must include \(configuration.audience))")
        }
        guard let expiry = claims.exp?.value else { throw OAuthFailure(.invalidToken, "the token has no expiry (exp)") }
        guard expiry.addingTimeInterval(configuration.clockSkew) > now else { throw OAuthFailure(.invalidToken, "the token has expired") }
        if let notBefore = claims.nbf?.value, notBefore.addingTimeInterval(-configuration.clockSkew) > now {
            throw OAuthFailure(.invalidToken, "the token is not valid yet (nbf)")
        }
        guard let subject = claims.sub?.value, !subject.isEmpty else { throw OAuthFailure(.invalidToken, "the token names no subject (sub)") }
        let scopes = claims.scopes
        let missing = configuration.requiredScopes.filter { !scopes.contains($0) }
        guard missing.isEmpty else {
            throw OAuthFailure(.insufficientScope, "the token lacks the scope \(missing.joined(separator: " "))")
        }
        return Principal(subject: subject, groups: claims.groups?.values ?? [], scopes: scopes)
    }

    /// The signature checked with the issuer's key the token names (`kid`), fetching the keys again
    /// first when it is not among them (a rotation), at most once per `keyRefreshInterval`.
    private func verifiedClaims(_ token: String, kid: String) async throws(OAuthFailure) -> AccessClaims {
        var collection = try await currentKeys(refresh: false)
        if !knownKids.contains(kid), refreshAllowed { collection = try await currentKeys(refresh: true) }
        guard knownKids.contains(kid) else {
            throw OAuthFailure(.invalidToken, "the token is signed with a key the issuer does not publish")
        }
        do {
            return try await collection.verify(token, as: AccessClaims.self)
        } catch {
            throw OAuthFailure(.invalidToken, "the token's signature or claims are not valid")
        }
    }

    private var refreshAllowed: Bool {
        guard let lastFetch else { return true }
        return ContinuousClock.now - lastFetch >= refreshInterval
    }

    private func currentKeys(refresh: Bool) async throws(OAuthFailure) -> JWTKeyCollection {
        if let keys, !refresh { return keys }
        // Without keys too, one fetch per interval (an issuer that is down must not get a request
        // per garbage token), and callers arriving meanwhile share the fetch under way.
        if keys == nil, !refreshAllowed, loading == nil {
            throw OAuthFailure(.invalidToken, "the issuer's keys could not be loaded, so no token can be checked now")
        }
        let task: Task<String, any Error>
        if let loading {
            task = loading
        } else {
            lastFetch = .now
            let configuration = configuration
            task = Task { [fetch] in try await fetch(configuration) }
            loading = task
        }
        defer { if loading == task { loading = nil } }
        do {
            // Decoded once: the keys for the collection, their ids for `knownKids`.
            let jwks = try JSONDecoder().decode(JWKS.self, from: Data(try await task.value.utf8))
            let collection = JWTKeyCollection()
            try await collection.add(jwks: jwks)
            knownKids = Set(jwks.keys.compactMap { $0.keyIdentifier?.string })
            keys = collection
            return collection
        } catch {
            logger.warning("could not load the issuer's keys", metadata: ["issuer": "\(configuration.issuer)", "reason": "\(error)"])
            if let keys { return keys }
            throw OAuthFailure(.invalidToken, "the issuer's keys could not be loaded, so no token can be checked now")
        }
    }

    /// The issuer's JWKS: from `jwksFile`, or from `jwks_uri` in the issuer's metadata (RFC 8414's
    /// `/.well-known/oauth-authorization-server`, else OpenID's `/.well-known/openid-configuration`).
    public static let fetchJWKS: @Sendable (OAuthConfiguration) async throws -> String = { configuration in
        if let file = configuration.jwksFile {
            return try await offPool { try String(contentsOfFile: file, encoding: .utf8) }
        }
        let base = configuration.issuer.hasSuffix("/") ? String(configuration.issuer.dropLast()) : configuration.issuer
        var lastError: any Error = OAuthFailure(.invalidToken, "no metadata")
        for path in ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"] {
            do {
                let metadata = try await get(base + path)
                guard let object = try JSONSerialization.jsonObject(with: metadata) as? [String: Any], let uri = object["jwks_uri"] as? String else {
                    continue
                }
                return String(decoding: try await get(uri), as: UTF8.self)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// One GET, bounded by 5 seconds and 1 MiB. AsyncHTTPClient (SwiftNIO, TLS of its own) rather than
    /// URLSession: Foundation's networking links libcurl and a dozen libraries behind it, which the release
    /// binary would then need on every machine it is installed on.
    static func get(_ address: String) async throws -> Data {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: address), timeout: .seconds(5))
        guard response.status == .ok else { throw FetchFailure(address: address, status: response.status.code) }
        let body = try await response.body.collect(upTo: 1 << 20)
        return Data(body.readableBytesView)
    }

    /// An issuer's document answered with another status than 200.
    struct FetchFailure: Error, CustomStringConvertible {
        let address: String
        let status: UInt
        var description: String { "GET \(address) answered HTTP \(status)" }
    }
}
