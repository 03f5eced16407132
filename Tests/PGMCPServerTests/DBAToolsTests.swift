import Foundation
import MCP
import MCPTestSupport
import PGConfig
import PGMCPJSON
import TestSupport
import Testing

/// The `dba` group through swift-sdk's real Client over real HTTP: served when named, answering in
/// the shapes of the contract (the client checks results against each tool's output schema).
@Suite("DBA tools through the swift-sdk client", .serialized) struct DBAToolsTests {
    @Test func theGroupAnswersThroughARealClient() async throws {
        let database = try await TestDatabase.createScratchDatabase(prefix: "dba")
        try await TestDatabase.withConnection(database: database) { connection in
            try await connection.command("CREATE EXTENSION pg_stat_statements")
            try await connection.command("CREATE TABLE events (id int, kind int)")
            try await connection.command("INSERT INTO events SELECT g, g % 7 FROM generate_series(1, 30000) g")
            try await connection.command("ANALYZE events")
        }
        let entry = try TestDatabase.config(id: "main", database: database, readOnly: true)
        try await TestServer.with(databases: [entry], { $0.tools = try! ToolSelection.parse(["default", "dba"]).get() }) { server in
            let client = try await SDKClient.connect(server.url)
            for _ in 0..<3 { _ = try await client.ok("query", ["sql": "SELECT count(*) FROM events WHERE kind = 3"]) }

            let health = try await client.ok("database_health")
            #expect(health["checked"]?.arrayValue?.count == 14, "\(health)")
            #expect(health["findings"]?.arrayValue != nil)

            let top = try await client.ok("top_queries", ["by": "mean_time", "limit": 5])
            let statements = top["queries"]?.arrayValue?.compactMap { $0["query"]?.stringValue } ?? []
            #expect(statements.contains("SELECT count(*) FROM events WHERE kind = $1"), "\(statements)")
            let badRanking = try await client.failure("top_queries", ["by": "slowest"])
            #expect(badRanking.contains("'by' must be one of 'total_time', 'mean_time', 'resources'"), "\(badRanking)")

            #expect(try await client.ok("blocking_locks")["chains"] == [])

            let explain = try await client.ok("explain", ["sql": "SELECT * FROM events WHERE kind = 3", "analyze": true])
            #expect(explain["summary"]?["sequentialScans"]?.arrayValue?.first?["table"] == "events", "\(explain)")
            #expect(explain["summary"]?["slowestNode"]?["node"]?.stringValue?.contains("events") == true, "\(explain)")
            await client.disconnect()
        }
        // Off by default: refused, naming the setting that serves it.
        try await TestServer.with(databases: [entry]) { server in
            let client = try await SDKClient.connect(server.url)
            let (tools, _) = try await client.client.listTools()
            #expect(!tools.contains { ToolSelection.dbaTools.contains($0.name) })
            await #expect(throws: (any Error).self) { try await client.call("database_health") }
            await client.disconnect()
        }
        try await TestDatabase.dropDatabase(database)
    }
}
