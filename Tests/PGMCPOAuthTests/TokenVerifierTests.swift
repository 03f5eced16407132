import Foundation
import JWTKit
import Logging
import PGMCPOAuth
import Synchronization
import TestSupport
import Testing

/// Access tokens as an issuer signs them, checked by `TokenVerifier`: keys generated here, the
/// JWKS handed over by a fetch function (the HTTP tests serve it on loopback).
@Suite("Access tokens") struct TokenVerifierTests {
    final class Count: Sendable {
        let value = Mutex(0)
        var current: Int { value.withLock { $0 } }
    }

    func verifier(_ issuer: TestIssuer, refresh: Duration = .zero, fetches: Count? = nil) -> TokenVerifier {
        var configuration = OAuthConfiguration(issuer: issuer.name, audience: "https://mcp.example/mcp", requiredScopes: ["pgmcp"])
        configuration.keyRefreshInterval = refresh
        return TokenVerifier(configuration: configuration, logger: Logger(label: "test")) { _ in
            fetches?.value.withLock { $0 += 1 }
            return issuer.jwks
        }
    }

    func failure(_ verifier: TokenVerifier, _ token: String) async -> OAuthFailure? {
        do {
            _ = try await verifier.verify(token)
            return nil
        } catch { return error }
    }

    @Test func aValidTokenNamesItsPrincipal() async throws {
        let issuer = TestIssuer()
        let principal = try await verifier(issuer).verify(try await issuer.token(issuer.claims()))
        #expect(principal == Principal(subject: "alice", groups: ["dba"], scopes: ["pgmcp"]))
    }

    @Test func scopesWrittenAsEntraWritesThemAreRead() async throws {
        let issuer = TestIssuer()
        var claims = issuer.claims(scope: nil)
        claims.scp = "pgmcp db.read"
        let principal = try await verifier(issuer).verify(try await issuer.token(claims))
        #expect(principal.scopes == ["pgmcp", "db.read"])
    }

    @Test func anRS256TokenIsCheckedAsWell() async throws {
        let issuer = TestIssuer()
        try issuer.addRSAKey("r1")
        let check = verifier(issuer)
        let principal = try await check.verify(try await issuer.token(issuer.claims(), kid: "r1"))
        #expect(principal.subject == "alice")
        let expired = await failure(check, try await issuer.token(issuer.claims(expires: -300), kid: "r1"))
        #expect(expired?.description == "the token has expired")
    }

    @Test func everyWayATokenCanBeWrongIsRefusedAsSuch() async throws {
        let issuer = TestIssuer()
        let check = verifier(issuer)
        let cases: [(String, TestIssuer.Claims, OAuthFailure.Kind, String)] = [
            ("wrong audience", issuer.claims(audience: "https://other.example/mcp"), .invalidToken, "not for this resource"),
            ("expired", issuer.claims(expires: -120), .invalidToken, "expired"),
            ("not yet valid", issuer.claims(notBefore: 600), .invalidToken, "not valid yet"),
            ("wrong issuer", issuer.claims(issuer: "https://evil.example"), .invalidToken, "another issuer"),
            ("missing scope", issuer.claims(scope: "other"), .insufficientScope, "pgmcp"),
        ]
        for (name, claims, kind, text) in cases {
            let refused = await failure(check, try await issuer.token(claims))
            #expect(refused?.kind == kind, "\(name): \(String(describing: refused))")
            #expect(refused?.description.contains(text) == true, "\(name): \(String(describing: refused))")
        }
        // Within the clock skew, an expiry just past is still accepted.
        #expect(await failure(check, try await issuer.token(issuer.claims(expires: -30))) == nil)
        // Signed by a key the issuer does not publish (same kid, another key), or by an unknown kid.
        #expect(await failure(check, try await issuer.token(issuer.claims(), signer: ES256PrivateKey()))?.kind == .invalidToken)
        #expect(
            await failure(check, try await issuer.token(issuer.claims(), kid: "k9", signer: ES256PrivateKey()))?.description.contains("key the issuer does not publish") == true)
        // Not a JWT; an HMAC or unsigned one.
        #expect(await failure(check, "opaque-token")?.description == "the bearer token is not a JWT")
        let none = "eyJhbGciOiJub25lIn0." + "eyJzdWIiOiJhbGljZSJ9" + "."
        #expect(await failure(check, none)?.description.contains("not accepted") == true)
    }

    @Test func aRotatedKeyIsFetchedOnceAndThenKnown() async throws {
        let issuer = TestIssuer()
        let fetches = Count()
        let check = verifier(issuer, fetches: fetches)
        _ = try await check.verify(try await issuer.token(issuer.claims()))
        issuer.addKey("k2")
        _ = try await check.verify(try await issuer.token(issuer.claims(), kid: "k2"))
        _ = try await check.verify(try await issuer.token(issuer.claims(), kid: "k2"))
        #expect(fetches.current == 2)
        // Made-up kids cannot make it fetch again and again within the refresh interval.
        let slow = verifier(issuer, refresh: .seconds(60), fetches: fetches)
        fetches.value.withLock { $0 = 0 }
        _ = try await slow.verify(try await issuer.token(issuer.claims()))
        for index in 0..<5 { _ = await failure(slow, try await issuer.token(issuer.claims(), kid: "x\(index)", signer: ES256PrivateKey())) }
        #expect(fetches.current == 1)
    }
}
