import Foundation
import MCP
import MCPTestSupport
import PGConfig
import PGMCPJSON
import TestSupport
import Testing

/// connect_database / disconnect_database through swift-sdk's real Client over real HTTP.
@Suite("Dynamic connections", .serialized) struct DynamicConnectionToolsTests {
    @Test func offUnlessTheServerAllowsIt() async throws {
        try await Fixture.withServer { server, fixture in
            let client = try await SDKClient.connect(server.url)
            let refused = try await client.failure("connect_database", ["connection_string": .string(try DynamicConnections.url(database: fixture.databaseName))])
            #expect(refused.contains("PGMCP_ALLOW_DYNAMIC_CONNECTIONS"), "\(refused)")
            #expect(!refused.contains(try TestDatabase.password))
            await client.disconnect()
        }
    }

    @Test func aDynamicConnectionServesItsSessionAloneAndCloses() async throws {
        try await Fixture.withServer(settings: DynamicConnections.allowed()) { server, fixture in
            let client = try await SDKClient.connect(server.url)
            let connected = try await client.ok(
                "connect_database", ["connection_string": .string(try DynamicConnections.url(database: fixture.databaseName)), "name": "mine"])
            let entry = connected["database"]
            #expect(entry?["name"] == "mine")
            #expect(entry?["kind"] == "dynamic")
            #expect(entry?["active"] == true)
            #expect(entry?["readOnly"] == true)
            #expect(entry?["host"] == .string(try TestDatabase.host))
            #expect(entry?["status"] == "healthy")
            // Active: calls without 'database' use it; read-only unless asked.
            let rows = try await client.ok("query", ["sql": "SELECT count(*) FROM customers"])
            #expect(rows["database"] == "mine")
            #expect(rows["rows"] == [[50]])
            #expect(try await client.failure("execute", ["sql": "DELETE FROM customers"]).contains("read-only"))
            // Transactions work on it too.
            _ = try await client.ok("begin_transaction", [:])
            _ = try await client.ok("rollback_transaction", [:])

            // Another MCP session, and a handle of this one, see nothing of it.
            let other = try await SDKClient.connect(server.url)
            let names = try await other.ok("list_databases")["databases"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(names == ["dev", "ro"])
            #expect(try await other.failure("query", ["sql": "SELECT 1", "database": "mine"]).contains("unknown database 'mine'"))
            let pools = try await other.ok("server_status")["pools"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(pools == ["dev", "ro"])
            let handle = try #require(try await client.ok("open_session", [:])["session"]?.stringValue)
            let fromHandle = try await client.failure("query", ["sql": "SELECT 1", "database": "mine", "session": .string(handle)])
            #expect(fromHandle.contains("unknown database 'mine'"))

            // Read-write when asked; one name per session.
            _ = try await client.ok(
                "connect_database",
                ["connection_string": .string(try DynamicConnections.url(database: fixture.databaseName)), "name": "mine-rw", "read_only": false])
            _ = try await client.ok("execute", ["sql": "UPDATE customers SET name = name WHERE id = 1"])
            let twice = try await client.failure(
                "connect_database", ["connection_string": .string(try DynamicConnections.url(database: fixture.databaseName)), "name": "mine"])
            #expect(twice.contains("already has a connection named 'mine'"), "\(twice)")

            let closed = try await client.ok("disconnect_database", ["name": "mine-rw"])
            #expect(closed["activeDatabase"] == "dev")
            _ = try await client.ok("disconnect_database", ["name": "mine"])
            let left = try await client.ok("list_databases")["databases"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(left == ["dev", "ro"])
            // Back on the default, but not as a choice: an unnamed write is refused, as in a fresh session.
            let unnamed = try await client.failure("execute", ["sql": "UPDATE customers SET name = name WHERE id = 1"])
            #expect(unnamed.contains("no database was named or selected"), "\(unnamed)")
            // A connection that fails leaves the session's choice as it was.
            _ = try await client.ok("select_database", ["database": "ro"])
            let failed = try await client.failure(
                "connect_database", ["connection_string": .string(try DynamicConnections.url(database: fixture.databaseName, password: "wrong")), "name": "bad"])
            #expect(failed.contains("password authentication failed"), "\(failed)")
            #expect(try await client.ok("current_database")["database"] == "ro")
            await other.disconnect()
            await client.disconnect()
        }
    }

    @Test func everyRefusalNamesItsRule() async throws {
        try await Fixture.withServer(settings: DynamicConnections.allowed { $0.sessionMaxDynamic = 1 }) { server, fixture in
            let client = try await SDKClient.connect(server.url)
            let database = fixture.databaseName
            let cases: [(String, String)] = [
                (try DynamicConnections.url(database: database, host: "10.9.8.7"), "PGMCP_DYNAMIC_ALLOWED_HOSTS"),
                ("host=/tmp dbname=\(database) user=\(try TestDatabase.user)", "no unix socket"),
                ("host=127.0.0.1,127.0.0.2 dbname=\(database)", "one host"),
                ("host=127.0.0.1 hostaddr=127.0.0.1 dbname=\(database)", "hostaddr"),
                ("host=127.0.0.1 dbname=\(database) passfile=/etc/passwd", "passfile"),
                ("host=127.0.0.1 dbname=\(database) options='-c default_transaction_read_only=off'", "options"),
            ]
            for (string, rule) in cases {
                let refused = try await client.failure("connect_database", ["connection_string": .string(string)])
                #expect(refused.contains(rule), "\(string): \(refused)")
                #expect(!refused.contains(try TestDatabase.password), "\(refused)")
            }
            // The per-session maximum.
            _ = try await client.ok("connect_database", ["connection_string": .string(try DynamicConnections.url(database: database)), "name": "one"])
            let second = try await client.failure("connect_database", ["connection_string": .string(try DynamicConnections.url(database: database)), "name": "two"])
            #expect(second.contains("PGMCP_SESSION_MAX_DYNAMIC"), "\(second)")
            await client.disconnect()
        }
        // TLS required (the default): a string without sslmode=require is refused before any connection.
        // A name allowed by name that resolves into loopback (where the server's own services listen).
        try await Fixture.withServer(
            settings: DynamicConnections.allowed {
                $0.dynamicRequireSSL = true
                $0.dynamicAllowedHosts = [HostPattern("localhost")!, HostPattern("127.0.0.1")!]
            }
        ) { server, fixture in
            let client = try await SDKClient.connect(server.url)
            let plain = try await client.failure("connect_database", ["connection_string": .string(try DynamicConnections.url(database: fixture.databaseName))])
            #expect(plain.contains("PGMCP_DYNAMIC_REQUIRE_SSL"), "\(plain)")
            #expect(plain.contains("sslmode=require"), "\(plain)")
            await client.disconnect()
        }
        try await Fixture.withServer(settings: DynamicConnections.allowed { $0.dynamicAllowedHosts = [HostPattern("localhost")!] }) { server, fixture in
            let client = try await SDKClient.connect(server.url)
            let rebound = try await client.failure(
                "connect_database", ["connection_string": .string(try DynamicConnections.url(database: fixture.databaseName, host: "localhost"))])
            #expect(rebound.contains("PGMCP_DYNAMIC_ALLOWED_HOSTS"), "\(rebound)")
            #expect(rebound.contains("loopback"), "\(rebound)")
            await client.disconnect()
        }
    }

    /// Hostile passwords (every character libpq, URLs or JSON treat specially) never come back in
    /// any result or error, connected or refused.
    @Test func noPieceOfThePasswordInAnyOutput() async throws {
        try await Fixture.withServer(settings: DynamicConnections.allowed()) { server, fixture in
            let client = try await SDKClient.connect(server.url)
            for password in [SecretFragments.passwords.last!, "Leak1'\"@:/?#%Tail2"] {
                try await TestDatabase.withRole(password: password) { role in
                    let string = "postgresql://\(role):\(SecretFragments.percentEncoded(password))@127.0.0.1:\(try TestDatabase.port)/\(fixture.databaseName)"
                    var outputs: [String] = []
                    let connected = try await client.call("connect_database", ["connection_string": .string(string), "name": "hostile"])
                    #expect(!connected.isError, "\(connected.text)")
                    outputs.append(connected.text)
                    for tool in ["list_databases", "current_database", "server_status"] { outputs.append(try await client.call(tool).text) }
                    outputs.append(try await client.call("query", ["sql": "SELECT current_user"]).text)
                    outputs.append(try await client.call("disconnect_database", ["name": "hostile"]).text)
                    // Refused and failed ones too: a wrong password, a refused option, a refused host.
                    let wrong = string.replacingOccurrences(of: "Tail2", with: "Tial2")
                    let failed = try await client.call("connect_database", ["connection_string": .string(wrong), "name": "wrong"])
                    #expect(failed.isError)
                    outputs.append(failed.text)
                    outputs.append(try await client.call("connect_database", ["connection_string": .string(string + "?service=x")]).text)
                    outputs.append(try await client.call("connect_database", ["connection_string": .string(string.replacingOccurrences(of: "127.0.0.1", with: "10.1.1.1"))]).text)
                    let all = SecretFragments.withoutNonces(outputs.joined(separator: "\n"))
                    #expect(
                        SecretFragments.leaked(
                            password, written: SecretFragments.percentEncoded(password), in: all, context: "\(role) \(fixture.databaseName) \(try TestDatabase.port)") == [],
                        "\(all)")
                }
            }
            await client.disconnect()
        }
    }
}
