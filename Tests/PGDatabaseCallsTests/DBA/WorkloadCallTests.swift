import PGClient
import PGConfig
import PGDatabaseCalls
import PGMCPJSON
import TestSupport
import Testing

/// top_queries from pg_stat_statements, and blocking_locks from a lock chain the test builds.
@Suite("Workload and locks", .serialized) struct WorkloadCallTests {
    @Test func topQueriesRanksThisDatabasesStatements() async throws {
        let setup = ["CREATE EXTENSION pg_stat_statements", "CREATE TABLE t (x int)", "INSERT INTO t SELECT generate_series(1, 20000)"]
        try await withScratchCalls(prefix: "workload", setup: setup) { calls, session, database in
            try await TestDatabase.withConnection(database: database) { connection in
                // A slow one, run a few times, and a cheap one run often.
                for _ in 0..<3 { _ = try await connection.query("SELECT count(*) FROM t a, (SELECT x FROM t LIMIT 200) b WHERE a.x > b.x") }
                for value in 0..<20 { _ = try await connection.query("SELECT x FROM t WHERE x = $1", parameters: [String(value)]) }
                // PostgreSQL 15 keeps a utility statement's text as sent, password and all.
                let role = "redacted_\(UInt32.random(in: 0...UInt32.max))"
                try await connection.command("CREATE ROLE \(role) LOGIN PASSWORD 'pw-never-shown'")
                try await connection.command("DROP ROLE \(role)")
            }
            let everything = try await calls.topQueries(session: session, database: nil, ranking: .totalTime, limit: 100)
            #expect(everything.contains { $0["query"]?.stringValue?.contains("PASSWORD '…'") == true }, "\(everything)")
            #expect(!"\(everything)".contains("pw-never-shown"))
            // What pgmcp itself sends for explain and for index advice is not the workload either.
            _ = try await calls.explain(session: session, database: nil, sql: "SELECT x FROM t WHERE x = 7", parameters: [], analyze: false)
            let byTotal = try await calls.topQueries(session: session, database: nil, ranking: .totalTime, limit: 10)
            let first = try #require(byTotal.first)
            #expect(first["query"]?.stringValue?.contains("FROM t a, (SELECT x FROM t LIMIT $1) b") == true, "\(byTotal)")
            #expect(first["calls"] == 3)
            #expect((first["share"]?.numberValue ?? 0) > 0.5, "\(first)")
            let cheap = try #require(byTotal.first { $0["query"]?.stringValue == "SELECT x FROM t WHERE x = $1" })
            #expect(cheap["calls"] == 20)
            // pgmcp's own transaction control, settings and catalog reads are not the workload.
            for entry in byTotal {
                let text = entry["query"]?.stringValue ?? ""
                #expect(!["BEGIN", "ROLLBACK", "SET", "COMMIT"].contains { text.uppercased().hasPrefix($0) }, "\(text)")
                #expect(!text.contains("pg_catalog."), "pgmcp's own catalog reads: \(text)")
                #expect(!text.uppercased().hasPrefix("EXPLAIN"), "\(text)")
            }
            let limited = try await calls.topQueries(session: session, database: nil, ranking: .resources, limit: 1)
            #expect(limited.count == 1)
            #expect(try await calls.topQueries(session: session, database: nil, ranking: .meanTime, limit: 1).first?["calls"] == 3)
        }
    }

    @Test func topQueriesWithoutTheExtensionSaysHowToEnableIt() async throws {
        try await withScratchCalls(prefix: "workload") { calls, session, _ in
            let error = try await #require(throws: DatabaseCallError.self) {
                try await calls.topQueries(session: session, database: nil, ranking: .totalTime, limit: 10)
            }
            #expect(error.message.contains("pg_stat_statements is not enabled in 'main'"), "\(error.message)")
            #expect(error.message.contains("shared_preload_libraries"), "\(error.message)")
            #expect(error.message.contains("CREATE EXTENSION pg_stat_statements"), "\(error.message)")
        }
    }

    /// C waits on B, which waits on A (idle in its transaction): one chain, C → B → A.
    @Test func blockingLocksShowsATwoLevelChain() async throws {
        let setup = ["CREATE TABLE accounts (id int PRIMARY KEY, balance int)", "INSERT INTO accounts VALUES (1, 0), (2, 0)"]
        try await withScratchCalls(prefix: "locks", setup: setup) { calls, session, database in
            let a = try await TestDatabase.connect(database: database)
            let b = try await TestDatabase.connect(database: database)
            let c = try await TestDatabase.connect(database: database)
            let pid = { (connection: PGConnection) in try await connection.query("SELECT pg_backend_pid()").rows[0][0] }
            let (pidA, pidB, pidC) = (try await pid(a), try await pid(b), try await pid(c))
            try await a.command("BEGIN")
            try await a.command("UPDATE accounts SET balance = 1 WHERE id = 1")
            try await b.command("BEGIN")
            try await b.command("UPDATE accounts SET balance = 2 WHERE id = 2")
            let waitingB = Task { try await b.command("UPDATE accounts SET balance = 3 WHERE id = 1") }
            let waitingC = Task { try await c.command("UPDATE accounts SET balance = 4 WHERE id = 2") }
            var chains: [JSONValue] = []
            let built = await eventually(within: .seconds(10)) {
                chains = (try? await calls.blockingLocks(session: session, database: nil)) ?? []
                return chains.first?["blockedBy"]?.arrayValue?.first?["blockedBy"]?.arrayValue?.isEmpty == false
            }
            #expect(built, "\(chains)")
            #expect(chains.count == 1, "\(chains)")
            let chain = try #require(chains.first)
            #expect(chain["waiting"]?["pid"] == pidC)
            #expect(chain["waiting"]?["query"] == "UPDATE accounts SET balance = 4 WHERE id = 2")
            #expect(chain["waiting"]?["waitsFor"]?.stringValue?.contains("ShareLock") == true, "\(chain)")
            #expect((chain["waiting"]?["waitingSeconds"]?.numberValue ?? -1) >= 0)
            let blocker = try #require(chain["blockedBy"]?.arrayValue?.first)
            #expect(blocker["pid"] == pidB)
            let head = try #require(blocker["blockedBy"]?.arrayValue?.first)
            #expect(head["pid"] == pidA)
            #expect(head["state"] == "idle in transaction")
            #expect(head["waitingSeconds"] == .null)
            #expect(head["blockedBy"] == [])
            try await a.command("ROLLBACK")
            _ = try await waitingB.value
            try await b.command("ROLLBACK")
            _ = try await waitingC.value
            #expect(try await calls.blockingLocks(session: session, database: nil).isEmpty)
            for connection in [a, b, c] { await connection.close() }
        }
    }
}
