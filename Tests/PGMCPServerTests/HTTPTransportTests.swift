import Foundation
import MCPTestSupport
import PGConfig
import PGMCPJSON
import TestSupport
import Testing

/// The Streamable HTTP rules, byte for byte.
@Suite("Streamable HTTP transport", .serialized) struct HTTPTransportTests {
    func withServer(_ tweak: (inout ServerSettings) -> Void = { _ in }, _ body: (TestServer) async throws -> Void) async throws {
        try await TestServer.with(databases: [try TestDatabase.config(id: "main")], tweak, body)
    }

    @Test func initializeNegotiatesTheVersionAndIssuesASessionID() async throws {
        try await withServer { server in
            let reply = try await RawHTTP.send("POST", server.url.absoluteString, body: RawHTTP.initialize)
            #expect(reply.status == 200)
            #expect(reply.header("Content-Type") == "application/json")
            #expect((reply.header("Mcp-Session-Id")?.count ?? 0) >= 43)
            #expect(reply.json?["result"]?["protocolVersion"] == "2025-06-18")
            #expect(reply.json?["result"]?["serverInfo"]?["name"] == "pgmcp")
            let future = MCPMessages.initialize(version: "2099-01-01", client: "x")
            let newer = try await RawHTTP.send("POST", server.url.absoluteString, body: future)
            #expect(newer.json?["result"]?["protocolVersion"] == "2025-11-25")
        }
    }

    @Test func aToolResultsTextIsExactlyItsStructuredContentWhateverTheCharacters() async throws {
        // The text copy is written from the structured content's own bytes: it must parse back to it.
        try await withServer { server in
            let url = server.url.absoluteString
            let session = try await RawHTTP.openSession(url)
            let sql = #"SELECT E'quote " backslash \\ newline \n tab \t bell \x07 é ☃ 𝄞' AS s, '{"a": [1, "two"]}'::jsonb AS j, NULL AS n"#
            let reply = try await RawHTTP.call(url, session: session, tool: "query", arguments: ["sql": .string(sql)])
            let result = try #require(reply.json?["result"])
            let structured = try #require(result["structuredContent"])
            let text = try #require(result["content"]?.arrayValue?.first?["text"]?.stringValue)
            #expect(try FencedText(text)?.value() == structured)
            #expect(structured["rows"]?.arrayValue?.first?.arrayValue?.first == "quote \" backslash \\ newline \n tab \t bell \u{07} é ☃ 𝄞")
            #expect(result["isError"] == false)
        }
    }

    @Test func sessionRulesMissingUnknownDeletedAndNotifications() async throws {
        try await withServer { server in
            let url = server.url.absoluteString
            let ping = #"{"jsonrpc":"2.0","id":5,"method":"ping"}"#
            let missing = try await RawHTTP.send("POST", url, body: ping)
            #expect(missing.status == 400)
            #expect(missing.json?["error"]?["message"] == "missing Mcp-Session-Id header: send initialize first")
            let unknown = try await RawHTTP.send("POST", url, body: ping, headers: RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": "nope"]) { $1 })
            #expect(unknown.status == 404)
            let session = try await RawHTTP.openSession(url)
            let headers = RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-06-18"]) { $1 }
            let pong = try await RawHTTP.send("POST", url, body: ping, headers: headers)
            #expect(pong.status == 200)
            #expect(pong.json?["result"] == [:])
            #expect(pong.json?["id"] == 5)
            let notified = try await RawHTTP.send("POST", url, body: #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, headers: headers)
            #expect(notified.status == 202)
            #expect(notified.body.isEmpty)
            let badVersion = try await RawHTTP.send("POST", url, body: ping, headers: headers.merging(["MCP-Protocol-Version": "1999-01-01"]) { $1 })
            #expect(badVersion.status == 400)
            let get = try await RawHTTP.send("GET", url, headers: headers)
            #expect(get.status == 405)
            #expect(get.header("Allow") == "POST, DELETE")
            let deleted = try await RawHTTP.send("DELETE", url, headers: headers)
            #expect(deleted.status == 200)
            let after = try await RawHTTP.send("POST", url, body: ping, headers: headers)
            #expect(after.status == 404)
            let deletedAgain = try await RawHTTP.send("DELETE", url, headers: headers)
            #expect(deletedAgain.status == 404)
        }
    }

    @Test func malformedRequestsGetJSONRPCErrorsAndChangeNothing() async throws {
        try await withServer { server in
            let url = server.url.absoluteString
            let session = try await RawHTTP.openSession(url)
            let headers = RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": session]) { $1 }
            let cases: [(String, Int, Int64)] = [
                ("{not json", 400, -32700),
                ("[]", 400, -32600),
                (#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#, 200, -32600),
                (#"{"jsonrpc":"2.0","id":1,"method":42}"#, 200, -32600),
                (#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[1]}"#, 200, -32602),
                (#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope"}}"#, 200, -32602),
                (#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"query","arguments":"SELECT 1"}}"#, 200, -32602),
                (#"{"jsonrpc":"2.0","id":1,"method":"resources/list"}"#, 200, -32601),
                (#"{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}"#, 200, -32600),
                ("42", 200, -32600),
            ]
            for (body, status, code) in cases {
                let reply = try await RawHTTP.send("POST", url, body: body, headers: headers)
                #expect(reply.status == status, "\(body)")
                #expect(reply.json?["error"]?["code"] == .int(code), "\(body): \(reply.body)")
            }
            // This session speaks 2025-06-18, which has no batches (HTTPBatchTests has those of 2025-03-26).
            let batch = try await RawHTTP.send(
                "POST", url,
                body: #"[{"jsonrpc":"2.0","id":"a","method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":"b","method":"nope"}]"#,
                headers: headers)
            #expect(batch.status == 400)
            #expect(batch.json?["error"]?["code"] == -32600)
            let plain = try await RawHTTP.send("POST", url, body: "{}", headers: headers.merging(["Content-Type": "text/plain"]) { $1 })
            #expect(plain.status == 415)
            let html = try await RawHTTP.send("POST", url, body: "{}", headers: headers.merging(["Accept": "text/html"]) { $1 })
            #expect(html.status == 406)
            // The session is unharmed.
            let query = try await RawHTTP.call(url, session: session, tool: "query", arguments: ["sql": "SELECT 7"])
            #expect(query.json?["result"]?["structuredContent"]?["rows"] == [[7]])
        }
    }

    /// A client pinned to a version no era here serves gets 2026-07-28's UnsupportedProtocolVersionError
    /// (400, its own id, the modern versions served), with or without a session id.
    @Test func requestsPinnedToAnUnservedVersionGetUnsupportedProtocolVersionWithTheirID() async throws {
        try await withServer { server in
            let url = server.url.absoluteString
            let session = try await RawHTTP.openSession(url)
            for (method, id, extra) in [("server/discover", 1, [:]), ("tools/list", 8, [:]), ("tools/list", 10, ["Mcp-Session-Id": session])] {
                let reply = try await MCP2026.send(url, method, id: id, version: "2099-01-01", headers: extra)
                #expect(reply.status == 400, "\(method)")
                #expect(reply.json?["id"] == .int(Int64(id)), "\(method): \(reply.body)")
                #expect(reply.json?["error"]?["code"] == -32022, "\(method)")
                #expect(reply.json?["error"]?["data"] == ["supported": ["2026-07-28"], "requested": "2099-01-01"])
            }
            let call = try await MCP2026.send(
                url, "tools/call", id: 7, params: ["name": "query", "arguments": ["sql": "SELECT 1"]], version: "2099-01-01")
            #expect(call.json?["error"]?["code"] == -32022, "\(call.body)")
            // A legacy client probing a method we lack, without a version, still gets -32601 with its id.
            let probe = try await RawHTTP.send("POST", url, body: #"{"jsonrpc":"2.0","id":11,"method":"server/discover"}"#)
            #expect(probe.json?["error"]?["code"] == -32601)
            #expect(probe.json?["id"] == 11)
            #expect(server.registry.sessionCount == 1)
        }
    }

    /// Every JSON-RPC error about a request whose body parsed answers with the request's id.
    @Test func errorRepliesEchoTheRequestsID() async throws {
        try await withServer { server in
            let url = server.url.absoluteString
            let ping = #"{"jsonrpc":"2.0","id":"p-1","method":"ping"}"#
            let missing = try await RawHTTP.send("POST", url, body: ping)
            #expect(missing.status == 400)
            #expect(missing.json?["id"] == "p-1")
            let unknown = try await RawHTTP.send("POST", url, body: ping, headers: RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": "nope"]) { $1 })
            #expect(unknown.status == 404)
            #expect(unknown.json?["id"] == "p-1")
            let session = try await RawHTTP.openSession(url)
            let badVersion = try await RawHTTP.send(
                "POST", url, body: ping, headers: RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": session, "MCP-Protocol-Version": "1999-01-01"]) { $1 })
            #expect(badVersion.status == 400)
            #expect(badVersion.json?["id"] == "p-1")
            let badParams = try await RawHTTP.send(
                "POST", url, body: #"{"jsonrpc":"2.0","id":42,"method":"tools/call","params":[1]}"#,
                headers: RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": session]) { $1 })
            #expect(badParams.json?["id"] == 42)
            // Nothing to echo: the body is no JSON, or its id is not a string or integer.
            let garbage = try await RawHTTP.send("POST", url, body: "{not json")
            #expect(garbage.json?["id"] == .null)
            let objectID = try await RawHTTP.send("POST", url, body: #"{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}"#)
            #expect(objectID.json?["id"] == .null)
        }
    }

    @Test func eventStreamOnlyClientsGetOneSSEEvent() async throws {
        try await withServer { server in
            let reply = try await RawHTTP.send(
                "POST", server.url.absoluteString, body: RawHTTP.initialize,
                headers: ["Content-Type": "application/json", "Accept": "text/event-stream"])
            #expect(reply.header("Content-Type") == "text/event-stream")
            #expect(reply.body.hasPrefix("event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"))
            #expect(reply.body.hasSuffix("\n\n"))
        }
    }

    @Test func foreignOriginsAndHostsAreForbidden() async throws {
        try await withServer({ $0.allowedOrigins = ["https://app.example"] }) { server in
            let url = server.url.absoluteString
            let foreign = try await RawHTTP.send("POST", url, body: RawHTTP.initialize, headers: RawHTTP.mcpHeaders.merging(["Origin": "https://evil.example"]) { $1 })
            #expect(foreign.status == 403)
            let local = try await RawHTTP.send("POST", url, body: RawHTTP.initialize, headers: RawHTTP.mcpHeaders.merging(["Origin": "http://localhost:6274"]) { $1 })
            #expect(local.status == 200)
            let allowed = try await RawHTTP.send("POST", url, body: RawHTTP.initialize, headers: RawHTTP.mcpHeaders.merging(["Origin": "https://app.example"]) { $1 })
            #expect(allowed.status == 200)
            // DNS rebinding: a loopback server answers only to loopback host names.
            let rebound = try await RawHTTP.send("POST", url, body: RawHTTP.initialize, headers: RawHTTP.mcpHeaders.merging(["Host": "evil.example:\(server.port)"]) { $1 })
            #expect(rebound.status == 403)
            #expect(server.registry.sessionCount == 2)
        }
    }

    /// DNS rebinding: hosts and origins are parsed and compared as addresses, not by prefix, so a
    /// name such as `127.0.0.1.rebind.attacker.example` gets 403 and no session.
    @Test func readyzIsNotReadableThroughARebindingNameOrAForeignOrigin() async throws {
        // /readyz names the default database and its error: a page on a rebound name must not read it.
        try await withServer { server in
            func readyz(_ headers: [(String, String)]) async throws -> RawHTTP.Reply {
                let socket = try await RawSocket.connect(port: server.port)
                var text = "GET /readyz HTTP/1.1\r\n"
                for (name, value) in headers { text += "\(name): \(value)\r\n" }
                try await socket.write(text + "\r\n")
                return try await socket.readResponse()
            }
            let direct = try await readyz([("Host", "127.0.0.1:\(server.port)")])
            let rebound = try await readyz([("Host", "127.0.0.1.rebind.attacker.example:\(server.port)")])
            let foreign = try await readyz([("Host", "127.0.0.1:\(server.port)"), ("Origin", "http://evil.example")])
            #expect(direct.status == 200)
            #expect(rebound.status == 403)
            #expect(foreign.status == 403)
        }
    }

    @Test func lookalikeLoopbackOriginsAndHostsAreForbiddenAndOpenNoSession() async throws {
        try await withServer({ $0.allowedOrigins = ["https://app.example/", "not an origin"] }) { server in
            let port = server.port
            func initialize(host: String, origin: String? = nil, extra: [(String, String)] = []) async throws -> RawHTTP.Reply {
                var headers = [("Host", host), ("Content-Type", "application/json"), ("Accept", "application/json")]
                if let origin { headers.append(("Origin", origin)) }
                return try await RawHTTP.post(port: port, body: RawHTTP.initialize, headers: headers + extra)
            }
            let hostileOrigins = [
                "http://127.0.0.1.rebind.attacker.example", "http://127.0.0.1.rebind.attacker.example:\(port)",
                "http://127.0.0.1@evil.example", "http://localhost:\(port)@evil.example", "http://localhost.evil.example",
                "http://127.0.0.1:\(port)/", "http://127.0.0.1/path", "http://127.0.0.1:99999", "http://127.0.0.1:0", "http://127.1",
                "http://0x7f.0.0.1", "http://2130706433", "http://127.0.0.1.", "http://localhost.", "http://%6cocalhost",
                "http://[::1].evil.example", "http://[::2]", "null", "http://", "ftp://localhost", "https://app.example.evil",
                "https://app.example:8443", "http://app.example", "http://localhost, https://evil.example", "not an origin",
            ]
            for origin in hostileOrigins {
                let reply = try await initialize(host: "127.0.0.1:\(port)", origin: origin)
                #expect(reply.status == 403, "Origin: \(origin)")
                #expect(reply.header("Mcp-Session-Id") == nil, "Origin: \(origin)")
            }
            let hostileHosts = [
                "127.0.0.1.rebind.attacker.example:\(port)", "127.0.0.1.rebind.attacker.example", "localhost.attacker.example:\(port)",
                "127.1:\(port)", "2130706433:\(port)", "0x7f.0.0.1:\(port)", "127.0.0.1.:\(port)", "localhost.:\(port)",
                "[::1].evil.example:\(port)", "127.0.0.1:\(port)@evil.example", "127.0.0.1:99999", "127.0.0.1:",
                "%6cocalhost:\(port)", "[::2]:\(port)", "10.0.0.1:\(port)",
            ]
            for host in hostileHosts {
                let reply = try await initialize(host: host)
                #expect(reply.status == 403, "Host: \(host)")
                #expect(reply.header("Mcp-Session-Id") == nil, "Host: \(host)")
            }
            // A second Host after a loopback one: HTTPTypes keeps only the first as the authority.
            let twoHosts = try await initialize(host: "127.0.0.1:\(port)", extra: [("Host", "evil.example")])
            #expect(twoHosts.status == 403)
            #expect(server.registry.sessionCount == 0)

            let goodOrigins = [
                "http://localhost:6274", "HTTP://LOCALHOST:6274", "http://127.0.0.1", "http://127.2.3.4:80", "http://[::1]:6274",
                "http://[0:0:0:0:0:0:0:1]", "https://app.example", "HTTPS://App.Example:443",
            ]
            for origin in goodOrigins {
                #expect(try await initialize(host: "127.0.0.1:\(port)", origin: origin).status == 200, "Origin: \(origin)")
            }
            let goodHosts = ["127.0.0.1:\(port)", "localhost:\(port)", "LocalHost:\(port)", "[::1]:\(port)", "[0:0:0:0:0:0:0:1]:\(port)", "127.0.0.1"]
            for host in goodHosts {
                #expect(try await initialize(host: host).status == 200, "Host: \(host)")
            }
            #expect(server.registry.sessionCount == goodOrigins.count + goodHosts.count)
        }
    }

    @Test func aTokenIsRequiredWhenConfigured() async throws {
        try await withServer({ $0.authToken = Secret("s3cret-token-value") }) { server in
            let url = server.url.absoluteString
            let none = try await RawHTTP.send("POST", url, body: RawHTTP.initialize)
            #expect(none.status == 401)
            #expect(none.header("WWW-Authenticate") == "Bearer")
            #expect(!none.body.contains("s3cret-token-value"))
            let wrong = try await RawHTTP.send("POST", url, body: RawHTTP.initialize, headers: RawHTTP.mcpHeaders.merging(["Authorization": "Bearer nope"]) { $1 })
            #expect(wrong.status == 401)
            let right = try await RawHTTP.send(
                "POST", url, body: RawHTTP.initialize, headers: RawHTTP.mcpHeaders.merging(["Authorization": "Bearer s3cret-token-value"]) { $1 })
            #expect(right.status == 200)
            let metrics = try await RawHTTP.send("GET", server.base + "/metrics", headers: [:])
            #expect(metrics.status == 401)
            let health = try await RawHTTP.send("GET", server.base + "/healthz", headers: [:])
            #expect(health.status == 200)
            #expect(server.registry.sessionCount == 1)
            let client = try await SDKClient.connect(server.url, token: "s3cret-token-value")
            #expect(try await client.ok("query", ["sql": "SELECT 1"])["rows"] == [[1]])
            await client.disconnect()
        }
    }

    @Test func maxSessionsIsAClearError() async throws {
        try await withServer({ $0.maxSessions = 1 }) { server in
            _ = try await RawHTTP.openSession(server.url.absoluteString)
            let second = try await RawHTTP.send("POST", server.url.absoluteString, body: RawHTTP.initialize)
            #expect(second.status == 503)
            #expect(second.json?["error"]?["message"] == "too many sessions: 1 of PGMCP_MAX_SESSIONS=1 are open; end idle ones or raise the limit")
        }
    }

    @Test func bodiesOverTheCapAreRefused() async throws {
        try await withServer({ $0.maxRequestBytes = 100_000 }) { server in
            let session = try await RawHTTP.openSession(server.url.absoluteString)
            let big = try await RawHTTP.call(
                server.url.absoluteString, session: session, tool: "query", arguments: ["sql": .string("SELECT '\(String(repeating: "z", count: 200_000))'")])
            #expect(big.status == 413)
            #expect(big.json?["error"]?["message"] == "request body over 100000 bytes (PGMCP_MAX_REQUEST_BYTES)")
        }
    }

    @Test func deleteCancelsARunningStatement() async throws {
        try await withServer { server in
            let url = server.url.absoluteString
            let session = try await RawHTTP.openSession(url)
            let running = Task { try await RawHTTP.call(url, session: session, tool: "query", arguments: ["sql": "SELECT pg_sleep(30) /* delete-me */"]) }
            let sleeping = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%delete-me%' AND query NOT LIKE '%pg_stat_activity%'"
            #expect(try await eventually { try await TestDatabase.rows(sleeping) == [[1]] })
            let started = ContinuousClock.now
            let deleted = try await RawHTTP.send("DELETE", url, headers: RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": session]) { $1 })
            #expect(deleted.status == 200)
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(try await TestDatabase.rows(sleeping) == [[0]])
            let reply = try await running.value
            #expect(reply.json?["result"]?["isError"] == true)
        }
    }

    @Test func notificationsCancelledCancelsTheStatement() async throws {
        try await withServer { server in
            let url = server.url.absoluteString
            let session = try await RawHTTP.openSession(url)
            let running = Task { try await RawHTTP.call(url, session: session, id: 77, tool: "query", arguments: ["sql": "SELECT pg_sleep(30) /* cancel-me */"]) }
            let sleeping = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%cancel-me%' AND query NOT LIKE '%pg_stat_activity%'"
            #expect(try await eventually { try await TestDatabase.rows(sleeping) == [[1]] })
            let cancel = #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":77,"reason":"user pressed stop"}}"#
            let notified = try await RawHTTP.send("POST", url, body: cancel, headers: RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": session]) { $1 })
            #expect(notified.status == 202)
            let reply = try await running.value
            #expect(reply.json?["result"]?["isError"] == true)
            #expect(try await eventually { try await TestDatabase.rows(sleeping) == [[0]] })
            // The session goes on.
            let after = try await RawHTTP.call(url, session: session, id: 78, tool: "query", arguments: ["sql": "SELECT 1"])
            #expect(after.json?["result"]?["structuredContent"]?["rows"] == [[1]])
        }
    }

    @Test func healthAndReadiness() async throws {
        try await withServer { server in
            let health = try await RawHTTP.send("GET", server.base + "/healthz", headers: [:])
            #expect(health.status == 200)
            let ready = try await RawHTTP.send("GET", server.base + "/readyz", headers: [:])
            #expect(ready.status == 200)
            #expect(ready.json == ["status": "ready", "database": "main"])
        }
        let down = try await TestServer.start(databases: [try TestDatabase.config(id: "gone", database: "no_such_db_for_readyz")])
        let reply = try await RawHTTP.send("GET", down.base + "/readyz", headers: [:])
        #expect(reply.status == 503)
        #expect(reply.json?["status"] == "unavailable")
        #expect(reply.json?["reason"]?.stringValue?.contains("database 'gone' unavailable") == true)
        await down.stop()
    }
}
