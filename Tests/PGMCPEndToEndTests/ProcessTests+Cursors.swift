import Foundation
import MCPTestSupport
import PGMCPJSON
import TestSupport
import Testing

extension ProcessTests {
    /// The resident memory of process `pid`, in bytes (VmRSS).
    func residentBytes(of pid: pid_t) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
        }
        return 0
    }

    /// A million rows paged to the end in pages of 1,000 by MCP 2026-07-28 calls passing the cursor
    /// alone: every row once and in order, none committed meanwhile, the server's memory flat, the
    /// cursor's connection back at the end; a second cursor closed by PGMCP_CURSOR_IDLE_TIMEOUT, and
    /// the session kept for it ended.
    @Test func aMillionRowsPagedToTheEndWithTheServersMemoryFlat() async throws {
        let (database, databases) = try await scratchEntry(
            id: "big", prefix: "cursor", extra: #""maxRows": 1000"#,
            [
                "CREATE TABLE million (id int PRIMARY KEY, pad text NOT NULL)",
                "INSERT INTO million SELECT g, md5(g::text) FROM generate_series(1, 1000000) g", "ANALYZE million",
            ])
        let port = freeLocalPort()
        let child = try ChildProcess(
            [pgmcpBinary, "serve", "--port", String(port), "--cursor-idle-timeout", "1"], environment: try environment(databases: databases))
        let base = "http://127.0.0.1:\(port)"
        let url = base + "/mcp"
        #expect(await eventually(within: .seconds(10)) { (try? await RawHTTP.send("GET", base + "/healthz", headers: [:]).status) == 200 })
        let held =
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '\(database)' AND state LIKE 'idle in transaction%' AND query LIKE '%pgmcp_cursor%'"

        func page(_ arguments: JSONValue) async throws -> JSONValue {
            let reply = try await MCP2026.call(url, "query", arguments)
            return try #require(reply.json?["result"]?["structuredContent"], "\(reply.body.prefix(500))")
        }
        var next = 1
        func check(_ result: JSONValue) {
            for row in result["rows"]?.arrayValue ?? [] {
                guard row.arrayValue?.first?.intValue == Int64(next) else {
                    Issue.record("expected row \(next), got \(row)")
                    return
                }
                next += 1
            }
        }
        var result = try await page(["sql": "SELECT id, pad FROM million ORDER BY id", "max_rows": 1000])
        check(result)
        #expect(try await TestDatabase.rows(held) == [[1]])
        try await TestDatabase.withConnection(database: database) { connection in
            try await connection.command("INSERT INTO million SELECT g, 'late' FROM generate_series(1000001, 1000100) g")
        }
        var pages = 1
        var baseline = 0
        var peak = 0
        while let cursor = result["nextCursor"]?.stringValue, pages < 1100 {
            result = try await page(["cursor": .string(cursor)])
            check(result)
            pages += 1
            // After the first pages have warmed every cache and pool.
            if pages == 20 { baseline = residentBytes(of: child.pid) }
            if pages > 20 { peak = max(peak, residentBytes(of: child.pid)) }
        }
        #expect(next == 1_000_001, "every row once, in order, none inserted after the first page")
        #expect(pages == 1000)
        #expect(result["truncated"] == false)
        #expect(peak - baseline < 16 * 1024 * 1024, "RSS grew \((peak - baseline) / 1024) KiB over \(pages) pages")
        print("paging 1,000,000 rows: RSS \(baseline / 1024) KiB after page 20, peak \(peak / 1024) KiB (+\((peak - baseline) / 1024) KiB) over \(pages) pages")
        #expect(try await eventually { try await TestDatabase.rows(held) == [[0]] })

        // Left alone, a cursor closes after its idle timeout, and the call's session kept for it ends.
        let idle = try await page(["sql": "SELECT id FROM million ORDER BY id", "max_rows": 10])
        let cursor = try #require(idle["nextCursor"]?.stringValue)
        #expect(try await TestDatabase.rows(held) == [[1]])
        #expect(try await eventually(within: .seconds(10)) { try await TestDatabase.rows(held) == [[0]] })
        let late = try await MCP2026.call(url, "query", ["cursor": .string(cursor)])
        #expect(late.json?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue?.contains("PGMCP_CURSOR_IDLE_TIMEOUT") == true, "\(late.body)")
        #expect(
            await eventually(within: .seconds(10)) {
                (try? await MCP2026.call(url, "server_status").json?["result"]?["structuredContent"]?["sessions"]) == 0
            })
        child.signal(SIGTERM)
        #expect(try await child.wait() == 0)
        try await TestDatabase.dropDatabase(database)
    }
}
