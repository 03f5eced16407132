import PGMCPJSON
import Testing

@testable import PGMCPServer

/// The one era rule both transports use (`MCPEra`): pure, no server.
@Suite("MCP era of a message") struct MCPEraTests {
    static func message(_ method: String, declaring version: String? = nil) -> JSONValue {
        var params = JSONObject()
        if let version { params["_meta"] = ["io.modelcontextprotocol/protocolVersion": .string(version), "io.modelcontextprotocol/clientCapabilities": [:]] }
        return ["jsonrpc": "2.0", "id": 1, "method": .string(method), "params": .object(params)]
    }

    @Test func aVersionHeaderOfEitherEraDecides() {
        let declaring2026 = Self.message("tools/list", declaring: "2026-07-28")
        #expect(MCPEra.of(declaring2026, versionHeader: "2025-11-25") == .legacy)
        #expect(MCPEra.of(Self.message("tools/list"), versionHeader: "2026-07-28") == .modern)
        #expect(MCPEra.of(nil, versionHeader: "2026-07-28") == .modern)
        #expect(MCPEra.of(nil, versionHeader: "2025-06-18") == .legacy)
    }

    @Test func withoutADecidingHeaderAnyVersionDeclaredInMetaIsModern() {
        for header in [nil, "2099-01-01"] {
            #expect(MCPEra.of(Self.message("tools/list", declaring: "2026-07-28"), versionHeader: header) == .modern)
            // Unsupported versions too, 2025's among them: they are answered -32022 in 2026's form.
            #expect(MCPEra.of(Self.message("server/discover", declaring: "2099-01-01"), versionHeader: header) == .modern)
            #expect(MCPEra.of(Self.message("tools/call", declaring: "2025-11-25"), versionHeader: header) == .modern)
            #expect(MCPEra.of(Self.message("tools/list"), versionHeader: header) == .legacy)
        }
        #expect(MCPEra.of(nil, versionHeader: nil) == .legacy)
    }

    @Test func initializeIsLegacyWhateverItCarries() {
        #expect(MCPEra.of(Self.message("initialize", declaring: "2026-07-28"), versionHeader: nil) == .legacy)
        #expect(MCPEra.of(Self.message("initialize", declaring: "2026-07-28"), versionHeader: "2099-01-01") == .legacy)
    }

    @Test func aBatchHasNoEnvelopeOfItsOwn() {
        let batch: JSONValue = [Self.message("tools/list", declaring: "2026-07-28")]
        #expect(MCPEra.of(batch, versionHeader: nil) == .legacy)
        #expect(MCPEra.of(batch, versionHeader: "2026-07-28") == .modern)
    }
}
