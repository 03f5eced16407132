/// Why a request's bearer token was not accepted, as RFC 6750 names it: `invalid_token` (401) or
/// `insufficient_scope` (403). The description never quotes the token.
public struct OAuthFailure: Error, Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// No token at all: a 401 without an error code, which tells a client to start authorizing.
        case missingToken
        case invalidToken = "invalid_token"
        case insufficientScope = "insufficient_scope"
    }

    public var kind: Kind
    public var description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
