import Foundation
import JWTKit
import Synchronization

/// An OAuth authorization server as far as a resource server sees one: ES256 keys generated in
/// the test, tokens signed with them, and the public keys as a JWKS.
public final class TestIssuer: Sendable {
    public let name: String
    private let keys = Mutex<[(kid: String, key: ES256PrivateKey)]>([])

    public init(name: String = "http://127.0.0.1:9/issuer", kids: [String] = ["k1"]) {
        self.name = name
        for kid in kids { addKey(kid) }
    }

    /// The claims pgmcp reads from an access token.
    public struct Claims: JWTPayload {
        public var iss: IssuerClaim?
        public var aud: AudienceClaim?
        public var exp: ExpirationClaim?
        public var nbf: NotBeforeClaim?
        public var sub: SubjectClaim?
        public var scope: String?
        public var groups: [String]?
        public func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    public func addKey(_ kid: String) { keys.withLock { $0.append((kid, ES256PrivateKey())) } }

    public var jwks: String {
        let jwks = keys.withLock { keys in
            keys.map { kid, key in
                let parameters = key.publicKey.parameters!
                return JWK.ecdsa(.es256, identifier: JWKIdentifier(string: kid), x: parameters.x, y: parameters.y, curve: .p256)
            }
        }
        return String(decoding: try! JSONEncoder().encode(JWKS(keys: jwks)), as: UTF8.self)
    }

    /// A token with `claims`, signed by the key `kid` (or by `signer`, a key the issuer does not publish).
    public func token(_ claims: Claims, kid: String = "k1", signer: ES256PrivateKey? = nil) async throws -> String {
        let key = signer ?? keys.withLock { $0.first { $0.kid == kid }!.key }
        let collection = JWTKeyCollection()
        await collection.add(ecdsa: key, kid: JWKIdentifier(string: kid))
        return try await collection.sign(claims, kid: JWKIdentifier(string: kid))
    }

    public func claims(
        audience: String = "https://mcp.example/mcp", expires: TimeInterval = 300, subject: String = "alice", scope: String? = "pgmcp",
        groups: [String] = ["dba"], issuer: String? = nil, notBefore: TimeInterval? = nil
    ) -> Claims {
        Claims(
            iss: IssuerClaim(value: issuer ?? name), aud: AudienceClaim(value: [audience]), exp: ExpirationClaim(value: Date().addingTimeInterval(expires)),
            nbf: notBefore.map { NotBeforeClaim(value: Date().addingTimeInterval($0)) }, sub: SubjectClaim(value: subject), scope: scope, groups: groups)
    }
}
