import Foundation
import MCPTestSupport
import PGClient
import PGConfig
import PGMCPJSON
import TestSupport
import Testing

/// suggest_indexes over MCP (real HTTP), on a workload with a missing index: the workload names
/// the slow statement, the advice finds its index, and the index really makes it fast.
@Suite("Index advice over MCP", .serialized) struct IndexAdviceToolTests {
    func call(_ server: TestServer, _ session: String, _ tool: String, _ arguments: JSONValue = [:]) async throws -> JSONValue {
        let reply = try await RawHTTP.call(server.url.absoluteString, session: session, tool: tool, arguments: arguments)
        return try #require(reply.json?["result"], "\(reply.body)")
    }

    /// The server-side execution time of `sql`, the median of `runs` (EXPLAIN ANALYZE's own
    /// measure: no network or client time in it).
    func executionMs(_ connection: PGConnection, _ sql: String, runs: Int = 5) async throws -> Double {
        var times: [Double] = []
        for _ in 0..<runs {
            let plan = try await connection.query("EXPLAIN (ANALYZE, FORMAT JSON) \(sql)").rows.first?.first
            times.append(try #require(plan?.arrayValue?.first?["Execution Time"]?.numberValue))
        }
        return times.sorted()[runs / 2]
    }

    /// The "done when": a 1M-row table without the index its hot statement needs.
    @Test func onAMillionRowsTheMissingIndexIsFoundAndMakesTheStatementTenTimesFaster() async throws {
        let database = try await TestDatabase.createScratchDatabase(prefix: "advice")
        let slow = "SELECT id, amount FROM orders WHERE customer_id = $1"
        try await TestDatabase.withConnection(database: database) { connection in
            try await connection.command("CREATE EXTENSION pg_stat_statements")
            try await connection.command("CREATE EXTENSION hypopg")
            try await connection.command("CREATE TABLE orders (id int, customer_id int, amount numeric, note text)")
            try await connection.command(
                "INSERT INTO orders SELECT g, g % 50000, (g % 997)::numeric, 'order ' || g FROM generate_series(1, 1000000) g")
            try await connection.command("ANALYZE orders")
            _ = try await connection.query("SELECT pg_stat_statements_reset()")
            // The workload: the slow statement a few times, and a cheap one often.
            for customer in 0..<5 { _ = try await connection.query(slow, parameters: [String(customer * 977)]) }
            for _ in 0..<20 { _ = try await connection.query("SELECT count(*) FROM pg_class") }
        }
        var entry = try TestDatabase.config(id: "shop", database: database)
        entry.statementTimeoutMs = 60_000
        try await TestServer.with(databases: [entry], { $0.tools = try! ToolSelection.parse(["all"]).get() }) { server in
            let session = try await RawHTTP.openSession(server.url.absoluteString)
            let top = try await call(server, session, "top_queries")
            let first = try #require(top["structuredContent"]?["queries"]?.arrayValue?.first, "\(top)")
            #expect(first["query"]?.stringValue == slow, "\(top)")
            #expect(first["calls"] == 5)

            let started = ContinuousClock.now
            let advice = try await call(server, session, "suggest_indexes")
            let took = ContinuousClock.now - started
            #expect(advice["isError"] != true, "\(advice)")
            let suggestions = advice["structuredContent"]?["suggestions"]?.arrayValue ?? []
            let suggestion = try #require(suggestions.first, "\(advice)")
            #expect(suggestion["create"] == "CREATE INDEX ON public.orders (customer_id)")
            #expect(suggestion["table"] == "public.orders")
            #expect(suggestion["columns"] == ["customer_id"])
            #expect((suggestion["estimatedSizeBytes"]?.numberValue ?? 0) > 1_000_000)
            let statement = try #require(suggestion["statements"]?.arrayValue?.first)
            #expect(statement["sql"]?.stringValue == slow)
            let before = try #require(statement["costBefore"]?.numberValue)
            let after = try #require(statement["costAfter"]?.numberValue)
            #expect(before >= 10 * after, "estimated cost \(before) → \(after)")
            #expect(took < .seconds(11), "the default budget is 10 s; took \(took)")

            // Nothing was created; then create it as advised and measure, in the same run.
            try await TestDatabase.withConnection(database: database) { connection in
                let sql = "SELECT id, amount FROM orders WHERE customer_id = 4242"
                #expect(try await connection.query("SELECT count(*) FROM pg_indexes WHERE tablename = 'orders'").rows == [[0]])
                let slowMs = try await executionMs(connection, sql)
                try await connection.command(try #require(suggestion["create"]?.stringValue))
                let fastMs = try await executionMs(connection, sql)
                print(
                    "suggest_indexes: estimated cost \(before) → \(after) (×\(Int(before / after))); executed \(slowMs) ms → \(fastMs) ms (×\(Int(slowMs / fastMs))); advice took \(took)"
                )
                #expect(slowMs >= 10 * fastMs, "executed \(slowMs) ms → \(fastMs) ms")
            }

            // Statements given, and an argument out of range.
            let given = try await call(
                server, session, "suggest_indexes", ["statements": ["SELECT * FROM orders WHERE amount > 990 AND note = $1"], "budget_seconds": 5])
            let columns = given["structuredContent"]?["suggestions"]?.arrayValue?.first?["columns"]?.arrayValue ?? []
            #expect(columns.first == "note", "\(given)")
            let refused = try await call(server, session, "suggest_indexes", ["budget_seconds": 0])
            #expect(refused["isError"] == true)
            #expect(refused["content"]?.arrayValue?.first?["text"]?.stringValue?.contains("'budget_seconds' must be a whole number from 1 to 60") == true)
        }
        try await TestDatabase.dropDatabase(database)
    }
}
