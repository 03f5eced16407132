import Foundation
import MCPTestSupport
import PGConfig
import PGMCPJSON
import TestSupport
import Testing

/// MCP 2026-07-28 on `/mcp`, byte for byte: the envelope, the headers that must repeat the body,
/// the errors and statuses the spec names, the result fields it adds, and state only by handle.
@Suite("MCP 2026-07-28 over HTTP", .serialized) struct ModernProtocolTests {
    func withServer(_ body: (String, Fixture) async throws -> Void) async throws {
        try await Fixture.withServer { server, fixture in try await body(server.url.absoluteString, fixture) }
    }

    @Test func discoverListAndCallCarryTheFieldsOf2026() async throws {
        try await withServer { url, _ in
            let discovered = try await MCP2026.send(url, "server/discover")
            #expect(discovered.status == 200)
            let result = try #require(discovered.json?["result"])
            #expect(result["supportedVersions"] == ["2026-07-28"])
            #expect(result["capabilities"]?["tools"] != nil)
            #expect(result["resultType"] == "complete")
            #expect(result["ttlMs"]?.intValue ?? 0 > 0)
            #expect(result["cacheScope"] == "public")
            #expect(result["_meta"]?["io.modelcontextprotocol/serverInfo"]?["name"] == "pgmcp")
            #expect(result["instructions"]?.stringValue?.isEmpty == false)
            // No protocol session, ever.
            #expect(discovered.header("Mcp-Session-Id") == nil)

            let listed = try await MCP2026.send(url, "tools/list", headers: ["Mcp-Session-Id": "ignored"])
            let tools = try #require(listed.json?["result"])
            #expect(tools["resultType"] == "complete")
            #expect(tools["cacheScope"] == "public")
            #expect(tools["ttlMs"] == result["ttlMs"])
            #expect(tools["tools"]?.arrayValue?.count == 15)  // connect and disconnect_database: dynamic connections are off
            #expect(listed.header("Mcp-Session-Id") == nil)
            // Fixed: the same bytes for every caller and every time.
            let again = try await MCP2026.send(url, "tools/list")
            #expect(again.json?["result"]?["tools"] == tools["tools"])

            let queried = try await MCP2026.call(url, "query", ["sql": "SELECT 1 AS one"])
            #expect(queried.status == 200)
            #expect(queried.json?["result"]?["structuredContent"]?["rows"] == [[1]], "\(queried.body)")
            #expect(queried.json?["result"]?["resultType"] == "complete")
            #expect(queried.json?["result"]?["_meta"]?["io.modelcontextprotocol/serverInfo"]?["name"] == "pgmcp")
            let failed = try await MCP2026.call(url, "query", ["sql": "SELECT FROM WHERE"])
            #expect(failed.status == 200)
            #expect(failed.json?["result"]?["isError"] == true)
            #expect(failed.json?["result"]?["resultType"] == "complete")
        }
    }

    @Test func headersThatDoNotRepeatTheBodyAreRefusedWithMinus32020() async throws {
        try await withServer { url, _ in
            let handle = try #require(try await MCP2026.call(url, "open_session").json?["result"]?["structuredContent"]?["session"]?.stringValue)
            let cases: [(String, RawHTTP.Reply)] = [
                ("Mcp-Method missing", try await MCP2026.send(url, "tools/list", headers: ["Mcp-Method": nil])),
                ("Mcp-Method other", try await MCP2026.send(url, "tools/list", headers: ["Mcp-Method": "tools/call"])),
                ("version header other than _meta", try await MCP2026.send(url, "tools/list", headers: ["MCP-Protocol-Version": "2099-01-01"])),
                ("Mcp-Name missing", try await MCP2026.call(url, "query", ["sql": "SELECT 1"], headers: ["Mcp-Name": nil])),
                ("Mcp-Name other", try await MCP2026.call(url, "execute", ["sql": "SELECT 1"], headers: ["Mcp-Name": "query"])),
                ("Mcp-Param-Session missing", try await MCP2026.call(url, "query", ["sql": "SELECT 1", "session": .string(handle)], headers: ["Mcp-Param-Session": nil])),
                ("Mcp-Param-Session other", try await MCP2026.call(url, "query", ["sql": "SELECT 1", "session": .string(handle)], headers: ["Mcp-Param-Session": "x"])),
                ("Mcp-Param-Session without the argument", try await MCP2026.call(url, "query", ["sql": "SELECT 1"], headers: ["Mcp-Param-Session": handle])),
            ]
            for (name, reply) in cases {
                #expect(reply.status == 400, "\(name): \(reply.status) \(reply.body)")
                #expect(reply.json?["error"]?["code"] == -32020, "\(name): \(reply.body)")
                #expect(reply.json?["id"] == 1, "\(name)")
            }
            // A version in _meta 60 kB long, quoted in the mismatch message: cut, the answer small.
            let long = String(repeating: "v", count: 60_000)
            let quoted = try await MCP2026.send(url, "tools/list", version: long, headers: ["MCP-Protocol-Version": MCP2026.version])
            #expect(quoted.json?["error"]?["code"] == -32020)
            #expect(quoted.body.utf8.count <= 2500, "\(quoted.body.utf8.count) bytes")
            // Equal once decoded: the base64 form of a header value.
            let encoded = "=?base64?" + Data("query".utf8).base64EncodedString() + "?="
            let decoded = try await MCP2026.call(url, "query", ["sql": "SELECT 2"], headers: ["Mcp-Name": encoded])
            #expect(decoded.json?["result"]?["structuredContent"]?["rows"] == [[2]], "\(decoded.body)")
            // Without a version header the request is not taken for 2026 by its header, and its body's
            // version alone is not enough.
            let headerless = try await MCP2026.send(url, "tools/list", headers: ["MCP-Protocol-Version": nil])
            #expect(headerless.status == 400)
            #expect(headerless.json?["error"]?["code"] == -32020)
        }
    }

    @Test func versionsEnvelopesMethodsAndVerbsAsTheSpecSays() async throws {
        try await withServer { url, _ in
            let unsupported = try await MCP2026.send(url, "tools/list", version: "2099-01-01")
            #expect(unsupported.status == 400)
            #expect(unsupported.json?["error"]?["code"] == -32022)
            #expect(unsupported.json?["error"]?["data"] == ["supported": ["2026-07-28"], "requested": "2099-01-01"])

            var noEnvelope = RawHTTP.mcpHeaders
            noEnvelope["MCP-Protocol-Version"] = MCP2026.version
            noEnvelope["Mcp-Method"] = "tools/list"
            let bare = try await RawHTTP.send("POST", url, body: #"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#, headers: noEnvelope)
            #expect(bare.status == 400)
            #expect(bare.json?["error"]?["code"] == -32602)
            #expect(bare.json?["id"] == 3)

            for method in ["ping", "initialize", "logging/setLevel", "resources/list", "no/such"] {
                let reply = try await MCP2026.send(url, method)
                #expect(reply.status == 404, "\(method): \(reply.status)")
                #expect(reply.json?["error"]?["code"] == -32601, "\(method): \(reply.body)")
            }
            var notification = RawHTTP.mcpHeaders
            notification["MCP-Protocol-Version"] = MCP2026.version
            notification["Mcp-Method"] = "notifications/initialized"
            let noted = try await RawHTTP.send("POST", url, body: #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, headers: notification)
            #expect(noted.status == 202)
            for verb in ["GET", "DELETE"] {
                let reply = try await RawHTTP.send(verb, url, headers: ["MCP-Protocol-Version": MCP2026.version, "Accept": "text/event-stream"])
                #expect(reply.status == 405, "\(verb)")
                #expect(reply.header("Allow") == "POST", "\(verb)")
            }
            let batch = try await RawHTTP.send("POST", url, body: "[" + MCP2026.request("tools/list").body + "]", headers: MCP2026.request("tools/list").headers)
            #expect(batch.status == 400)
            #expect(batch.json?["error"]?["code"] == -32600)
        }
    }

    @Test func aStateChangingCallWithoutAHandleKeepsItsSessionAndReturnsTheHandle() async throws {
        try await Fixture.withServer { server, fixture in
            let url = server.url.absoluteString
            let registry = server.registry
            let before = registry.sessionCount
            // Calls that cannot succeed in a new session leave nothing behind.
            for tool in ["disconnect_database", "commit_transaction", "rollback_transaction"] {
                let failed = try await MCP2026.call(url, tool, tool == "disconnect_database" ? ["name": "nothing"] : [:])
                #expect(failed.json?["result"]?["isError"] == true, "\(tool): \(failed.body)")
                #expect(failed.json?["result"]?["structuredContent"]?["session"] == nil)
            }
            #expect(registry.sessionCount == before)
            // select_database keeps its work session and returns its handle, with a sentence saying to pass it.
            let selected = try await MCP2026.call(url, "select_database", ["database": "ro"])
            let result = try #require(selected.json?["result"]?["structuredContent"], "\(selected.body)")
            let kept = try #require(result["session"]?.stringValue, "\(selected.body)")
            #expect(result["database"] == "ro")
            #expect(result["note"]?.stringValue?.contains("pass \"\(kept)\" as 'session'") == true)
            #expect(registry.sessionCount == before + 1)
            let inKept = try await MCP2026.call(url, "current_database", ["session": .string(kept)])
            #expect(inKept.json?["result"]?["structuredContent"]?["database"] == "ro", "\(inKept.body)")
            // begin_transaction too: the transaction lives in the kept session.
            let begun = try await MCP2026.call(url, "begin_transaction", ["database": "dev", "read_only": false])
            let transactionSession = try #require(begun.json?["result"]?["structuredContent"]?["session"]?.stringValue, "\(begun.body)")
            #expect(transactionSession != kept)
            let open = try await MCP2026.call(url, "current_database", ["session": .string(transactionSession)])
            #expect(open.json?["result"]?["structuredContent"]?["transaction"]?["status"] == "open", "\(open.body)")
            _ = try await MCP2026.call(url, "rollback_transaction", ["session": .string(transactionSession)])
            for handle in [kept, transactionSession] { _ = try await MCP2026.call(url, "close_session", ["session": .string(handle)]) }
            #expect(registry.sessionCount == before)

            // A call alone runs on its 'database' or the default, and leaves nothing behind.
            let alone = try await MCP2026.call(url, "query", ["sql": "SELECT current_database()", "database": "ro"])
            #expect(alone.json?["result"]?["structuredContent"]?["database"] == "ro")
            #expect(try await MCP2026.call(url, "current_database").json?["result"]?["structuredContent"]?["database"] == "dev")

            // Under a handle: select, a transaction across calls, and its end.
            let opened = try await MCP2026.call(url, "open_session", ["label": "raw"])
            let handle = try #require(opened.json?["result"]?["structuredContent"]?["session"]?.stringValue)
            let session = JSONValue.string(handle)
            _ = try await MCP2026.call(url, "select_database", ["database": "dev", "session": session])
            _ = try await MCP2026.call(url, "begin_transaction", ["read_only": false, "session": session])
            let inserted = try await MCP2026.call(url, "execute", ["sql": "INSERT INTO customers (name) VALUES ('modern tx')", "session": session])
            #expect(inserted.json?["result"]?["structuredContent"]?["rowsAffected"] == 1, "\(inserted.body)")
            let outside = try await TestDatabase.withConnection(database: fixture.databaseName) { c in
                try await c.query("SELECT count(*) FROM customers WHERE name = 'modern tx'").rows
            }
            #expect(outside == [[0]])
            _ = try await MCP2026.call(url, "commit_transaction", ["session": session])
            let committed = try await TestDatabase.withConnection(database: fixture.databaseName) { c in
                try await c.query("SELECT count(*) FROM customers WHERE name = 'modern tx'").rows
            }
            #expect(committed == [[1]])
            _ = try await MCP2026.call(url, "close_session", ["session": session])
            let gone = try await MCP2026.call(url, "query", ["sql": "SELECT 1", "session": session])
            #expect(gone.json?["result"]?["isError"] == true)
        }
    }

    /// Handles and Mcp-Session-Ids name the replica that holds them (`<replica>.<random>`), so a
    /// router can send their calls back to it.
    @Test func handlesAndSessionIDsCarryTheReplicaID() async throws {
        try await Fixture.withServer(settings: { $0.replicaID = "eu-1" }) { server, _ in
            let url = server.url.absoluteString
            let session = try await RawHTTP.openSession(url)
            #expect(session.hasPrefix("eu-1."), "\(session)")
            #expect(session.count > "eu-1.".count + 40)
            let opened = try await MCP2026.call(url, "open_session")
            let handle = try #require(opened.json?["result"]?["structuredContent"]?["session"]?.stringValue)
            #expect(handle.hasPrefix("eu-1."), "\(handle)")
            // And it works as any handle does, header included.
            let used = try await MCP2026.call(url, "current_database", ["session": .string(handle)])
            #expect(used.json?["result"]?["isError"] == false, "\(used.body)")
        }
    }

    /// A call of its own counts against PGMCP_MAX_SESSIONS like any session: a flood of stateless
    /// calls is bounded too. And a version header of neither era on a 2025-style request keeps the
    /// 2025 path (initialize negotiates).
    @Test func callSessionsCountAgainstTheLimitAndUnknownVersionsKeepThe2025Path() async throws {
        try await Fixture.withServer(settings: { $0.maxSessions = 1 }) { server, _ in
            let url = server.url.absoluteString
            var old = RawHTTP.mcpHeaders
            old["MCP-Protocol-Version"] = "2024-11-05"
            let initialized = try await RawHTTP.send("POST", url, body: RawHTTP.initialize, headers: old)
            #expect(initialized.status == 200, "\(initialized.body)")
            #expect(initialized.json?["result"]?["protocolVersion"] == "2025-06-18")
            // The one session there may be is taken: a call alone is refused as busy, not run.
            let busy = try await MCP2026.call(url, "query", ["sql": "SELECT 1"])
            #expect(busy.json?["error"]?["code"] == -32000, "\(busy.body)")
            #expect(busy.json?["error"]?["message"]?.stringValue?.contains("PGMCP_MAX_SESSIONS") == true)
        }
    }

    /// A call that names a handle runs in that session, which holds its place already; close_session
    /// and open_session need only their caller. So a full table locks no client out of its own
    /// handles (before, each such call took a place of its own and was refused as busy, and the
    /// handle's open transaction rolled back at the idle timeout).
    @Test func aFullTableStillServesCallsInExistingHandles() async throws {
        try await Fixture.withServer(settings: { $0.maxSessions = 2 }) { server, _ in
            let url = server.url.absoluteString
            let handle = try #require(try await MCP2026.call(url, "open_session").json?["result"]?["structuredContent"]?["session"]?.stringValue)
            let session = JSONValue.string(handle)
            _ = try await RawHTTP.openSession(url)  // the second and last place
            #expect(server.registry.sessionCount == 2)
            let begun = try await MCP2026.call(url, "begin_transaction", ["database": "dev", "read_only": false, "session": session])
            #expect(begun.json?["result"]?["structuredContent"]?["transaction"]?["status"] == "open", "\(begun.body)")
            let queried = try await MCP2026.call(url, "query", ["sql": "SELECT 1 AS one", "session": session])
            #expect(queried.json?["result"]?["structuredContent"]?["rows"] == [[1]], "\(queried.body)")
            _ = try await MCP2026.call(url, "rollback_transaction", ["database": "dev", "session": session])
            // A call without a handle still needs a place of its own: refused while the table is full.
            let alone = try await MCP2026.call(url, "query", ["sql": "SELECT 1"])
            #expect(alone.json?["error"]?["code"] == -32000, "\(alone.body)")
            // An unknown handle is told as such, not as a busy server.
            let forged = try await MCP2026.call(url, "query", ["sql": "SELECT 1", "session": "forged"])
            #expect(forged.json?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue?.contains("unknown or expired session handle") == true, "\(forged.body)")
            let closed = try await MCP2026.call(url, "close_session", ["session": session])
            #expect(closed.json?["result"]?["structuredContent"]?["closed"] == session, "\(closed.body)")
            #expect(server.registry.sessionCount == 1)
            // One place free: open_session takes exactly that one.
            let reopened = try await MCP2026.call(url, "open_session")
            #expect(reopened.json?["result"]?["structuredContent"]?["session"]?.stringValue != nil, "\(reopened.body)")
            #expect(server.registry.sessionCount == 2)
        }
    }
}
