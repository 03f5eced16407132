import Foundation
import MCPTestSupport
import TestSupport
import Testing

extension ProcessTests {
    /// What a new user runs, in the default mode of the two Python clients users have (the official
    /// SDK 2.x and fastmcp 4, both MCP 2026-07-28): list databases, select staging, query, select
    /// dev, begin, execute, commit, query. Over stdio with no handle at all; over HTTP passing on the
    /// handle the first state-changing call returned. Against the real binary.
    @Test func aNewUsersWorkflowIn2026ModeWithTheOfficialSDKAndFastMCP() async throws {
        guard let python = ProcessInfo.processInfo.environment["PGMCP_TEST_PYTHON"] else {
            Issue.record("PGMCP_TEST_PYTHON is not set: run through scripts/test, which installs the clients")
            return
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/workflow_2026.py").path
        let (database, _) = try await scratchEntry(id: "dev", prefix: "workflow", extra: #""readOnly": false"#, ["CREATE TABLE workflow (who text)"])
        func entry(_ id: String, readOnly: Bool) throws -> String {
            #"{"id": "\#(id)", "host": "\#(try TestDatabase.host)", "port": \#(try TestDatabase.port), "database": "\#(database)", "user": "\#(try TestDatabase.user)", "passwordEnv": "TEST_DB_PASSWORD", "readOnly": \#(readOnly)}"#
        }
        let environment = try environment(databases: "[\(try entry("staging", readOnly: true)), \(try entry("dev", readOnly: false))]")

        // stdio: each client starts the binary itself, with this environment.
        let binary = pgmcpBinary
        let stdio = try await offPool { try ProgramRunner.run([python, script, "stdio", binary], extraEnvironment: environment) }
        #expect(stdio.status == 0 && stdio.output.contains("workflow checks passed"), "\(stdio.output)")

        let port = freeLocalPort()
        let child = try ChildProcess([pgmcpBinary, "serve", "--port", String(port)], environment: environment)
        let base = "http://127.0.0.1:\(port)"
        #expect(await eventually(within: .seconds(10)) { (try? await RawHTTP.send("GET", base + "/healthz", headers: [:]).status) == 200 })
        let http = try await offPool { try ProgramRunner.run([python, script, "http", base + "/mcp"]) }
        #expect(http.status == 0 && http.output.contains("workflow checks passed"), "\(http.output)")
        child.signal(SIGTERM)
        _ = try await child.wait()
        let rows = try await TestDatabase.withConnection(database: database) { try await $0.query("SELECT who FROM workflow ORDER BY who").rows }
        #expect(rows == [["fastmcp-http"], ["fastmcp-stdio"], ["official-sdk-http"], ["official-sdk-stdio"]])
        try await TestDatabase.dropDatabase(database)
    }
}
