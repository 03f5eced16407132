import Foundation
import MCPTestSupport
import TestSupport
import Testing

/// The official Python MCP SDK (2.x) against our server: the client most users' tools are built on.
@Suite("Python SDK client", .serialized) struct PythonSDKClientTests {
    @Test func thePythonSDKUsesEveryKindOfTool() async throws {
        guard let python = ProcessInfo.processInfo.environment["PGMCP_TEST_PYTHON"] else {
            Issue.record("PGMCP_TEST_PYTHON is not set: run through scripts/test, which installs the SDK")
            return
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/python_sdk_client.py").path
        let fixture = try await Fixture.make()
        let server = try await TestServer.start(databases: [fixture.dev, fixture.ro], DynamicConnections.allowed())
        let url = server.url.absoluteString
        // A connection string for connect_database: the same scratch database, reached dynamically.
        let dynamic = try DynamicConnections.url(database: fixture.databaseName)
        let result = try await offPool { try ProgramRunner.run([python, script, url, dynamic]) }
        await server.stop()
        try await fixture.drop()
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("checks passed"))
    }
}
