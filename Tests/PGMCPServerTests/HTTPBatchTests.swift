import Foundation
import MCPTestSupport
import PGConfig
import PGMCPJSON
import TestSupport
import Testing

/// JSON-RPC batches: only for sessions of 2025-03-26, bounded in count and in answer bytes.
@Suite("JSON-RPC batches over HTTP", .serialized) struct HTTPBatchTests {
    func withServer(_ tweak: (inout ServerSettings) -> Void = { _ in }, _ body: (TestServer) async throws -> Void) async throws {
        try await TestServer.with(databases: [try TestDatabase.config(id: "main")], tweak, body)
    }

    /// A session of `version`, and the headers its requests carry.
    func session(_ url: String, version: String) async throws -> [String: String] {
        let initialize = MCPMessages.initialize(version: version, client: "batch")
        let reply = try await RawHTTP.send("POST", url, body: initialize)
        #expect(reply.json?["result"]?["protocolVersion"] == .string(version))
        let id = try #require(reply.header("Mcp-Session-Id"))
        return RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": id]) { $1 }
    }

    func batch(_ messages: [JSONValue]) -> String { JSONValue.array(messages).jsonText }

    func ping(_ id: Int) -> JSONValue { ["jsonrpc": "2.0", "id": .int(Int64(id)), "method": "ping"] }

    func query(_ id: Int, _ sql: String) -> JSONValue {
        ["jsonrpc": "2.0", "id": .int(Int64(id)), "method": "tools/call", "params": ["name": "query", "arguments": ["sql": .string(sql)]]]
    }

    @Test func sessionsOf2025_06_18AndLaterGetAnErrorForABatch() async throws {
        try await withServer { server in
            let url = server.url.absoluteString
            for version in ["2025-06-18", "2025-11-25"] {
                let headers = try await session(url, version: version)
                let reply = try await RawHTTP.send("POST", url, body: batch([ping(1), query(2, "SELECT 1")]), headers: headers)
                #expect(reply.status == 400)
                #expect(reply.json?["error"]?["code"] == -32600)
                #expect(reply.json?["error"]?["message"]?.stringValue?.contains("not part of MCP \(version)") == true, "\(reply.body)")
                // One message per POST works as ever.
                let single = try await RawHTTP.send("POST", url, body: ping(3).jsonText, headers: headers)
                #expect(single.json?["result"] == [:])
            }
        }
    }

    @Test func aSessionOf2025_03_26GetsOneAnswerPerRequestInOrder() async throws {
        try await withServer { server in
            let url = server.url.absoluteString
            let headers = try await session(url, version: "2025-03-26")
            let reply = try await RawHTTP.send(
                "POST", url,
                body:
                    #"[{"jsonrpc":"2.0","id":"a","method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":"b","method":"nope"},{"jsonrpc":"2.0","id":"c","method":"initialize","params":{}},42]"#,
                headers: headers)
            let answers = try #require(reply.json?.arrayValue)
            #expect(answers.map(\.["id"]) == ["a", "b", "c", .null])
            #expect(answers.map(\.["error"]?["code"]) == [nil, -32601, -32600, -32600])
            let notifications = try await RawHTTP.send("POST", url, body: #"[{"jsonrpc":"2.0","method":"notifications/initialized"}]"#, headers: headers)
            #expect(notifications.status == 202)
            let empty = try await RawHTTP.send("POST", url, body: "[]", headers: headers)
            #expect(empty.status == 400)
        }
    }

    @Test func aBatchOverTheCountLimitIsRefusedWholeBeforeAnythingRuns() async throws {
        let table = "batch_probe_\(UInt32.random(in: 0...UInt32.max))"
        try await TestDatabase.withConnection { try await $0.command("CREATE TABLE \(table) (n int)") }
        let server = try await TestServer.start(databases: [try TestDatabase.config(id: "main", readOnly: false)])
        do {
            let url = server.url.absoluteString
            let headers = try await session(url, version: "2025-03-26")
            let insert: JSONValue = [
                "jsonrpc": "2.0", "id": 0, "method": "tools/call",
                "params": ["name": "execute", "arguments": ["sql": .string("INSERT INTO \(table) VALUES (1)")]],
            ]
            let tooMany = try await RawHTTP.send("POST", url, body: batch([insert] + (1...32).map(ping)), headers: headers)
            #expect(tooMany.status == 400)
            #expect(tooMany.json?["error"]?["message"] == "a batch of 33 messages; at most 32 are accepted in one batch: split it")
            #expect(try await TestDatabase.rows("SELECT count(*) FROM \(table)") == [[0]])
            let atTheLimit = try await RawHTTP.send("POST", url, body: batch([insert] + (1...31).map(ping)), headers: headers)
            #expect(atTheLimit.status == 200)
            #expect(atTheLimit.json?.arrayValue?.count == 32)
            #expect(atTheLimit.json?.arrayValue?.first?["result"]?["isError"] == false)
            #expect(try await TestDatabase.rows("SELECT count(*) FROM \(table)") == [[1]])
        } catch {
            Issue.record(error)
        }
        await server.stop()
        try await TestDatabase.withConnection { try await $0.command("DROP TABLE \(table)") }
    }

    @Test func aBatchsAnswerIsCappedAndTheRestIsNotRun() async throws {
        // PGMCP_MAX_RESULT_BYTES 16 KiB: a batch's answer may pass 64 KiB by one answer at most.
        try await withServer({ $0.maxResultBytes = 16_384 }) { server in
            let url = server.url.absoluteString
            let headers = try await session(url, version: "2025-03-26")
            // Each answer holds ~10 KB twice (text and structured content): about 20 KB.
            let calls = (1...20).map { query($0, "SELECT repeat('x', 10000) AS filler, \($0) AS n") }
            let reply = try await RawHTTP.send("POST", url, body: batch(calls), headers: headers)
            #expect(reply.status == 200)
            let answers = try #require(reply.json?.arrayValue)
            #expect(answers.count == 20)
            #expect(answers.map(\.["id"]) == (1...20).map { .int(Int64($0)) })
            let ran = answers.filter { $0["result"] != nil }
            let refused = answers.filter { $0["error"]?["code"] == -32000 }
            #expect(ran.count + refused.count == 20)
            #expect((3...5).contains(ran.count), "\(ran.count) ran")
            #expect(refused.first?["error"]?["message"]?.stringValue?.hasPrefix("not run: this batch's answer passed 65536 bytes") == true)
            // The cap, plus the one answer that crossed it.
            #expect(reply.body.utf8.count < 65_536 + 25_000, "\(reply.body.utf8.count) bytes")
            // Only the answered calls ran: the session counted their queries, not the refused ones.
            let info = try await RawHTTP.send(
                "POST", url, body: #"{"jsonrpc":"2.0","id":99,"method":"tools/call","params":{"name":"current_database","arguments":{}}}"#, headers: headers)
            #expect(info.json?["result"]?["structuredContent"]?["session"]?["queries"] == .int(Int64(ran.count)))
            // The server stays up.
            let pong = try await RawHTTP.send("POST", url, body: ping(100).jsonText, headers: headers)
            #expect(pong.json?["result"] == [:])
        }
    }
}
