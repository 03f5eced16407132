import Foundation
import MCPTestSupport
import PGMCPJSON
import TestSupport
import Testing

extension ProcessTests {
    /// `clientInfo.name` is a client's text; the real server's log keeps every record on one line.
    @Test func aClientsTextCannotForgeOrColourALogLine() async throws {
        let port = freeLocalPort()
        let child = try ChildProcess([pgmcpBinary, "serve", "--port", String(port), "--log-level", "debug"], environment: try environment())
        let base = "http://127.0.0.1:\(port)"
        #expect(await eventually(within: .seconds(10)) { (try? await RawHTTP.send("GET", base + "/healthz", headers: [:]).status) == 200 })
        for name in ["evil\nlevel=critical forged", "\u{1B}[31mred\u{1B}[0m", "cr\rover\u{2028}written"] {
            #expect(try await RawHTTP.send("POST", base + "/mcp", body: MCPMessages.initialize(client: name)).status == 200)
        }
        child.signal(SIGTERM)
        #expect(try await child.wait(timeout: .seconds(10)) == 0)

        let log = child.stderr
        let lines = log.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count > 3)
        for line in lines {
            // Every line is a record of its own: it starts with the timestamp and level of one.
            #expect(line.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} (trace|debug|info|notice|warning|error|critical) .*/) != nil, "\(line)")
            #expect(!line.contains("\r") && !line.contains("\u{1B}") && !line.contains("\u{2028}"), "\(line)")
        }
        // The name lost its controls on the way in (it is kept as the session's label).
        #expect(log.contains(#"client="evillevel=critical forged""#))
        #expect(log.contains(#"client=[31mred[0m"#))
        #expect(log.contains(#"client=croverwritten"#))
        #expect(!lines.contains { $0.hasPrefix("level=critical") })
    }

    /// A client's name is kept for its session's life and logged at every initialize: cut on the
    /// way in, a megabyte of it costs a line of the usual length (before, 60 initializes with 4 MiB
    /// names held 201 MiB and wrote 90 MiB of log).
    @Test func aClientsLongNameIsCutBeforeItIsKeptOrLogged() async throws {
        let port = freeLocalPort()
        let child = try ChildProcess([pgmcpBinary, "serve", "--port", String(port)], environment: try environment())
        let base = "http://127.0.0.1:\(port)"
        #expect(await eventually(within: .seconds(10)) { (try? await RawHTTP.send("GET", base + "/healthz", headers: [:]).status) == 200 })
        let long = String(repeating: "n", count: 1 << 20)
        let body: JSONValue = [
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": ["protocolVersion": "2025-11-25", "capabilities": [:], "clientInfo": ["name": .string(long), "version": .string(long)]],
        ]
        let session = try await RawHTTP.send("POST", base + "/mcp", body: body.jsonText)
        #expect(session.status == 200)
        let id = try #require(session.header("Mcp-Session-Id"))
        let opened = try await RawHTTP.call(base + "/mcp", session: id, tool: "open_session", arguments: ["label": .string(long)])
        #expect(opened.json?["result"]?["structuredContent"]?["session"] != nil, "\(opened.body.prefix(500))")
        child.signal(SIGTERM)
        #expect(try await child.wait(timeout: .seconds(10)) == 0)
        let log = child.stderr
        #expect(log.utf8.count < 16_384, "\(log.utf8.count) bytes of log")
        #expect(log.contains("client=" + String(repeating: "n", count: 63) + "…"), "\(log)")
    }

    /// Over stdio the client's text reaches the same log handler: every line of standard error is a record.
    @Test func overStdioStandardErrorHoldsOnlyWholeRecords() async throws {
        let child = try ChildProcess([pgmcpBinary, "serve", "--transport", "stdio", "--log-level", "debug"], environment: try environment())
        child.send(MCPMessages.initialize(client: "evil\nlevel=critical forged \u{1B}[31m"))
        _ = try await child.readLine()
        child.send(#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"query","arguments":{"sql":"SELECT 1 AS \"evil\nlevel=critical\"","database":"no\nsuch"}}}"#)
        _ = try await child.readLine()
        child.closeInput()
        #expect(try await child.wait() == 0)
        let lines = child.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(!lines.isEmpty)
        for line in lines {
            #expect(line.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} (trace|debug|info|notice|warning|error|critical) .*/) != nil, "\(line)")
            #expect(!line.contains("\u{1B}"))
        }
    }
}
