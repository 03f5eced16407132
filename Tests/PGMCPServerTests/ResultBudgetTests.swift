import Foundation
import MCPTestSupport
import PGConfig
import PGMCPJSON
import TestSupport
import Testing

/// PGMCP_MAX_RESULT_BYTES holds for every tool's result and every error, over real HTTP.
@Suite("Result size cap", .serialized) struct ResultBudgetTests {
    static let cap = 20_000

    /// A scratch database with 300 commented tables and a 300-column table with long column comments.
    typealias Call = (_ tool: String, _ arguments: JSONValue) async throws -> RawHTTP.Reply

    /// `body` gets a tools/call sender, and a sender of whole JSON-RPC messages.
    func withServer(_ body: (_ call: Call, _ send: (JSONValue) async throws -> RawHTTP.Reply) async throws -> Void) async throws {
        let name = try await TestDatabase.createScratchDatabase(prefix: "cap")
        let wide = (1...300).map { "c\($0) int" }.joined(separator: ", ")
        try await TestDatabase.withConnection(database: name) { connection in
            try await connection.command(
                """
                DO $$ BEGIN FOR i IN 1..300 LOOP
                  EXECUTE format('CREATE TABLE t%s (id int)', i);
                  EXECUTE format('COMMENT ON TABLE t%s IS %L', i, repeat('a table with a comment ', 5));
                END LOOP; END $$
                """)
            try await connection.command("CREATE TABLE wide (\(wide))")
            try await connection.command(
                """
                DO $$ BEGIN FOR i IN 1..300 LOOP
                  EXECUTE format('COMMENT ON COLUMN wide.c%s IS %L', i, repeat('a long column comment ', 10));
                END LOOP; END $$
                """)
        }
        let server = try await TestServer.start(databases: [try TestDatabase.config(id: "main", database: name)]) {
            $0.maxResultBytes = Self.cap
        }
        do {
            let url = server.url.absoluteString
            let session = try await RawHTTP.openSession(url)
            let headers = RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": session]) { $1 }
            try await body(
                { tool, arguments in try await RawHTTP.call(url, session: session, tool: tool, arguments: arguments) },
                { message in try await RawHTTP.send("POST", url, body: message.jsonText, headers: headers) })
            await server.stop()
            try await TestDatabase.dropDatabase(name)
        } catch {
            await server.stop()
            try? await TestDatabase.dropDatabase(name)
            throw error
        }
    }

    /// The structured content of a successful call, after checking it is within the cap, cut, and
    /// that its text copy is the same JSON.
    func cutResult(_ reply: RawHTTP.Reply, _ label: String) throws -> JSONValue {
        let result = try #require(reply.json?["result"], "\(label): \(reply.body.prefix(500))")
        #expect(result["isError"] == false, "\(label): \(reply.body.prefix(500))")
        let structured = try #require(result["structuredContent"], "\(label)")
        #expect(structured.serialized().count <= Self.cap, "\(label): \(structured.serialized().count) bytes")
        #expect(structured["truncated"] == true, "\(label)")
        let text = try #require(result["content"]?.arrayValue?.first?["text"]?.stringValue)
        #expect(try FencedText(text)?.value() == structured, "\(label)")
        return structured
    }

    @Test func listTablesOfThreeHundredTablesIsCut() async throws {
        try await withServer { call, _ in
            let listed = try cutResult(try await call("list_tables", [:]), "list_tables")
            let count = listed["tables"]?.arrayValue?.count ?? 0
            #expect(count > 50 && count < 300, "\(count) tables")
            // Cut from the end: the first ones are there, whole.
            #expect(listed["tables"]?.arrayValue?.first?["name"] == "t1")
        }
    }

    @Test func describeTableOfThreeHundredCommentedColumnsIsCut() async throws {
        try await withServer { call, _ in
            let described = try cutResult(try await call("describe_table", ["table": "wide"]), "describe_table")
            let columns = described["columns"]?.arrayValue ?? []
            #expect(columns.count > 10 && columns.count < 300, "\(columns.count) columns")
            #expect(columns.first?["name"] == "c1")
            #expect(described["name"] == "wide")
        }
    }

    @Test func aQueryOfSixteenHundredColumnsKeepsRowsAndColumnsAligned() async throws {
        // PostgreSQL allows at most 1664 entries in a select list.
        let list = (1...1600).map { "g * \($0) AS a_rather_long_column_name_\($0)" }.joined(separator: ", ")
        try await withServer { call, _ in
            let result = try cutResult(try await call("query", ["sql": .string("SELECT \(list) FROM generate_series(1, 5) g")]), "query")
            let columns = result["columns"]?.arrayValue ?? []
            let rows = result["rows"]?.arrayValue ?? []
            #expect(!rows.isEmpty && columns.count > 10 && columns.count < 1600, "\(rows.count) rows, \(columns.count) columns")
            #expect(rows.allSatisfy { $0.arrayValue?.count == columns.count })
            #expect(result["rowCount"] == .int(Int64(rows.count)))
            #expect(columns.first?["name"] == "a_rather_long_column_name_1")
        }
    }

    @Test func oneHugeValueIsCutWithAMarkerRatherThanDropped() async throws {
        try await withServer { call, _ in
            let result = try cutResult(try await call("query", ["sql": "SELECT repeat('x', 100000) AS big, 42 AS answer"]), "query")
            let row = result["rows"]?.arrayValue?.first?.arrayValue
            let big = row?.first?.stringValue ?? ""
            #expect(big.hasPrefix("xxxx") && big.hasSuffix("more bytes cut]"), "\(big.suffix(40))")
            #expect(row?.count == 2 && row?.last?.intValue == 42, "\(row?.count ?? 0) cells")
        }
    }

    @Test func errorsAreCutToo() async throws {
        try await withServer { call, send in
            // PostgreSQL quotes the 3 MB parameter back in its error.
            let huge = String(repeating: "9x", count: 1_500_000)
            let failed = try await call("query", ["sql": "SELECT $1::int", "params": [.string(huge)]])
            let result = try #require(failed.json?["result"])
            #expect(result["isError"] == true)
            #expect(result.serialized().count <= Self.cap, "\(result.serialized().count) bytes")
            let text = result["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
            #expect(text.contains("invalid input syntax for type integer") && text.contains("more bytes cut]"), "\(text.prefix(200))")

            // A refused argument whose name is a megabyte long.
            let name = String(repeating: "n", count: 1_000_000)
            let refused = try await call("query", .object(JSONObject([("sql", "SELECT 1"), (name, 1)])))
            #expect(refused.json?["result"]?["isError"] == true)
            #expect(refused.body.utf8.count <= Self.cap + 1000, "\(refused.body.utf8.count) bytes")
            // A JSON-RPC error echoing a megabyte tool name.
            let unknown = try await call(name, [:])
            #expect(unknown.json?["error"]?["message"]?.stringValue?.hasPrefix("unknown tool 'nnnn") == true)
            #expect(unknown.body.utf8.count <= 1200, "\(unknown.body.utf8.count) bytes")
            // A declared protocol version (2026-07-28's _meta) a megabyte long: refused (its headers do
            // not repeat it), the answer small.
            let meta: JSONValue = .object(JSONObject([("io.modelcontextprotocol/protocolVersion", .string(name))]))
            let pinned = try await send(["jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": ["name": "query", "arguments": ["sql": "SELECT 1"], "_meta": meta]])
            #expect(pinned.json?["error"]?["code"] == -32020)
            #expect(pinned.body.utf8.count <= 2500, "\(pinned.body.utf8.count) bytes")
        }
    }

    @Test func whatCannotBeCutIsAnErrorThatSaysWhatToDo() async throws {
        // A plan of 400 nodes: its structure alone is over the cap.
        let union = (1...400).map { "SELECT \($0) AS n" }.joined(separator: " UNION ALL ")
        try await withServer { call, _ in
            let reply = try await call("explain", ["sql": .string(union)])
            let result = try #require(reply.json?["result"])
            #expect(result["isError"] == true)
            let text = result["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
            #expect(text.hasPrefix("the result is "), "\(text)")
            #expect(text.contains("bytes, over PGMCP_MAX_RESULT_BYTES=\(Self.cap)"), "\(text)")
            #expect(text.contains("raise PGMCP_MAX_RESULT_BYTES"), "\(text)")
        }
    }
}
