import Foundation
import MCPTestSupport
import PGConfig
import PGMCPJSON
import TestSupport
import Testing

/// A client that goes away mid-call takes its call with it: the answer could never be delivered.
@Suite("Client going away", .serialized) struct ClientConnectionTests {
    /// With no statement timeout, nothing else would ever stop the statement.
    func withServer(_ body: (TestServer) async throws -> Void) async throws {
        var config = try TestDatabase.config(id: "main")
        config.statementTimeoutMs = 0
        try await TestServer.with(databases: [config], { _ in }, body)
    }

    func running(_ marker: String) -> String {
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%\(marker)%' AND query NOT LIKE '%pg_stat_activity%'"
    }

    func call(session: String, port: Int, id: JSONValue, sql: String) -> String {
        let body: JSONValue = ["jsonrpc": "2.0", "id": id, "method": "tools/call", "params": ["name": "query", "arguments": ["sql": .string(sql)]]]
        return RawHTTP.request(
            body: body.jsonText,
            headers: [("Host", "127.0.0.1:\(port)"), ("Content-Type", "application/json"), ("Accept", "application/json"), ("Mcp-Session-Id", session)])
    }

    @Test func closingTheConnectionCancelsTheStatement() async throws {
        try await withServer { server in
            let session = try await RawHTTP.openSession(server.url.absoluteString)
            let socket = try await RawSocket.connect(port: server.port)
            try await socket.write(call(session: session, port: server.port, id: 1, sql: "SELECT pg_sleep(30) /* gone-client */"))
            #expect(try await eventually { try await TestDatabase.rows(running("gone-client")) == [[1]] })
            try await Task.sleep(for: .milliseconds(300))
            socket.close()
            #expect(try await eventually(within: .seconds(2)) { try await TestDatabase.rows(running("gone-client")) == [[0]] })
            // Only the call ended: the session goes on.
            let after = try await RawHTTP.call(server.url.absoluteString, session: session, id: 2, tool: "query", arguments: ["sql": "SELECT 1"])
            #expect(after.json?["result"]?["structuredContent"]?["rows"] == [[1]])
        }
    }

    /// A batch's remaining calls do not run for a client that left either.
    @Test func closingTheConnectionStopsABatch() async throws {
        try await withServer { server in
            let initialize = MCPMessages.initialize(version: "2025-03-26", client: "b")
            let session = try #require(try await RawHTTP.send("POST", server.url.absoluteString, body: initialize).header("Mcp-Session-Id"))
            let calls: JSONValue = .array(
                (1...3).map { n in
                    [
                        "jsonrpc": "2.0", "id": .int(Int64(n)), "method": "tools/call",
                        "params": ["name": "query", "arguments": ["sql": .string("SELECT pg_sleep(30) /* gone-batch-\(n) */")]],
                    ]
                })
            let socket = try await RawSocket.connect(port: server.port)
            try await socket.write(
                RawHTTP.request(
                    body: calls.jsonText,
                    headers: [("Host", "127.0.0.1:\(server.port)"), ("Content-Type", "application/json"), ("Accept", "application/json"), ("Mcp-Session-Id", session)]))
            #expect(try await eventually { try await TestDatabase.rows(running("gone-batch-1")) == [[1]] })
            socket.close()
            #expect(try await eventually(within: .seconds(2)) { try await TestDatabase.rows(running("gone-batch-")) == [[0]] })
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await TestDatabase.rows(running("gone-batch-")) == [[0]])
        }
    }

    /// A connection that stays open gets its answer, however long the call takes: nothing is
    /// cancelled for a client that is still there, and the connection serves the next request.
    @Test func anOpenConnectionGetsItsAnswers() async throws {
        try await withServer { server in
            let session = try await RawHTTP.openSession(server.url.absoluteString)
            let socket = try await RawSocket.connect(port: server.port)
            try await socket.write(call(session: session, port: server.port, id: 1, sql: "SELECT true AS slept FROM pg_sleep(0.5)"))
            let first = try await socket.readResponse()
            #expect(first.json?["result"]?["structuredContent"]?["rows"] == [[true]], "\(first.body)")
            try await socket.write(call(session: session, port: server.port, id: 2, sql: "SELECT 2"))
            let second = try await socket.readResponse()
            #expect(second.json?["result"]?["structuredContent"]?["rows"] == [[2]], "\(second.body)")
            socket.close()
        }
    }
}
