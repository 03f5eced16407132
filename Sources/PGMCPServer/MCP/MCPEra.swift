import PGMCPJSON

/// The two eras of MCP this server speaks, and the one rule, for every transport, that tells which a
/// message belongs to.
///
/// - `legacy`: 2025-03-26 through 2025-11-25; `initialize` opens a session, later requests run in it.
/// - `modern`: 2026-07-28; no `initialize`, every request declares its version in `params._meta`
///   and stands alone.
enum MCPEra: Equatable, Sendable {
    case legacy
    case modern

    /// The era of `message` (nil when only headers are at hand: a GET or DELETE), given the
    /// transport's version header (HTTP's `MCP-Protocol-Version`; nil over stdio).
    ///
    /// A version header of either era decides. Otherwise (no header, or one of a version neither
    /// era serves) the body does: `initialize` is legacy whatever it carries; a request that
    /// declares any version in `_meta` is modern, a version this server does not speak included,
    /// as the 2026-07-28 spec says ("every request declares the protocol version it is using in
    /// its `_meta`"; an unsupported one is answered -32022 listing the supported ones); anything
    /// else is legacy. The body's `_meta` is read only when the header does not decide, so a 2025
    /// request with its header pays nothing for it.
    static func of(_ message: JSONValue?, versionHeader: String?) -> MCPEra {
        if let versionHeader {
            if ModernProtocol.supported.contains(versionHeader) { return .modern }
            if MCPVersion.supported.contains(versionHeader) { return .legacy }
        }
        guard let message, message["method"]?.stringValue != "initialize" else { return .legacy }
        return declaredVersion(in: message) != nil ? .modern : .legacy
    }

    /// The version a message declares in `_meta`, if it does (only 2026-07-28 and later clients do).
    static func declaredVersion(in message: JSONValue) -> String? {
        message["params"]?["_meta"]?[ModernProtocol.versionKey]?.stringValue
    }
}
