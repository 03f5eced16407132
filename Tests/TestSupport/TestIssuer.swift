import Foundation
import JWTKit
import PGCluster
import Synchronization

/// An OAuth authorization server as far as a resource server sees one: ES256 keys generated in
/// the test, tokens signed with them, and the public keys as a JWKS.
public final class TestIssuer: Sendable {
    public let name: String
    private let keys = Mutex<[(kid: String, key: ES256PrivateKey)]>([])
    private let rsaKeys = Mutex<[(kid: String, key: Insecure.RSA.PrivateKey, jwk: JWK)]>([])

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
        /// Microsoft Entra ID's form: scopes as one space-separated string.
        public var scp: String?
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
        return String(decoding: try! JSONEncoder().encode(JWKS(keys: jwks + rsaKeys.withLock { $0.map(\.jwk) })), as: UTF8.self)
    }

    /// An RS256 key pair made by `openssl` (swift-crypto's RSA key generation is not public API):
    /// the private key to sign with, and its public half as a JWK named `kid`.
    public static func rsaKey(kid: String) throws -> (Insecure.RSA.PrivateKey, JWK) {
        let path = NSTemporaryDirectory() + "pgmcp-rsa-\(UUID().uuidString).pem"
        defer { unlink(path) }
        let made = try ProgramRunner.run(["openssl", "genrsa", "-out", path, "2048"])
        guard made.status == 0 else { throw ProgramRunner.Failure(command: "openssl genrsa", status: made.status, output: made.output) }
        let pem = try String(contentsOfFile: path, encoding: .utf8)
        let key = try Insecure.RSA.PrivateKey(pem: pem)
        let (modulus, exponent) = try key.publicKey.getKeyPrimitives()
        let jwk = JWK.rsa(.rs256, identifier: JWKIdentifier(string: kid), modulus: base64URL(modulus), exponent: base64URL(exponent))
        return (key, jwk)
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Adds an RS256 key named `kid` to those the issuer publishes and signs with.
    public func addRSAKey(_ kid: String) throws {
        let (key, jwk) = try Self.rsaKey(kid: kid)
        rsaKeys.withLock { $0.append((kid, key, jwk)) }
    }

    /// A token with `claims`, signed by the key `kid` (or by `signer`, a key the issuer does not publish).
    public func token(_ claims: Claims, kid: String = "k1", signer: ES256PrivateKey? = nil) async throws -> String {
        let collection = JWTKeyCollection()
        if signer == nil, let rsa = rsaKeys.withLock({ $0.first { $0.kid == kid }?.key }) {
            await collection.add(rsa: rsa, digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
        } else {
            let key = signer ?? keys.withLock { $0.first { $0.kid == kid }!.key }
            await collection.add(ecdsa: key, kid: JWKIdentifier(string: kid))
        }
        return try await collection.sign(claims, kid: JWKIdentifier(string: kid))
    }

    public func claims(
        audience: String = "https://mcp.example/mcp", expires: TimeInterval = 300, subject: String = "alice", scope: String? = "pgmcp",
        groups: [String] = ["dba"], issuer: String? = nil, notBefore: TimeInterval? = nil
    ) -> Claims {
        Claims(
            iss: IssuerClaim(value: issuer ?? name), aud: AudienceClaim(value: [audience]), exp: ExpirationClaim(value: Date().addingTimeInterval(expires)),
            nbf: notBefore.map { NotBeforeClaim(value: Date().addingTimeInterval($0)) }, sub: SubjectClaim(value: subject), scope: scope, scp: nil, groups: groups)
    }
}
