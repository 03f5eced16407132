import Foundation
import MCPTestSupport
import PGMCPJSON
import TestSupport
import Testing

extension ProcessTests {
    /// Ten sessions on a clone entry each see only their own writes; a server killed with them open
    /// leaves their copies behind, and the next start drops them (and only them).
    @Test func tenSessionsOnACloneEntryAndAKilledServersCopiesAreDroppedAtTheNextStart() async throws {
        let (template, databases) = try await scratchEntry(
            id: "killed", prefix: "ctpl", extra: #""isolation": "clone""#,
            ["CREATE TABLE notes (who text)", "INSERT INTO notes VALUES ('template')"])
        // Not ours (no owner comment): must survive.
        let stranger = "pgmcp_clone_killed_strangerxx"
        try await TestDatabase.withConnection { try await $0.command("CREATE DATABASE \(stranger)") }
        let copies = "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgmcp\\_clone\\_killed\\_%' AND datname <> '\(stranger)'"
        func start() async throws -> (ChildProcess, String) {
            let port = freeLocalPort()
            let child = try ChildProcess([pgmcpBinary, "serve", "--port", String(port)], environment: try environment(databases: databases))
            let base = "http://127.0.0.1:\(port)"
            #expect(await eventually(within: .seconds(10)) { (try? await RawHTTP.send("GET", base + "/healthz", headers: [:]).status) == 200 })
            return (child, base + "/mcp")
        }
        let (first, url) = try await start()
        let sessions = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<10 {
                group.addTask {
                    let session = try await RawHTTP.openSession(url)
                    let wrote = try await RawHTTP.call(
                        url, session: session, tool: "execute", arguments: ["sql": "INSERT INTO notes VALUES ($1)", "params": [.string("session \(index)")]])
                    #expect(wrote.json?["result"]?["isError"] == false, "\(wrote.body)")
                    let seen = try await RawHTTP.call(url, session: session, tool: "query", arguments: ["sql": "SELECT who FROM notes ORDER BY who DESC"])
                    #expect(seen.json?["result"]?["structuredContent"]?["rows"] == [["template"], [.string("session \(index)")]], "\(seen.body)")
                    return session
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(sessions.count == 10)
        #expect(try await TestDatabase.rows(copies) == [[10]])
        // Five end normally (DELETE): their copies go at once.
        for session in sessions.prefix(5) {
            _ = try await RawHTTP.send("DELETE", url, headers: RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": session]) { $1 })
        }
        #expect(try await TestDatabase.rows(copies) == [[5]])
        // The other five are open when the server is killed: their copies stay behind…
        first.signal(SIGKILL)
        _ = try await first.wait()
        #expect(try await TestDatabase.rows(copies) == [[5]])

        // …until the next start.
        let (second, _) = try await start()
        #expect(try await eventually(within: .seconds(10)) { try await TestDatabase.rows(copies) == [[0]] })
        #expect(try await TestDatabase.rows("SELECT count(*) FROM pg_database WHERE datname = '\(stranger)'") == [[1]])
        second.signal(SIGTERM)
        #expect(try await second.wait() == 0)
        try await TestDatabase.dropDatabase(stranger)
        let original = try await TestDatabase.withConnection(database: template) { try await $0.query("SELECT count(*) FROM notes").rows }
        #expect(original == [[1]])
        try await TestDatabase.dropDatabase(template)
    }
}
