import Foundation
import MCPTestSupport
import PGClient
import PGConfig
import PGMCPJSON
import TestSupport
import Testing

/// What list_databases and server_status say about each database's health, over real HTTP.
@Suite("Database health", .serialized) struct DatabaseHealthTests {
    func withServer(
        _ databases: [DatabaseConfig], connectTimeout: Duration = .seconds(3), _ body: (TestServer, String) async throws -> Void
    ) async throws {
        try await TestServer.with(databases: databases, { $0.connectTimeout = connectTimeout }) { server in
            try await body(server, try await RawHTTP.openSession(server.url.absoluteString))
        }
    }

    func call(_ server: TestServer, _ session: String, _ tool: String, _ arguments: JSONValue = [:]) async throws -> JSONValue {
        let reply = try await RawHTTP.call(server.url.absoluteString, session: session, tool: tool, arguments: arguments)
        return try #require(reply.json?["result"], "\(reply.body)")
    }

    /// Each entry's field `key` by name, from a list of objects.
    func byName(_ list: JSONValue?, _ key: String) -> [String: JSONValue] {
        Dictionary(uniqueKeysWithValues: (list?.arrayValue ?? []).map { ($0["name"]?.stringValue ?? "?", $0[key] ?? .null) })
    }

    @Test func aDatabaseDownOrMissingReadsUnhealthyTheFirstTimeItIsListed() async throws {
        // Nothing has tried these before list_databases does.
        let down = DatabaseConfig(
            id: "down", connection: try PGConnectionParameters(conninfo: "postgresql://nobody@127.0.0.1:1/none"), password: Secret("Hidden-Pass-1"))
        let missing = try TestDatabase.config(id: "missing", database: "no_such_database_for_health")
        var copies = try TestDatabase.config(id: "copies", database: "no_such_template_for_health")
        copies.isolation = .clone
        try await withServer([try TestDatabase.config(id: "main"), down, missing, copies]) { server, session in
            let listed = try await call(server, session, "list_databases")
            let status = byName(listed["structuredContent"]?["databases"], "status")
            #expect(status == ["main": "healthy", "down": "unhealthy", "missing": "unhealthy", "copies": "unhealthy"])

            let pools = try await call(server, session, "server_status")
            let lastError = byName(pools["structuredContent"]?["pools"], "lastError")
            #expect(lastError["main"] == .null)
            #expect(lastError["down"]?.stringValue?.contains("Connection refused") == true, "\(lastError)")
            #expect(lastError["missing"]?.stringValue?.contains("database \"no_such_database_for_health\" does not exist") == true, "\(lastError)")
            #expect(lastError["copies"]?.stringValue?.contains("does not exist") == true, "\(lastError)")
            #expect(!pools.jsonText.contains("Hidden-Pass-1"))
            #expect(!listed.jsonText.contains("Hidden-Pass-1"))
        }
    }

    @Test func aDatabaseThatNeverAnswersIsWaitedForOnlyUpToTheConnectTimeout() async throws {
        let listener = SilentListener()
        defer { listener.close() }
        let silent = DatabaseConfig(id: "silent", connection: try PGConnectionParameters(conninfo: "host=127.0.0.1 port=\(listener.port) dbname=x user=x"))
        try await withServer([try TestDatabase.config(id: "main"), silent], connectTimeout: .seconds(1)) { server, session in
            let started = ContinuousClock.now
            let listed = try await call(server, session, "list_databases")
            #expect(ContinuousClock.now - started < .seconds(3))
            #expect(byName(listed["structuredContent"]?["databases"], "status") == ["main": "healthy", "silent": "unhealthy"])
            let pools = try await call(server, session, "server_status")
            #expect(byName(pools["structuredContent"]?["pools"], "lastError")["silent"]?.stringValue?.contains("timed out") == true)
        }
    }

    @Test func serverStatusAloneFindsOutHealthToo() async throws {
        let missing = try TestDatabase.config(id: "missing", database: "no_such_database_for_health")
        try await withServer([try TestDatabase.config(id: "main"), missing]) { server, session in
            let pools = try await call(server, session, "server_status")
            #expect(byName(pools["structuredContent"]?["pools"], "status") == ["main": "healthy", "missing": "unhealthy"])
        }
    }

    @Test func privilegeCheckEnforceNamesTheReasonOnEveryRefusedCall() async throws {
        // The test cluster's role is a superuser: a read-only entry with "enforce" refuses it.
        let strict = try TestDatabase.config(id: "strict", privilegeCheck: .enforce)
        let user = try TestDatabase.user
        try await withServer([strict]) { server, session in
            let listed = try await call(server, session, "list_databases")
            #expect(byName(listed["structuredContent"]?["databases"], "status") == ["strict": "unhealthy"])
            let pools = try await call(server, session, "server_status")
            let lastError = byName(pools["structuredContent"]?["pools"], "lastError")["strict"]?.stringValue ?? ""
            #expect(lastError.contains("refused by privilegeCheck \"enforce\""), "\(lastError)")
            // Within the backoff, after it (a new attempt), and through every kind of tool.
            for (index, tool) in ["query", "query", "list_tables", "explain", "query"].enumerated() {
                if index == 2 { try await Task.sleep(for: .seconds(1)) }
                let arguments: JSONValue = tool == "list_tables" ? [:] : ["sql": "SELECT 1"]
                let result = try await call(server, session, tool, arguments)
                let text = result["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
                #expect(result["isError"] == true)
                #expect(text.contains("refused by privilegeCheck \"enforce\": role '\(user)' of read-only database 'strict' is a superuser"), "\(tool): \(text)")
                #expect(text.contains("Connect as a role without SUPERUSER and BYPASSRLS, or set this database's privilegeCheck to \"warn\""), "\(tool): \(text)")
            }
        }
    }
}
