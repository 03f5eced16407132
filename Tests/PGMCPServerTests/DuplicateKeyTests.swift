import Foundation
import MCPTestSupport
import PGMCPJSON
import TestSupport
import Testing

/// A message that names a key twice says two things at once: a proxy that reads the first `sql`
/// (or `name`) passes what the server, reading the last, would not run. So such a message is
/// refused whole (-32600, naming the key) on every path, and nothing of it runs.
@Suite("Duplicate keys in requests", .serialized) struct DuplicateKeyTests {
    /// `execute` whose arguments name `sql` twice: a harmless statement, then an INSERT.
    static let twoStatements = #""arguments":{"database":"dev","sql":"SELECT 1","sql":"INSERT INTO customers (name) VALUES ('duplicate key')"}"#

    static func inserted(_ fixture: Fixture) async throws -> [[JSONValue]] {
        try await TestDatabase.withConnection(database: fixture.databaseName) { c in
            try await c.query("SELECT count(*) FROM customers WHERE name = 'duplicate key'").rows
        }
    }

    static func expectRefused(_ reply: RawHTTP.Reply, key: String, _ comment: Comment) {
        #expect(reply.status == 400, comment)
        #expect(reply.json?["error"]?["code"] == -32600, "\(comment): \(reply.body)")
        #expect(reply.json?["error"]?["message"]?.stringValue?.contains("the key \"\(key)\" appears twice") == true, "\(comment): \(reply.body)")
    }

    @Test func aSessionOf2025IsRefusedAMessageWithAKeyTwiceAtAnyDepth() async throws {
        try await Fixture.withServer { server, fixture in
            let url = server.url.absoluteString
            let session = try await RawHTTP.openSession(url)
            let headers = RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": session]) { $1 }
            let cases = [
                ("sql", #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"execute",\#(Self.twoStatements)}}"#),
                (
                    "name",
                    #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"query","name":"execute","arguments":{"database":"dev","sql":"INSERT INTO customers (name) VALUES ('duplicate key')"}}}"#
                ),
                (
                    "params",
                    #"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"query","arguments":{"sql":"SELECT 1"}},"params":{"name":"execute","arguments":{"database":"dev","sql":"INSERT INTO customers (name) VALUES ('duplicate key')"}}}"#
                ),
                ("a", #"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"query","arguments":{"sql":"SELECT $1::jsonb","params":[{"x":[{"a":1,"a":2}]}]}}}"#),
            ]
            for (key, body) in cases {
                Self.expectRefused(try await RawHTTP.send("POST", url, body: body, headers: headers), key: key, "\(key)")
            }
            #expect(try await Self.inserted(fixture) == [[0]])
            // The session goes on, and one key once runs as ever.
            let once = try await RawHTTP.call(url, session: session, tool: "query", arguments: ["sql": "SELECT 1 AS one"])
            #expect(once.json?["result"]?["structuredContent"]?["rows"] == [[1]], "\(once.body)")
        }
    }

    @Test func aBatchWithAKeyTwiceIsRefusedWholeAndNothingOfItRuns() async throws {
        try await Fixture.withServer { server, fixture in
            let url = server.url.absoluteString
            let initialize =
                MCPMessages.initialize(version: "2025-03-26", client: "batch")
            let session = try #require(try await RawHTTP.send("POST", url, body: initialize).header("Mcp-Session-Id"))
            let headers = RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": session]) { $1 }
            let insert =
                #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"execute","arguments":{"database":"dev","sql":"INSERT INTO customers (name) VALUES ('duplicate key')"}}}"#
            let twice = #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"execute",\#(Self.twoStatements)}}"#
            let reply = try await RawHTTP.send("POST", url, body: "[\(insert),\(twice)]", headers: headers)
            Self.expectRefused(reply, key: "sql", "batch")
            #expect(try await Self.inserted(fixture) == [[0]])
        }
    }

    @Test func aRequestOf2026WithAKeyTwiceIsRefused() async throws {
        try await Fixture.withServer { server, fixture in
            let url = server.url.absoluteString
            var headers = MCP2026.request("tools/call", params: ["name": "execute"]).headers
            headers["Mcp-Name"] = "execute"
            let meta = #""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#
            let cases = [
                ("sql", #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"execute",\#(Self.twoStatements),\#(meta)}}"#),
                (
                    "io.modelcontextprotocol/protocolVersion",
                    #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"execute",\#(Self.twoStatements.replacingOccurrences(of: #""sql":"SELECT 1","#, with: "")),"_meta":{"io.modelcontextprotocol/protocolVersion":"2025-06-18","io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#
                ),
            ]
            for (key, body) in cases {
                Self.expectRefused(try await RawHTTP.send("POST", url, body: body, headers: headers), key: key, "\(key)")
            }
            #expect(try await Self.inserted(fixture) == [[0]])
        }
    }
}
