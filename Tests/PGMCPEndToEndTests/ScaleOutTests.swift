import Foundation
import MCP
import MCPTestSupport
import PGClient
import PGMCPJSON
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Two replicas behind HAProxy, PgBouncer in transaction mode in front of PostgreSQL: the topology
/// of `scripts/cluster-demo` and docs/scale-out.md, with real clients through the router.
@Suite("Scale-out: replicas behind a router, PgBouncer in front", .serialized) struct ScaleOutTests {
    /// dev (read-write) and ro (read-only) through PgBouncer, as the Python SDK script expects.
    static let fixtureEntries = """
        [{"id": "dev", "host": "127.0.0.1", "port": @BOUNCER_PORT@, "database": "app", "user": "pgmcp", "passwordEnv": "PGMCP_APP_PASSWORD", "readOnly": false, "pooling": "transaction", "pool": {"max": 6}},
         {"id": "ro", "host": "127.0.0.1", "port": @BOUNCER_PORT@, "database": "app", "user": "pgmcp", "passwordEnv": "PGMCP_APP_PASSWORD", "pooling": "transaction", "pool": {"max": 4}}]
        """

    /// Runs `body` with a fresh topology, stopped afterwards whatever happens.
    func withCluster(
        databases: String? = nil, environment: [String: String] = [:], _ body: (ScaleOutCluster) async throws -> Void
    ) async throws {
        let cluster = try await ScaleOutCluster.start(databases: databases, environment: environment)
        let processes = cluster.processIDs
        do {
            try await body(cluster)
            await cluster.stop()
        } catch {
            await cluster.stop()
            throw error
        }
        // Stopped by PID, all of it, and the folder gone: nothing left behind.
        #expect(processes.count == 5)
        #expect(processes.filter(ScaleOutCluster.isRunning).isEmpty, "still running: \(processes.filter(ScaleOutCluster.isRunning))")
        #expect(!FileManager.default.fileExists(atPath: cluster.directory))
    }

    /// `scripts/cluster-demo` as a user runs it: it prints the router's URL, serves through it, and
    /// at Ctrl-C stops everything it started.
    @Test func theDemoServesThroughTheRouterAndCtrlCLeavesNothingBehind() async throws {
        let script = ScaleOutCluster.repository + "/scripts/cluster-demo"
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PGMCP_") && !$0.key.hasPrefix("DB_CONFIG") }
        environment["PGMCP_CLUSTER_BINARY"] = pgmcpBinary
        let demo = try ChildProcess([script], environment: environment)
        do {
            try await drive(demo)
        } catch {
            // Whatever failed, nothing stays running: Ctrl-C, then SIGKILL after 30 s.
            demo.signal(SIGINT)
            _ = try? await demo.wait(timeout: .seconds(30))
            throw error
        }
    }

    func drive(_ demo: ChildProcess) async throws {
        var url: String?
        var logs: String?
        while let line = try await demo.readLine(timeout: .seconds(90)) {
            let words = line.split(separator: " ")
            if line.contains("MCP endpoint (HAProxy)") { url = words.last.map(String.init) }
            if line.hasPrefix("Logs: ") { logs = words.dropFirst().first.map { String($0.prefix { $0 != "*" }) } }
            if url != nil && logs != nil { break }
        }
        let endpoint = try #require(url, "no URL printed: \(demo.stderr)")
        let directory = try #require(logs)
        let session = try await RawHTTP.openSession(endpoint)
        let reply = try await RawHTTP.call(endpoint, session: session, tool: "query", arguments: ["sql": "SELECT count(*) FROM notes"])
        #expect(reply.body.contains("100"), "\(reply.body.prefix(300))")
        let processes = ScaleOutCluster.processIDs(in: directory)
        #expect(processes.count == 5)
        // Ctrl-C (to the script alone: its sleep is not signalled, as it would be from a terminal).
        demo.signal(SIGINT)
        #expect(try await demo.wait(timeout: .seconds(30)) == 130)
        #expect(processes.filter(ScaleOutCluster.isRunning).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: directory))
    }

    /// The budget as sampled while something ran: the most server connections PgBouncer held, the
    /// most backends of pgmcp's role PostgreSQL had, the most clients waiting in PgBouncer's queue,
    /// and how many samples were taken.
    struct Peak: Sendable {
        var pools = 0
        var backends = 0
        var waiting = 0
        var samples = 0
    }

    /// Samples PgBouncer's `SHOW POOLS` and PostgreSQL's backends of the role pgmcp uses while `body`
    /// runs (about every 100 ms, plus the time psql takes); a sampler that fails fails the test.
    func watchingTheBudget(_ cluster: ScaleOutCluster, _ body: () async throws -> Void) async throws -> Peak {
        let peak = Mutex(Peak())
        let watcher = Task {
            try await withDirect(cluster, database: "postgres") { connection in
                while !Task.isCancelled {
                    let pools: (servers: Int, waiting: Int)
                    let backends: Int64
                    do {
                        pools = try await cluster.poolTotals(database: "app")
                        backends =
                            try await connection.query(
                                "SELECT count(*) FROM pg_stat_activity WHERE usename = 'pgmcp' AND pid <> pg_backend_pid()"
                            ).rows[0][0].intValue ?? 0
                    } catch  where Task.isCancelled {
                        break  // stopped in the middle of a sample: the end, not a failure
                    }
                    peak.withLock {
                        $0 = Peak(
                            pools: max($0.pools, pools.servers), backends: max($0.backends, Int(backends)), waiting: max($0.waiting, pools.waiting),
                            samples: $0.samples + 1)
                    }
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
        }
        do {
            try await body()
        } catch {
            watcher.cancel()
            throw error
        }
        try await Task.sleep(for: .milliseconds(300))
        watcher.cancel()
        try await watcher.value
        let seen = peak.withLock { $0 }
        #expect(seen.samples >= 3, "the budget was sampled \(seen.samples) times")
        #expect(seen.pools <= cluster.budget, "PgBouncer held \(seen.pools) server connections, budget \(cluster.budget)")
        #expect(seen.backends <= cluster.budget, "PostgreSQL saw \(seen.backends) backends of pgmcp's role, budget \(cluster.budget)")
        return seen
    }

    @Test func theMCPScenariosPassThroughTheRouterAgainstTwoReplicasWithinTheBudget() async throws {
        guard let python = ProcessInfo.processInfo.environment["PGMCP_TEST_PYTHON"] else {
            Issue.record("PGMCP_TEST_PYTHON is not set: run through scripts/test, which installs the SDK")
            return
        }
        let environment = [
            "PGMCP_ALLOW_DYNAMIC_CONNECTIONS": "true", "PGMCP_DYNAMIC_ALLOWED_HOSTS": "127.0.0.1", "PGMCP_DYNAMIC_REQUIRE_SSL": "false",
        ]
        try await withCluster(databases: Self.fixtureEntries, environment: environment) { cluster in
            // The suite's fixture in app (owned by the role pgmcp uses), and a role of its own for
            // the dynamic connection (pgmcp's role is capped at the budget, which PgBouncer may fill).
            let visitorPassword = "v\(UInt64.random(in: 0...UInt64.max))"
            try await withDirect(cluster, database: "app", user: "pgmcp") { connection in
                for statement in Fixture.statements { try await connection.command(statement) }
            }
            let grant = "GRANT SELECT ON ALL TABLES IN SCHEMA public TO %@"
            let direct: (String) async throws -> Void = { sql in try await withDirect(cluster, database: "app") { _ = try await $0.command(sql) } }
            try await TestDatabase.withRole(password: visitorPassword, named: "visitor", grants: [grant], execute: direct) { visitor in
                let dynamic = cluster.postgresURL(database: "app", user: visitor, password: visitorPassword)
                let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/python_sdk_client.py").path

                let peak = try await watchingTheBudget(cluster) {
                    // The official Python SDK runs the whole tool set through the router, twice: 2026-07-28
                    // (handles routed by Mcp-Param-Session) and 2025-11-25 (by Mcp-Session-Id).
                    let result = try await offPool { try ProgramRunner.run([python, script, cluster.routerURL, dynamic]) }
                    #expect(result.status == 0, "\(result.output)")
                    #expect(result.output.contains("checks passed"))

                    // swift-sdk clients, spread over both replicas: what one call sets for its session
                    // (search_path, an advisory lock, a role) never reaches another call through PgBouncer.
                    var clients: [SDKClient] = []
                    for _ in 0..<4 { clients.append(try await SDKClient.connect(URL(string: cluster.routerURL)!)) }
                    for (index, client) in clients.enumerated() {
                        _ = try await client.ok("execute", ["sql": "SET search_path TO pg_catalog", "database": "dev"])
                        _ = try await client.ok("execute", ["sql": "SELECT pg_advisory_lock(\(index + 1))", "database": "dev"])
                        _ = try await client.failure("execute", ["sql": "SELECT pg_advisory_lock(\(index + 100)), 1/0", "database": "dev"])
                        _ = try await client.ok("begin_transaction", ["database": "dev", "read_only": false])
                        _ = try await client.ok("execute", ["sql": "SET statement_timeout = 1", "database": "dev"])
                        _ = try await client.ok("execute", ["sql": "INSERT INTO customers (name) VALUES ('scaled \(index)')", "database": "dev"])
                        _ = try await client.ok("commit_transaction", ["database": "dev"])
                    }
                    for client in clients {
                        for _ in 0..<10 {
                            let seen = try await client.ok(
                                "query", ["sql": "SELECT current_setting('search_path'), current_setting('statement_timeout'), pg_sleep(0.001)::text", "database": "dev"])
                            let row = seen["rows"]?.arrayValue?.first?.arrayValue
                            #expect(row?.first == "\"$user\", public")
                            #expect(row?.dropFirst().first != "1ms")
                        }
                    }
                    for client in clients { await client.disconnect() }

                    // Demand beyond the budget: 40 slow calls at once, each in a session of its own, spread
                    // over both replicas and both entries (each replica's pools allow 6 + 4 connections,
                    // 20 in all). PgBouncer queues what exceeds its 10 server connections; every call
                    // still succeeds.
                    let load = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/concurrent_calls.py").path
                    let output = try await offPool {
                        try ProgramRunner.check([python, load, cluster.values["ROUTER_PORT"]!, "40", "SELECT pg_sleep(0.5)::text", "dev", "dev", "ro", "ro"])
                    }
                    let replies = output.split(separator: "\n").map(String.init)
                    #expect(replies.count == 40)
                    #expect(Set(replies.map { $0.split(separator: " ")[0] }) == ["r1", "r2"])
                    #expect(replies.allSatisfy { $0.hasSuffix(" 200 true") }, "\(replies)")
                }
                // The demand did exceed the budget: clients waited, and the budget was reached, not passed.
                #expect(peak.waiting > 0 && peak.pools == cluster.budget, "\(peak)")

                try await withDirect(cluster, database: "app") { connection in
                    let committed = try await connection.query("SELECT count(*) FROM customers WHERE name LIKE 'scaled %'")
                    #expect(committed.rows[0][0].intValue == 4)
                    let advisory = try await connection.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
                    #expect(advisory.rows[0][0].intValue == 0, "an advisory lock outlived its call")
                }
            }
        }
    }

    @Test func twoThousandSessionsSpreadEvenlyAndTheSurvivorServesWhenAReplicaDies() async throws {
        try await withCluster { cluster in
            let url = cluster.routerURL
            #expect(Set(cluster.replicaPorts.keys) == ["r1", "r2"])

            // 2,000 sessions through the router, 8 at a time: new sessions go round-robin.
            let sessions = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var ids: [String] = []; for _ in 0..<250 { ids.append(try await RawHTTP.openSession(url)) }; return ids
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let byReplica = Dictionary(grouping: sessions) { String($0.prefix { $0 != "." }) }.mapValues(\.count)
            #expect(sessions.count == 2_000)
            #expect(Set(byReplica.keys) == ["r1", "r2"])
            for (replica, count) in byReplica { #expect((900...1_100).contains(count), "\(replica) got \(count) of 2,000") }
            // Every session is served by the replica that made it (a wrong one would answer 404).
            for session in sessions.enumerated().filter({ $0.offset % 10 == 0 }).map(\.element) {
                let reply = try await RawHTTP.call(url, session: session, tool: "query", arguments: ["sql": "SELECT 1", "database": "app"])
                #expect(reply.status == 200 && reply.body.contains("\"isError\":false"), "\(session): \(reply.status) \(reply.body.prefix(200))")
            }

            // 2026-07-28: stateless calls spread too, and a handle's calls reach its replica.
            var handles: [String] = []
            for _ in 0..<20 {
                let reply = try await MCP2026.call(url, "open_session", ["database": "app"])
                let handle = try #require(reply.json?["result"]?["structuredContent"]?["session"]?.stringValue, "\(reply.body)")
                handles.append(handle)
            }
            #expect(Set(handles.map { String($0.prefix { $0 != "." }) }) == ["r1", "r2"])
            for handle in handles {
                let reply = try await MCP2026.call(url, "query", ["sql": "SELECT 1", "session": .string(handle)])
                #expect(reply.json?["result"]?["isError"] == false, "\(handle): \(reply.body.prefix(300))")
            }

            // A transaction on r2 holds a row lock when r2 dies.
            let r2 = try #require(sessions.first { $0.hasPrefix("r2.") })
            _ = try await RawHTTP.call(url, session: r2, tool: "begin_transaction", arguments: ["database": "app", "read_only": false])
            let locked = try await RawHTTP.call(url, session: r2, tool: "execute", arguments: ["sql": "UPDATE notes SET body = 'held' WHERE id = 1", "database": "app"])
            #expect(locked.body.contains("\"isError\":false"), "\(locked.body)")
            #expect(try await !canLockNote(cluster))

            // Clients at work when r2 is killed: its clients get 404, start over, and land on r1.
            let flags = RunFlags()
            let peak = try await watchingTheBudget(cluster) {
                async let report = withThrowingTaskGroup(of: ClientRun.self) { group in
                    let port = Int(cluster.values["ROUTER_PORT"]!)!
                    for _ in 0..<16 { group.addTask { try await Self.work(port: port, flags) } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                // Every client has made a call (its session exists) before the kill; each then has
                // 20 s to make one after it (HAProxy waits a second per retry of a refused connection).
                let ready = await eventually(within: .seconds(20)) { flags.working.load(ordering: .relaxed) == 16 }
                flags.killed.store(true, ordering: .relaxed)
                do { try cluster.kill(replica: "r2") } catch { flags.stop.store(true, ordering: .relaxed); throw error }
                let recovered = await eventually(within: .seconds(20)) { flags.recovered.load(ordering: .relaxed) == 16 }
                try await Task.sleep(for: .milliseconds(500))
                flags.stop.store(true, ordering: .relaxed)
                #expect(ready && recovered, "ready \(ready), recovered \(flags.recovered.load(ordering: .relaxed)) of 16")
                let runs = try await report
                let onR2 = runs.filter { $0.firstReplica == "r2" }
                #expect(!onR2.isEmpty && onR2.count < runs.count, "the 16 clients started on both replicas")
                for run in runs {
                    #expect(run.unexpected.isEmpty, "\(run.unexpected.prefix(3))")
                    // Only the one request in flight at the kill, on the replica that died.
                    #expect(run.lost == 0 || (run.lost == 1 && run.firstReplica == "r2"), "\(run)")
                    #expect(run.okAfterKill > 0, "a client made no call after the kill")
                }
                for run in onR2 { #expect(run.restarts >= 1 && run.lastReplica == "r1") }
            }

            // Nothing the dead replica held stays in PostgreSQL: its transaction is rolled back and
            // its lock freed, and no session of it lingers in a transaction.
            #expect(try await eventually(within: .seconds(15)) { try await canLockNote(cluster) })
            try await withDirect(cluster, database: "app") { connection in
                let body = try await connection.query("SELECT body FROM notes WHERE id = 1")
                #expect(body.rows[0][0] == "note 1")
                let lingering = try await connection.query("SELECT count(*) FROM pg_stat_activity WHERE datname = 'app' AND state LIKE 'idle in transaction%'")
                #expect(lingering.rows[0][0].intValue == 0)
                let backends = try await connection.query("SELECT count(*) FROM pg_stat_activity WHERE usename = 'pgmcp'")
                #expect(Int(backends.rows[0][0].intValue ?? 99) <= cluster.budget)
            }
            // The survivor's own sessions were never disturbed; the dead one's answer 404.
            let r1 = try #require(sessions.first { $0.hasPrefix("r1.") })
            let alive = try await RawHTTP.call(url, session: r1, tool: "query", arguments: ["sql": "SELECT 1", "database": "app"])
            #expect(alive.status == 200)
            let dead = try await RawHTTP.call(url, session: r2, tool: "query", arguments: ["sql": "SELECT 1", "database": "app"])
            #expect(dead.status == 404)
            let deadHandle = try #require(handles.first { $0.hasPrefix("r2.") })
            let unknown = try await MCP2026.call(url, "query", ["sql": "SELECT 1", "session": .string(deadHandle)])
            #expect(unknown.json?["result"]?["isError"] == true && unknown.body.contains("unknown or expired session handle"), "\(unknown.body.prefix(300))")
        }
    }

    /// What one client saw while replicas came and went.
    struct ClientRun: Sendable {
        var firstReplica = ""
        var lastReplica = ""
        var restarts = 0
        var okAfterKill = 0
        /// Requests in flight when their replica died: lost with it (a 502, or the connection closed).
        var lost = 0
        var unexpected: [String] = []
    }

    final class RunFlags: Sendable {
        let killed = Atomic(false)
        let stop = Atomic(false)
        /// Clients that made a call before the kill, and clients that made one after it.
        let working = Atomic(0)
        let recovered = Atomic(0)
    }

    /// A 2025 client in a loop, a query a call; on 404 (its replica is gone) a new session.
    static func work(port: Int, _ flags: RunFlags) async throws -> ClientRun {
        let query = #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"query","arguments":{"sql":"SELECT count(*) FROM notes","database":"app"}}}"#
        var run = ClientRun()
        var session = try await RawHTTP.openSession(port: port)
        run.firstReplica = String(session.prefix { $0 != "." })
        var counted = false
        while !flags.stop.load(ordering: .relaxed) && !Task.isCancelled {
            let reply: RawHTTP.Reply
            do {
                reply = try await RawHTTP.post(port: port, query, session: session)
            } catch {
                if flags.killed.load(ordering: .relaxed) { run.lost += 1 } else { run.unexpected.append("\(error)") }
                continue
            }
            if reply.status == 502 && flags.killed.load(ordering: .relaxed) {
                run.lost += 1
                continue
            }
            if reply.status == 404 {
                run.restarts += 1
                do { session = try await RawHTTP.openSession(port: port) } catch { run.lost += 1 }
                continue
            }
            if reply.status == 200 && reply.body.contains("\"isError\":false") {
                // After the kill, a call counts once it is served by the survivor (a reply r2 sent
                // just before it died does not).
                if flags.killed.load(ordering: .relaxed) && !session.hasPrefix("r2.") {
                    if run.okAfterKill == 0 { flags.recovered.add(1, ordering: .relaxed) }
                    run.okAfterKill += 1
                } else if !counted {
                    counted = true
                    flags.working.add(1, ordering: .relaxed)
                }
            } else {
                run.unexpected.append("\(reply.status) \(reply.body.prefix(200))")
            }
            run.lastReplica = String(session.prefix { $0 != "." })
        }
        return run
    }

    /// Whether note 1's row lock is free (the transaction holding it has ended).
    func canLockNote(_ cluster: ScaleOutCluster) async throws -> Bool {
        try await withDirect(cluster, database: "app") { try await $0.canLock("SELECT 1 FROM notes WHERE id = 1 FOR UPDATE", lockTimeoutMs: 200) }
    }

    /// A connection straight to the topology's PostgreSQL, closed afterwards.
    func withDirect<R>(_ cluster: ScaleOutCluster, database: String, user: String? = nil, _ body: (PGConnection) async throws -> R) async throws -> R {
        try await PGConnection.with(
            PGConnectionParameters(conninfo: cluster.postgresURL(database: database, user: user)), applicationName: "scaleout-tests", body)
    }
}
