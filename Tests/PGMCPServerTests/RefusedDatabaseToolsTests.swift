import Foundation
import MCP
import MCPTestSupport
import PGConfig
import TestSupport
import Testing

/// select_database and open_session onto a database `privilegeCheck: "enforce"` refuses (the test
/// cluster's role is a superuser), through swift-sdk's real Client over HTTP. Before, it became the
/// active database and every later call without 'database' failed.
@Suite("Databases refused for good, as tools see them", .serialized) struct RefusedDatabaseToolsTests {
    @Test func aRefusedDatabaseCannotBeSelectedAndTheRefusalSaysWhyAndWhatToDo() async throws {
        try await Fixture.withServer(entries: { $0.ro.privilegeCheck = .enforce }) { server, _ in
            let client = try await SDKClient.connect(server.url)
            _ = try await client.ok("select_database", ["database": "dev"])
            let refused = try await client.failure("select_database", ["database": "ro"])
            #expect(refused.contains("refused by privilegeCheck \"enforce\""), "\(refused)")
            #expect(refused.contains("is a superuser"), "\(refused)")
            #expect(refused.contains("the session stays on 'dev'. Select another database (list_databases)"), "\(refused)")
            // Nothing changed: calls without 'database' still run on dev.
            #expect(try await client.ok("current_database")["database"] == "dev")
            #expect(try await client.ok("query", ["sql": "SELECT 1"])["database"] == "dev")
            let opened = try await client.failure("open_session", ["database": "ro"])
            #expect(opened.contains("no session was opened on it"), "\(opened)")
            // Named in a call, it says what the caller can do.
            let named = try await client.failure("query", ["sql": "SELECT 1", "database": "ro"])
            #expect(named.contains("select_database another (list_databases)"), "\(named)")
            await client.disconnect()
        }
    }
}
