import Foundation
import PGMCPJSON
import TestSupport
import Testing

extension ProcessTests {
    /// stdio is as safe as HTTP: a batch line runs nothing, and a client pinned to a version no era
    /// here serves is told the modern one served (a dual-era client then falls back to initialize).
    @Test func stdioRefusesBatchesAndNamesTheVersionsItServes() async throws {
        let child = try ChildProcess([pgmcpBinary, "serve", "--transport", "stdio"], environment: try environment())
        child.send(
            #"{"jsonrpc":"2.0","id":"d","method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2099-01-01","io.modelcontextprotocol/clientCapabilities":{}}}}"#
        )
        let discover = try JSONParser.parse(try #require(try await child.readLine()))
        #expect(discover["id"] == "d")
        #expect(discover["error"]?["code"] == -32022)
        #expect(discover["error"]?["data"] == ["supported": ["2026-07-28"], "requested": "2099-01-01"])
        child.send(MCPMessages.initialize(version: "2025-03-26", client: "pipe"))
        let initialized = try JSONParser.parse(try #require(try await child.readLine()))
        #expect(initialized["result"]?["protocolVersion"] == "2025-03-26")
        let calls = (2...501).map { #"{"jsonrpc":"2.0","id":\#($0),"method":"tools/call","params":{"name":"query","arguments":{"sql":"SELECT pg_sleep(5)"}}}"# }
        child.send("[" + calls.joined(separator: ",") + "]")
        let batch = try JSONParser.parse(try #require(try await child.readLine()))
        #expect(batch["id"] == .null)
        #expect(batch["error"]?["message"] == "JSON-RPC batches are not accepted over stdio: send one message per line")
        // Nothing of it runs: the next answer is the ping's, at once.
        child.send(#"{"jsonrpc":"2.0","id":600,"method":"ping"}"#)
        #expect(try JSONParser.parse(try #require(try await child.readLine()))["id"] == 600)
        child.closeInput()
        #expect(try await child.wait() == 0)
    }
}
