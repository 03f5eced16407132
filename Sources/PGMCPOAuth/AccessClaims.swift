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
    /// A list (Okta) or a space-separated string (Microsoft Entra ID).
    var scp: Words?
    var groups: Words?

    /// Signature is checked by the key collection; the rest by `TokenVerifier`, which knows the
    /// issuer, audience and clock.
    func verify(using algorithm: some JWTAlgorithm) async throws {}

    var scopes: [String] { (scope.map { Words(text: $0).values } ?? []) + (scp?.values ?? []) }
}

/// A claim that issuers write either as a list of strings or as one space-separated string.
struct Words: Codable, Sendable {
    var values: [String]

    init(text: String) { values = text.split(separator: " ").map(String.init) }

    init(list: [String]) { values = list }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self.init(text: text)
        } else {
            self.init(list: try container.decode([String].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values)
    }
}
