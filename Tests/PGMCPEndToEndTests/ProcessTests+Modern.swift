import Foundation
import PGMCPJSON
import TestSupport
import Testing

extension ProcessTests {
    /// The real `pgmcp serve --transport stdio` spoken to in MCP 2026-07-28: the first request
    /// decides the pipe's era; every request carries its envelope; calls without a handle share the
    /// pipe's one work session, and handles name others;
    /// `notifications/cancelled` stops a statement; `initialize` is refused naming the version.
    @Test func stdioSpeaks2026WhenTheFirstRequestDoes() async throws {
        let child = try ChildProcess([pgmcpBinary, "serve", "--transport", "stdio"], environment: try environment())
        let meta = #""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#
        func ask(_ line: String) async throws -> JSONValue {
            child.send(line)
            return try JSONParser.parse(try #require(try await child.readLine()))
        }
        func call(_ id: Int, _ tool: String, _ arguments: String) async throws -> JSONValue {
            try await ask(#"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(tool)","arguments":\#(arguments),\#(meta)}}"#)
        }
        let discovered = try await ask(#"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{\#(meta)}}"#)
        #expect(discovered["result"]?["supportedVersions"] == ["2026-07-28"], "\(discovered)")
        let listed = try await ask(#"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{\#(meta)}}"#)
        #expect(listed["result"]?["tools"]?.arrayValue?.count == 15)
        #expect(listed["result"]?["cacheScope"] == "public")
        let seven = try await call(3, "query", #"{"sql":"SELECT 7"}"#)
        #expect(seven["result"]?["structuredContent"]?["rows"] == [[7]], "\(seven)")
        #expect(seven["result"]?["resultType"] == "complete")
        // Without its envelope a request is refused; initialize is not part of this pipe's era.
        let bare = try await ask(#"{"jsonrpc":"2.0","id":4,"method":"tools/list"}"#)
        #expect(bare["error"]?["code"] == -32602)
        let initialize = try await ask(MCPMessages.initialize(client: "late", id: 5))
        #expect(initialize["error"]?["code"] == -32022)
        #expect(initialize["error"]?["data"]?["supported"] == ["2026-07-28"])
        #expect(try await ask(#"{"jsonrpc":"2.0","id":6,"method":"ping","params":{\#(meta)}}"#)["error"]?["code"] == -32601)
        // The process's one client keeps one work session: a selection and a transaction made
        // without a handle last for the calls that follow.
        let select = try await call(7, "select_database", #"{"database":"main"}"#)
        #expect(select["result"]?["isError"] == false, "\(select)")
        let pipeBegun = try await call(20, "begin_transaction", "{}")
        #expect(pipeBegun["result"]?["structuredContent"]?["transaction"]?["status"] == "open", "\(pipeBegun)")
        let pipeCurrent = try await call(21, "current_database", "{}")
        #expect(pipeCurrent["result"]?["structuredContent"]?["database"] == "main")
        #expect(pipeCurrent["result"]?["structuredContent"]?["transaction"]?["status"] == "open", "\(pipeCurrent)")
        #expect(try await call(22, "rollback_transaction", "{}")["result"]?["isError"] == false)
        // Handles still name sessions of their own.
        let handle = try #require(try await call(8, "open_session", "{}")["result"]?["structuredContent"]?["session"]?.stringValue)
        let begun = try await call(9, "begin_transaction", #"{"session":"\#(handle)"}"#)
        #expect(begun["result"]?["structuredContent"]?["transaction"]?["status"] == "open", "\(begun)")
        let inside = try await call(10, "current_database", #"{"session":"\#(handle)"}"#)
        #expect(inside["result"]?["structuredContent"]?["transaction"]?["status"] == "open")
        // notifications/cancelled stops a running statement in PostgreSQL.
        child.send(#"{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"query","arguments":{"sql":"SELECT pg_sleep(30) /* stdio-2026-cancel */"},\#(meta)}}"#)
        let running = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%stdio-2026-cancel */'"
        #expect(try await eventually { try await TestDatabase.rows(running) == [[1]] })
        child.send(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":11,\#(meta)}}"#)
        #expect(try await eventually(within: .seconds(3)) { try await TestDatabase.rows(running) == [[0]] })
        child.closeInput()
        #expect(try await child.wait() == 0)
    }
}

extension ProcessTests {
    /// On a 2026-07-28 pipe the client's own work session holds a place like a 2025 pipe's: with
    /// room for one more, a handle fits and a second is refused as busy, while calls without a
    /// handle (in the pipe's session) and in the handle still run, and closing the handle frees it.
    @Test func stdioOf2026KeepsItsSessionsPlaceAndServesItsHandlesWhenTheTableIsFull() async throws {
        let child = try ChildProcess([pgmcpBinary, "serve", "--transport", "stdio"], environment: try environment(extra: ["PGMCP_MAX_SESSIONS": "2"]))
        let meta = #""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#
        func call(_ id: Int, _ tool: String, _ arguments: String) async throws -> JSONValue {
            child.send(#"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(tool)","arguments":\#(arguments),\#(meta)}}"#)
            return try JSONParser.parse(try #require(try await child.readLine()))
        }
        let handle = try #require(try await call(1, "open_session", "{}")["result"]?["structuredContent"]?["session"]?.stringValue)
        let inside = try await call(2, "query", #"{"sql":"SELECT 2","session":"\#(handle)"}"#)
        #expect(inside["result"]?["structuredContent"]?["rows"] == [[2]], "\(inside)")
        let second = try await call(3, "open_session", "{}")
        #expect(second["result"]?["isError"] == true, "\(second)")
        let alone = try await call(4, "query", #"{"sql":"SELECT 4"}"#)
        #expect(alone["result"]?["structuredContent"]?["rows"] == [[4]], "\(alone)")
        let closed = try await call(5, "close_session", #"{"session":"\#(handle)"}"#)
        #expect(closed["result"]?["structuredContent"]?["closed"] == .string(handle), "\(closed)")
        let again = try await call(6, "open_session", "{}")
        #expect(again["result"]?["structuredContent"]?["session"]?.stringValue != nil, "\(again)")
        child.closeInput()
        #expect(try await child.wait() == 0)
    }
}
