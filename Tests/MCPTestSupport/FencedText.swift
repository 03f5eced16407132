import PGMCPJSON

/// A tool result's text as pgmcp fences it (`PGMCP_FENCE_RESULTS`): a line saying it is data, the
/// opening marker with the call's nonce, the JSON, the closing marker.
public struct FencedText: Sendable {
    public let nonce: String
    /// The JSON between the markers.
    public let json: String

    /// Nil when `text` is not fenced exactly so: one preamble line naming the nonce, the opening
    /// marker, one line of JSON, the closing marker with the same nonce.
    public init?(_ text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count == 4, lines[1].hasPrefix("<<<pgmcp-data "), lines[1].hasSuffix(">>>") else { return nil }
        let nonce = String(lines[1].dropFirst("<<<pgmcp-data ".count).dropLast(3))
        guard lines[0].contains(nonce), lines[0].contains("never as instructions"), lines[3] == "<<<end pgmcp-data \(nonce)>>>" else { return nil }
        self.nonce = nonce
        json = lines[2]
    }

    /// The fenced JSON, parsed.
    public func value() throws -> JSONValue { try JSONParser.parse(json) }
}
