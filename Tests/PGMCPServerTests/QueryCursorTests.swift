import Foundation
import MCP
import MCPTestSupport
import PGConfig
import PGMCPJSON
import TestSupport
import Testing

/// `query`'s paging (`nextCursor`, `cursor`) through swift-sdk's real Client over real HTTP,
/// checked from another connection: every page from one snapshot, and the cursor's connection
/// back in its pool whenever the cursor closes.
@Suite("Query cursors", .serialized) struct QueryCursorTests {
    static let table = [
        "CREATE TABLE numbers (id int PRIMARY KEY, pad text NOT NULL)",
        "INSERT INTO numbers SELECT g, repeat('p', 40) FROM generate_series(1, 2500) g",
    ]

    /// A server on a fixture with `numbers` (2,500 rows).
    func withServer(_ settings: @escaping (inout ServerSettings) -> Void = { _ in }, _ body: (TestServer, Fixture) async throws -> Void) async throws {
        try await Fixture.withServer(settings: settings) { server, fixture in
            try await TestDatabase.withConnection(database: fixture.databaseName) { connection in
                for statement in Self.table { try await connection.command(statement) }
            }
            try await body(server, fixture)
        }
    }

    /// Backends of the fixture's database held by an open cursor.
    func cursorBackends(_ fixture: Fixture) async throws -> Int {
        let rows = try await TestDatabase.rows(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%' AND query LIKE '%pgmcp_cursor%'",
            [fixture.databaseName])
        return rows.first?.first?.intValue.map(Int.init) ?? -1
    }

    func ids(_ page: JSONValue) -> [Int] { page["rows"]?.arrayValue?.compactMap { $0.arrayValue?.first?.intValue.map(Int.init) } ?? [] }

    let all: [String: MCP.Value] = ["sql": "SELECT id, pad FROM numbers ORDER BY id", "database": "dev", "max_rows": 1000]

    @Test func pagesComeFromOneSnapshotAndTheLastReturnsTheConnection() async throws {
        try await withServer { server, fixture in
            let client = try await SDKClient.connect(server.url)
            let first = try await client.ok("query", all)
            #expect(ids(first) == Array(1...1000))
            #expect(first["truncated"] == true)
            let cursor = try #require(first["nextCursor"]?.stringValue)
            #expect(cursor.count >= 43, "unguessable, like a session handle")
            #expect(try await cursorBackends(fixture) == 1)
            #expect(try await client.ok("current_database")["session"]?["connectionsHeld"] == 1)
            // Committed between pages: the cursor's snapshot does not see it; a query beside it does.
            try await TestDatabase.withConnection(database: fixture.databaseName) { connection in
                try await connection.command("INSERT INTO numbers SELECT g, 'late' FROM generate_series(2501, 2600) g")
            }
            let count = try await client.ok("query", ["sql": "SELECT count(*) FROM numbers", "database": "dev"])
            #expect(count["rows"] == [[2600]])
            let second = try await client.ok("query", ["cursor": .string(cursor)])
            #expect(ids(second) == Array(1001...2000))
            #expect(second["truncated"] == true)
            #expect(second["nextCursor"]?.stringValue == cursor)
            let last = try await client.ok("query", ["cursor": .string(cursor)])
            #expect(ids(last) == Array(2001...2500))
            #expect(last["truncated"] == false)
            #expect(last["nextCursor"] == nil)
            #expect(try await eventually { try await cursorBackends(fixture) == 0 })
            #expect(try await client.ok("current_database")["session"]?["connectionsHeld"] == 0)
            #expect(try await client.failure("query", ["cursor": .string(cursor)]).contains("unknown, expired or finished cursor"))
            #expect(server.registry.openCursorCount == 0)
            await client.disconnect()
        }
    }

    /// A page cut by the byte cap reads rows it cannot hand out: the next page starts right after
    /// the last row handed out, so every row arrives once, in order.
    @Test func pagesCutByBytesLoseNoRow() async throws {
        try await withServer({ $0.maxResultBytes = 8192 }) { server, _ in
            let client = try await SDKClient.connect(server.url)
            var page = try await client.ok("query", all)
            var seen = ids(page)
            #expect(seen.count < 1000, "the byte cap cuts first")
            var pages = 1
            while let cursor = page["nextCursor"]?.stringValue {
                page = try await client.ok("query", ["cursor": .string(cursor)])
                seen += ids(page)
                pages += 1
                #expect(pages < 200)
                if pages >= 200 { break }
            }
            #expect(seen == Array(1...2500))
            #expect(pages > 10)
            await client.disconnect()
        }
    }

    @Test func aCursorClosesAfterItsIdleTimeoutAndAtItsSessionsEnd() async throws {
        try await withServer({ $0.cursorIdleTimeout = .seconds(1) }) { server, fixture in
            let client = try await SDKClient.connect(server.url)
            let cursor = try #require(try await client.ok("query", all)["nextCursor"]?.stringValue)
            #expect(try await cursorBackends(fixture) == 1)
            // A page is a call: it keeps the cursor alive.
            try await Task.sleep(for: .milliseconds(600))
            _ = try await client.ok("query", ["cursor": .string(cursor)])
            try await Task.sleep(for: .milliseconds(500))
            await server.registry.reapIdleCursors()
            #expect(try await cursorBackends(fixture) == 1)
            try await Task.sleep(for: .milliseconds(700))
            await server.registry.reapIdleCursors()
            #expect(try await eventually { try await cursorBackends(fixture) == 0 })
            #expect(try await client.failure("query", ["cursor": .string(cursor)]).contains("Run the query again"))

            // A session's end closes its cursor too.
            let handle = try #require(try await client.ok("open_session")["session"])
            var inSession = all
            inSession["session"] = try handle.mcpValue
            let other = try #require(try await client.ok("query", inSession)["nextCursor"]?.stringValue)
            #expect(try await cursorBackends(fixture) == 1)
            _ = try await client.ok("close_session", ["session": try handle.mcpValue])
            #expect(try await eventually { try await cursorBackends(fixture) == 0 })
            #expect(try await client.failure("query", ["cursor": .string(other)]).contains("unknown, expired or finished cursor"))
            #expect(server.registry.openCursorCount == 0)
            await client.disconnect()
        }
    }

    /// One cursor per database per session; each holds one of the session's connections, and an idle
    /// one gives way to a call that finds them all taken (no tool closes a cursor, and one left
    /// behind must not lock its session out).
    @Test func oneCursorPerDatabasePerSessionCountedAgainstItsConnections() async throws {
        try await withServer({ $0.acquireTimeout = .seconds(1) }) { server, fixture in
            let client = try await SDKClient.connect(server.url)
            let old = try #require(try await client.ok("query", all)["nextCursor"]?.stringValue)
            let new = try #require(try await client.ok("query", all)["nextCursor"]?.stringValue)
            #expect(old != new)
            #expect(try await cursorBackends(fixture) == 1)
            #expect(try await client.failure("query", ["cursor": .string(old)]).contains("unknown, expired or finished cursor"))
            // A cursor on another database is a second one, and a second connection.
            var onRO = all
            onRO["database"] = "ro"
            let other = try #require(try await client.ok("query", onRO)["nextCursor"]?.stringValue)
            #expect(try await cursorBackends(fixture) == 2)
            #expect(ids(try await client.ok("query", ["cursor": .string(new)])) == Array(1001...2000))
            #expect(ids(try await client.ok("query", ["cursor": .string(other)])) == Array(1001...2000))
            // Both of the session's two connections are held: a call on its own gets one from an idle cursor.
            #expect(try await client.ok("query", ["sql": "SELECT 1", "database": "dev"])["rows"] == [[1]])
            #expect(try await cursorBackends(fixture) == 1)
            #expect(server.registry.openCursorCount == 1)
            await client.disconnect()
        }
    }

    @Test func badCursorCallsSayWhatToDo() async throws {
        try await withServer { server, _ in
            let client = try await SDKClient.connect(server.url)
            let cursor = try #require(try await client.ok("query", all)["nextCursor"]?.stringValue)
            let both = try await client.failure("query", ["cursor": .string(cursor), "sql": "SELECT 1"])
            #expect(both.contains("without 'sql'"), "\(both)")
            #expect(try await client.failure("query", ["cursor": .string(cursor), "max_rows": 5]).contains("without 'max_rows'"))
            #expect(try await client.failure("query", ["cursor": "no-such-cursor"]).contains("Run the query again (with sql)"))
            #expect(try await client.failure("query", [:]).contains("'cursor'"))
            // The refusals left the cursor alone.
            #expect(ids(try await client.ok("query", ["cursor": .string(cursor)])) == Array(1001...2000))
            await client.disconnect()
        }
    }

    /// Inside the session's own transaction a cut read has no cursor; a result not cut never has one;
    /// a statement a cursor cannot run (SHOW, EXPLAIN) is cut as before.
    @Test func whereThereIsNoCursor() async throws {
        try await withServer { server, fixture in
            let client = try await SDKClient.connect(server.url)
            let small = try await client.ok("query", ["sql": "SELECT id FROM numbers WHERE id <= 1000 ORDER BY id", "database": "dev"])
            #expect(small["truncated"] == false)
            #expect(small["nextCursor"] == nil)
            let explain = try await client.ok("query", ["sql": "SHOW ALL", "database": "dev", "max_rows": 1])
            #expect(explain["truncated"] == true)
            #expect(explain["nextCursor"] == nil)
            _ = try await client.ok("begin_transaction", ["database": "dev"])
            let inside = try await client.ok("query", all)
            #expect(inside["truncated"] == true)
            #expect(inside["nextCursor"] == nil)
            _ = try await client.ok("rollback_transaction", ["database": "dev"])
            #expect(try await cursorBackends(fixture) == 0)
            await client.disconnect()
        }
    }

    /// Under MCP 2026-07-28 a call without a handle runs in a session of its own: one that opened a
    /// cursor is kept for it, the cursor works passed alone, and the session ends with the cursor.
    @Test func aCursorWorksForA2026CallWithoutAHandle() async throws {
        try await withServer({ $0.cursorIdleTimeout = .milliseconds(300) }) { server, fixture in
            let url = server.url.absoluteString
            let first = try await MCP2026.call(url, "query", ["sql": "SELECT id FROM numbers ORDER BY id", "database": "dev", "max_rows": 1000])
            let cursor = try #require(first.json?["result"]?["structuredContent"]?["nextCursor"]?.stringValue, "\(first.body)")
            #expect(server.registry.sessionCount == 1)
            let second = try await MCP2026.call(url, "query", ["cursor": .string(cursor)])
            #expect(ids(try #require(second.json?["result"]?["structuredContent"])) == Array(1001...2000), "\(second.body)")
            try await Task.sleep(for: .milliseconds(400))
            await server.registry.reapIdleCursors()
            #expect(try await eventually { try await cursorBackends(fixture) == 0 })
            // The session kept for the cursor ends once it holds none.
            await server.registry.reapIdleCursors()
            #expect(await eventually { server.registry.sessionCount == 0 })
        }
    }
}

extension JSONValue {
    /// This value as swift-sdk's, for passing one result's field as another call's argument.
    var mcpValue: MCP.Value {
        get throws { try JSONDecoder().decode(MCP.Value.self, from: Data(jsonText.utf8)) }
    }
}
