import Foundation
import MCPTestSupport
import PGMCPJSON
import TestSupport
import Testing

extension ProcessTests {
    /// `pgmcp serve --transport stdio` with `extra` settings, its session initialized.
    func initializedStdio(extra: [String: String]) async throws -> ChildProcess {
        let child = try ChildProcess([pgmcpBinary, "serve", "--transport", "stdio"], environment: try environment(extra: extra))
        child.send(MCPMessages.initialize(client: "pipe"))
        _ = try #require(try await child.readLine())
        return child
    }

    @Test func theStdioSessionOutlivesTheIdleTimeoutAsLongAsItsStream() async throws {
        // Before: only database calls counted as activity, and after PGMCP_SESSION_IDLE_TIMEOUT the one
        // stdio session ended while the process ran on, answering every call "the session has ended".
        let child = try await initializedStdio(extra: ["PGMCP_SESSION_IDLE_TIMEOUT": "1"])
        try await Task.sleep(for: .seconds(3))  // three idle timeouts, the reaper running each second
        child.send(#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"query","arguments":{"sql":"SELECT 7"}}}"#)
        let answer = try JSONParser.parse(try #require(try await child.readLine()))
        #expect(answer["result"]?["structuredContent"]?["rows"] == [[7]], "\(answer)")
        child.closeInput()
        #expect(try await child.wait() == 0)
    }

    @Test func sigtermEndsTheProcessPromptlyWhenABackendIsFrozen() async throws {
        // No statement timeout, and the backend stopped: before, the call, DELETE and SIGTERM all
        // waited on PostgreSQL for ever. Now ending the sessions cancels the call, waits the grace
        // period (PGMCP_CONNECT_TIMEOUT) and abandons the connection.
        let port = freeLocalPort()
        let databases = """
            [{"id": "main", "host": "\(try TestDatabase.host)", "port": \(try TestDatabase.port), "database": "postgres", "user": "\(try TestDatabase.user)", "passwordEnv": "TEST_DB_PASSWORD", "statementTimeoutMs": 0}]
            """
        let child = try ChildProcess(
            [pgmcpBinary, "serve", "--port", String(port)],
            environment: try environment(extra: ["PGMCP_CONNECT_TIMEOUT": "1"], databases: databases))
        let base = "http://127.0.0.1:\(port)"
        #expect(await eventually(within: .seconds(10)) { (try? await RawHTTP.send("GET", base + "/healthz", headers: [:]).status) == 200 })
        let session = try await RawHTTP.openSession(base + "/mcp")
        // No PGMCP_REPLICA_ID: the process drew one, six letters and digits, before every session id.
        let replica = session.split(separator: ".").first.map(String.init) ?? ""
        #expect(replica.count == 6 && replica.allSatisfy { $0.isLowercase || $0.isNumber }, "\(session)")
        let running = Task { try? await RawHTTP.call(base + "/mcp", session: session, tool: "query", arguments: ["sql": "SELECT pg_sleep(60) /* sigterm-frozen */"]) }
        let find = "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%sigterm-frozen */' AND pid <> pg_backend_pid()"
        #expect(try await eventually { try await TestDatabase.rows(find).count == 1 })
        let pid = Int32(try #require(try await TestDatabase.rows(find).first?.first?.intValue))
        try await whileFrozen(pid) {
            let started = ContinuousClock.now
            child.signal(SIGTERM)
            let status = try await child.wait(timeout: .seconds(10))
            #expect(status == 0)
            #expect(ContinuousClock.now - started < .seconds(5))
        }
        _ = await running.value
    }
}

extension ProcessTests {
    @Test func endOfStdioInputEndsPromptlyWhenTheTransactionsBackendsAreFrozen() async throws {
        // Two transactions on stopped backends: before, the end waited a grace period for each in turn.
        let name = try await TestDatabase.createScratchDatabase(prefix: "sfrozen")
        let entry = { (id: String) in
            #"{"id": "\#(id)", "host": "\#(try TestDatabase.host)", "port": \#(try TestDatabase.port), "database": "\#(name)", "user": "\#(try TestDatabase.user)", "passwordEnv": "TEST_DB_PASSWORD"}"#
        }
        let child = try await initializedStdio(extra: ["PGMCP_CONNECT_TIMEOUT": "1", "DB_CONFIGS": "[\(try entry("a")), \(try entry("b"))]"])
        for (id, database) in [(2, "a"), (3, "b")] {
            child.send(#"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"begin_transaction","arguments":{"database":"\#(database)"}}}"#)
            let begun = try JSONParser.parse(try #require(try await child.readLine()))
            #expect(begun["result"]?["structuredContent"]?["transaction"]?["status"] == "open", "\(begun)")
        }
        let find = "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%'"
        #expect(try await eventually { try await TestDatabase.rows(find, [name]).count == 2 })
        let pids = try await TestDatabase.rows(find, [name]).compactMap { $0.first?.intValue.map(Int32.init) }
        let started = ContinuousClock.now
        let status = try await whileFrozen(pids[0]) { () async throws -> Int32 in
            try await whileFrozen(pids[1]) { () async throws -> Int32 in
                child.closeInput()
                return try await child.wait(timeout: .seconds(10))
            }
        }
        let elapsed = ContinuousClock.now - started
        #expect(status == 0)
        #expect(elapsed < .milliseconds(2500), "the end of input took \(elapsed)")
        try await TestDatabase.dropDatabase(name)
    }

    @Test func anOverlongStdioLineIsDroppedUnreadAndTheSessionGoesOn() async throws {
        // A line is a request: it is held to PGMCP_MAX_REQUEST_BYTES, as an HTTP body is, instead of
        // growing in memory for as long as the client sends.
        let child = try await initializedStdio(extra: ["PGMCP_MAX_REQUEST_BYTES": "1024"])
        child.send(#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"query","arguments":{"sql":"SELECT '"# + String(repeating: "x", count: 200_000) + #"'"}}}"#)
        let refused = try JSONParser.parse(try #require(try await child.readLine()))
        #expect(refused["error"]?["message"]?.stringValue?.contains("over 1024 bytes (PGMCP_MAX_REQUEST_BYTES) was dropped unread") == true, "\(refused)")
        child.send(#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#)
        #expect(try JSONParser.parse(try #require(try await child.readLine()))["id"] == 3)
        child.closeInput()
        #expect(try await child.wait() == 0)
    }
}

extension ProcessTests {
    /// A line that names a key twice is refused whole (-32600, naming the key), in both eras: a
    /// reader that keeps the first `sql` would see another statement than the one that ran.
    @Test func aStdioLineWithAKeyTwiceIsRefusedInBothEras() async throws {
        let twice = #""name":"query","arguments":{"sql":"SELECT 1","sql":"SELECT 2"}"#
        let meta = #""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#
        for (era, params) in [("2025", twice), ("2026", twice + "," + meta)] {
            // One child at a time: a second one would inherit the first one's input pipe and keep it open.
            let child =
                era == "2025"
                ? try await initializedStdio(extra: [:]) : try ChildProcess([pgmcpBinary, "serve", "--transport", "stdio"], environment: try environment())
            child.send(#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{\#(params)}}"#)
            let refused = try JSONParser.parse(try #require(try await child.readLine()))
            #expect(refused["error"]?["code"] == -32600, "\(era): \(refused)")
            #expect(refused["error"]?["message"]?.stringValue?.contains(#"the key "sql" appears twice"#) == true, "\(era): \(refused)")
            #expect(refused["result"] == nil, "\(era)")
            // The pipe goes on.
            child.send(#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"query","arguments":{"sql":"SELECT 3"}\#(era == "2026" ? "," + meta : "")}}"#)
            let answer = try JSONParser.parse(try #require(try await child.readLine()))
            #expect(answer["result"]?["structuredContent"]?["rows"] == [[3]], "\(era): \(answer)")
            child.closeInput()
            #expect(try await child.wait() == 0)
        }
    }
}
