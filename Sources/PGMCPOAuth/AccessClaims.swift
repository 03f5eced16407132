import Foundation
import JWTKit

/// The claims pgmcp reads from an access token (RFC 9068's profile and common practice):
/// `iss`, `aud`, `exp`, `nbf`, `sub`, and the scopes (`scope`, space-separated, or `scp`, a list)
/// and groups (`groups`) a database entry may name.
struct AccessClaims: JWTPayload {
    var iss: IssuerClaim?
    var aud: AudienceClaim?
    var exp: ExpirationClaim?
    var nbf: NotBeforeClaim?
    var sub: SubjectClaim?
    var scope: String?
    var scp: [String]?
    var groups: [String]?

    /// Signature is checked by the key collection; the rest by `TokenVerifier`, which knows the
    /// issuer, audience and clock.
    func verify(using algorithm: some JWTAlgorithm) async throws {}

    var scopes: [String] { (scope?.split(separator: " ").map(String.init) ?? []) + (scp ?? []) }
}
