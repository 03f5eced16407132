import Foundation
import MCPTestSupport
import PGMCPJSON
import TestSupport
import Testing

/// `pgmcp` run as users run it: a separate process, configured by variables.
@Suite("The pgmcp executable", .serialized) struct ProcessTests {
    /// DB_CONFIGS for the test cluster, with the password in a variable, and the environment to run with.
    func environment(extra: [String: String] = [:], databases: String? = nil) throws -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PGMCP_") && !$0.key.hasPrefix("DB_CONFIG") && $0.key != "DATABASE_URL" }
        environment["TEST_DB_PASSWORD"] = try TestDatabase.password
        environment["DB_CONFIGS"] =
            try databases ?? """
                [{"id": "main", "host": "\(TestDatabase.host)", "port": \(TestDatabase.port), "database": "postgres", "user": "\(TestDatabase.user)", "passwordEnv": "TEST_DB_PASSWORD"}]
                """
        for (key, value) in extra { environment[key] = value }
        return environment
    }

    /// A scratch database made with `statements`, and `DB_CONFIGS` naming it as entry `id` (its JSON
    /// members `extra` added, e.g. `"readOnly": false`).
    func scratchEntry(id: String, prefix: String, extra: String, _ statements: [String]) async throws -> (database: String, configs: String) {
        let name = try await TestDatabase.createScratchDatabase(prefix: prefix)
        try await TestDatabase.withConnection(database: name) { connection in
            for statement in statements { try await connection.command(statement) }
        }
        let configs = """
            [{"id": "\(id)", "host": "\(try TestDatabase.host)", "port": \(try TestDatabase.port), "database": "\(name)", "user": "\(try TestDatabase.user)", "passwordEnv": "TEST_DB_PASSWORD", \(extra)}]
            """
        return (name, configs)
    }

    @Test func stdioServesOneSessionAndExitsCleanlyAtEndOfInput() async throws {
        let child = try ChildProcess([pgmcpBinary, "serve", "--transport", "stdio"], environment: try environment())
        child.send(MCPMessages.initialize(client: "pipe"))
        let initialized = try JSONParser.parse(try #require(try await child.readLine()))
        #expect(initialized["result"]?["protocolVersion"] == "2025-11-25")
        child.send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        child.send(#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#)
        let tools = try JSONParser.parse(try #require(try await child.readLine()))
        #expect(tools["result"]?["tools"]?.arrayValue?.count == 15)  // not connect or disconnect_database: dynamic connections are off
        child.send(#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"query","arguments":{"sql":"SELECT 40 + $1::int AS answer","params":[2]}}}"#)
        let answer = try JSONParser.parse(try #require(try await child.readLine()))
        #expect(answer["result"]?["structuredContent"]?["rows"] == [[42]])
        child.send("this is not json")
        let garbage = try JSONParser.parse(try #require(try await child.readLine()))
        #expect(garbage["error"]?["code"] == -32700)
        child.send(#"{"jsonrpc":"2.0","id":4,"method":"ping"}"#)
        #expect(try JSONParser.parse(try #require(try await child.readLine()))["id"] == 4)
        child.closeInput()
        #expect(try await child.wait() == 0)
        #expect(!child.stderr.contains(try TestDatabase.password))
    }

    @Test func stdioReadsInputRedirectedFromAFileAndALastLineWithoutNewline() async throws {
        // A regular file cannot be watched for readiness: the transport falls back to blocking reads.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pgmcp-stdin-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }
        let requests = #"""
            \#(MCPMessages.initialize(client: "file"))
            {"jsonrpc":"2.0","id":2,"method":"ping"}
            {"jsonrpc":"2.0","id":3,"method":"tools/list"}
            """#
        try requests.write(to: file, atomically: true, encoding: .utf8)  // no newline after the last line
        let child = try ChildProcess(
            ["/bin/sh", "-c", "exec \"$0\" serve --transport stdio < \"$1\"", pgmcpBinary, file.path], environment: try environment())
        var ids: [JSONValue] = []
        while let line = try await child.readLine() { ids.append(try JSONParser.parse(line)["id"] ?? .null) }
        #expect(ids == [1, 2, 3])
        #expect(try await child.wait() == 0)
    }

    @Test func stdioJoinsALineThatArrivesInPieces() async throws {
        let child = try ChildProcess([pgmcpBinary, "serve", "--transport", "stdio"], environment: try environment())
        child.send(MCPMessages.initialize(client: "pipe"))
        _ = try await child.readLine()
        child.sendPartial(#"{"jsonrpc":"2.0","#)
        try await Task.sleep(for: .milliseconds(100))
        child.sendPartial(#""id":7,"method":"ping"}"# + "\r\n")
        #expect(try JSONParser.parse(try #require(try await child.readLine()))["id"] == 7)
        child.closeInput()
        #expect(try await child.wait() == 0)
    }

    @Test func stdioWritesAnAnswerLargerThanThePipeWholeAndInOrderWithOthers() async throws {
        let child = try ChildProcess(
            [pgmcpBinary, "serve", "--transport", "stdio"], environment: try environment(extra: ["PGMCP_MAX_RESULT_BYTES": "8388608"]))
        child.send(MCPMessages.initialize(client: "pipe"))
        _ = try await child.readLine()
        child.send(#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"query","arguments":{"sql":"SELECT repeat('x', 3000000) AS big"}}}"#)
        child.send(#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#)
        // Not reading for a while fills the pipe (64 KiB): the server must wait for room, not drop or interleave.
        try await Task.sleep(for: .milliseconds(500))
        var answers: [JSONValue: JSONValue] = [:]
        for _ in 0..<2 {
            let message = try JSONParser.parse(try #require(try await child.readLine()))
            answers[message["id"] ?? .null] = message
        }
        #expect(answers[3]?["result"] == [:])
        #expect(answers[2]?["result"]?["structuredContent"]?["rows"]?.arrayValue?.first?.arrayValue?.first?.stringValue?.count == 3_000_000)
        child.closeInput()
        #expect(try await child.wait() == 0)
    }

    @Test func stdioExitsOnSIGTERMThoughInputStaysOpenAndMoreArrives() async throws {
        let child = try ChildProcess([pgmcpBinary, "serve", "--transport", "stdio"], environment: try environment())
        child.send(MCPMessages.initialize(client: "pipe"))
        _ = try await child.readLine()
        child.signal(SIGTERM)
        try await Task.sleep(for: .milliseconds(300))
        // Input after shutdown began must not be read with a blocking read on the thread that runs everything.
        child.send(#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#)
        #expect(try await child.wait(timeout: .seconds(10)) == 0)
    }

    @Test func stdioExitsAtEndOfInputEvenIfTheClientStoppedReading() async throws {
        let child = try ChildProcess(
            [pgmcpBinary, "serve", "--transport", "stdio"], environment: try environment(extra: ["PGMCP_MAX_RESULT_BYTES": "8388608"]))
        child.send(MCPMessages.initialize(client: "pipe"))
        _ = try await child.readLine()
        child.send(#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"query","arguments":{"sql":"SELECT repeat('x', 3000000)"}}}"#)
        try await Task.sleep(for: .milliseconds(500))
        // Never read: the answer cannot be written; ending input must still end the process.
        child.closeInput()
        #expect(try await child.wait(timeout: .seconds(15)) == 0)
    }

    @Test func checkExitsZeroOnlyWhenEveryDatabaseAnswers() async throws {
        let good = try ChildProcess([pgmcpBinary, "check"], environment: try environment())
        let output = try await readAll(good)
        #expect(try await good.wait() == 0)
        #expect(output.contains("main"))
        #expect(output.contains("ok"))
        #expect(output.contains(":•••@"))
        #expect(!output.contains(try TestDatabase.password))

        let mixed = try environment(
            databases: """
                [{"id": "main", "host": "\(try TestDatabase.host)", "port": \(try TestDatabase.port), "database": "postgres", "user": "\(try TestDatabase.user)", "passwordEnv": "TEST_DB_PASSWORD"},
                 {"id": "down", "url": "postgresql://nobody:Hidden-Pass-1@127.0.0.1:1/none"}]
                """)
        let failing = try ChildProcess([pgmcpBinary, "check"], environment: mixed)
        let failed = try await readAll(failing)
        #expect(try await failing.wait() == 1)
        #expect(failed.contains("Connection refused"))
        #expect(failed.contains("1 of 2 databases unreachable"))
        #expect(!failed.contains("Hidden-Pass-1"))

        let invalid = try ChildProcess([pgmcpBinary, "check"], environment: try environment(databases: #"[{"id": "Bad Id", "host": "h"}]"#))
        #expect(try await invalid.wait() == 2)
        #expect(invalid.stderr.contains("field 'id': must match"))
    }

    @Test func checkFailsOnAReadOnlyEntryWhoseRoleIsASuperuserUnderPrivilegeCheckEnforce() async throws {
        // The test cluster's role is a superuser: the server would refuse every connection of this entry.
        let strict = try environment(
            databases: """
                [{"id": "strict", "host": "\(try TestDatabase.host)", "port": \(try TestDatabase.port), "database": "postgres", "user": "\(try TestDatabase.user)", "passwordEnv": "TEST_DB_PASSWORD", "privilegeCheck": "enforce"}]
                """)
        let child = try ChildProcess([pgmcpBinary, "check"], environment: strict)
        let output = try await readAll(child)
        #expect(try await child.wait() == 1)
        #expect(output.contains("refused by privilegeCheck \"enforce\": role '\(try TestDatabase.user)' of read-only database 'strict' is a superuser"))
        #expect(output.contains("or set this database's privilegeCheck to \"warn\""))
        #expect(output.contains("1 of 1 databases unreachable or refused"))
    }

    @Test func databasesListsWithoutConnecting() async throws {
        let listing = try ChildProcess(
            [pgmcpBinary, "databases"],
            environment: try environment(databases: #"[{"id": "far", "url": "postgresql://app:Sup3r-Hidden@10.255.255.1/x"}]"#))
        let output = try await readAll(listing)
        #expect(try await listing.wait() == 0)
        #expect(output.contains("postgresql://app:•••@10.255.255.1/x"))
        #expect(!output.contains("Sup3r-Hidden"))
    }

    @Test func servingOverHTTPStopsCleanlyOnSIGTERMAndNeverLogsThePassword() async throws {
        let port = freeLocalPort()
        let child = try ChildProcess(
            [pgmcpBinary, "serve", "--port", String(port), "--log-level", "debug"], environment: try environment())
        let base = "http://127.0.0.1:\(port)"
        #expect(await eventually(within: .seconds(10)) { (try? await RawHTTP.send("GET", base + "/healthz", headers: [:]).status) == 200 })
        let client = try await SDKClient.connect(URL(string: base + "/mcp")!)
        let listed = try await client.ok("list_databases")
        #expect(!listed.jsonText.contains(try TestDatabase.password))
        _ = try await client.ok("query", ["sql": "SELECT 1"])
        _ = try await client.failure("query", ["sql": "SELECT * FROM nope"])
        // And one request of the 2026-07-28 era: requests are counted by protocol version.
        #expect(try await MCP2026.send(base + "/mcp", "tools/list").status == 200)
        let metrics = try await RawHTTP.send("GET", base + "/metrics", headers: [:])
        #expect(metrics.body.contains("pgmcp_requests_total{protocol=\"2026-07-28\",method=\"tools/list\"} 1"), "\(metrics.body)")
        #expect(metrics.body.contains("pgmcp_requests_total{protocol=\"2025-11-25\",method=\"tools/call\"} 3"))
        #expect(metrics.body.contains("pgmcp_database_calls_total{database=\"main\",pool=\"main\"}"))
        #expect(metrics.body.contains("pgmcp_pool_connections_open{database=\"main\",pool=\"main\"}"))
        #expect(metrics.body.contains("pgmcp_sessions"))
        #expect(metrics.body.contains("pgmcp_tool_calls_total{tool=\"query\"} 2"))
        #expect(metrics.body.contains("pgmcp_tool_errors_total{tool=\"query\"} 1"))
        #expect(metrics.body.contains("pgmcp_tool_call_seconds"))
        #expect(!metrics.body.contains(try TestDatabase.password))
        // The pool's gauges as they are at the scrape (a lease and a release publish nothing by
        // themselves): a pinned connection is in use, and back once the transaction ends.
        let inUse = "pgmcp_pool_connections_in_use{database=\"main\",pool=\"main\"} "
        _ = try await client.ok("begin_transaction")
        let pinned = try await RawHTTP.send("GET", base + "/metrics", headers: [:])
        #expect(pinned.body.contains(inUse + "1"), "\(pinned.body)")
        _ = try await client.ok("rollback_transaction")
        let released = try await RawHTTP.send("GET", base + "/metrics", headers: [:])
        #expect(released.body.contains(inUse + "0"), "\(released.body)")
        // A statement running at shutdown is cancelled, and the process exits 0.
        let running = Task { try? await client.call("query", ["sql": "SELECT pg_sleep(30)"]) }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        child.signal(SIGTERM)
        #expect(try await child.wait(timeout: .seconds(10)) == 0)
        #expect(ContinuousClock.now - started < .seconds(5))
        _ = await running.value
        let log = child.stderr
        #expect(log.contains("pgmcp listening on http://127.0.0.1:\(port)/mcp"))
        #expect(log.contains("stopped"))
        #expect(!log.contains(try TestDatabase.password))
    }

    @Test func serveRefusesANonLoopbackAddressWithoutAToken() async throws {
        let child = try ChildProcess([pgmcpBinary, "serve", "--host", "0.0.0.0"], environment: try environment())
        #expect(try await child.wait() == 2)
        #expect(child.stderr.contains("binding 0.0.0.0 (not a loopback address) requires PGMCP_AUTH_TOKEN"))
    }

    func readAll(_ child: ChildProcess) async throws -> String {
        var lines: [String] = []
        while let line = try await child.readLine(timeout: .seconds(10)) { lines.append(line) }
        return lines.joined(separator: "\n")
    }
}
