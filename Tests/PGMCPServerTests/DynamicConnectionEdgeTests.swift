import Foundation
import MCPTestSupport
import PGMCPJSON
import TestSupport
import Testing

/// connect_database / disconnect_database at their edges, over real HTTP: a disconnect while
/// statements run on the connection.
@Suite("Dynamic connections at their edges", .serialized) struct DynamicConnectionEdgeTests {
    func connect(_ url: String, _ session: String, _ fixture: Fixture, name: String?, id: Int = 2) async throws -> RawHTTP.Reply {
        var arguments: [String: JSONValue] = ["connection_string": .string(try DynamicConnections.url(database: fixture.databaseName)), "read_only": false]
        if let name { arguments["name"] = .string(name) }
        return try await RawHTTP.call(url, session: session, id: id, tool: "connect_database", arguments: .object(JSONObject(arguments.map { ($0.key, $0.value) })))
    }

    @Test func disconnectCancelsTheStatementsRunningOnItInsteadOfWaitingThemOut() async throws {
        try await Fixture.withServer(settings: DynamicConnections.allowed()) { server, fixture in
            let url = server.url.absoluteString
            let session = try await RawHTTP.openSession(url)
            let connected = try await connect(url, session, fixture, name: "mine")
            #expect(connected.body.contains(#""kind":"dynamic""#), "\(connected.body)")
            // A statement of its own (running before the transaction opens, so not in it), and one
            // inside a transaction on it that holds a row lock.
            let sleeping = "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query LIKE '%/* dyn-%' AND state = 'active'"
            let plain = Task {
                try await RawHTTP.call(url, session: session, id: 3, tool: "query", arguments: ["sql": "SELECT pg_sleep(20) /* dyn-plain */", "database": "mine"])
            }
            #expect(try await eventually { try await TestDatabase.rows(sleeping, [fixture.databaseName]) == [[1]] })
            _ = try await RawHTTP.call(url, session: session, id: 5, tool: "begin_transaction", arguments: ["database": "mine", "read_only": false])
            _ = try await RawHTTP.call(url, session: session, id: 6, tool: "execute", arguments: ["sql": "UPDATE customers SET name = 'dyn' WHERE id = 1", "database": "mine"])
            let inTransaction = Task {
                try await RawHTTP.call(url, session: session, id: 7, tool: "execute", arguments: ["sql": "SELECT pg_sleep(20) /* dyn-tx */", "database": "mine"])
            }
            #expect(try await eventually { try await TestDatabase.rows(sleeping, [fixture.databaseName]) == [[2]] })
            let started = ContinuousClock.now
            let closed = try await RawHTTP.call(url, session: session, id: 8, tool: "disconnect_database", arguments: ["name": "mine"])
            let elapsed = ContinuousClock.now - started
            #expect(closed.body.contains(#""disconnected":"mine""#), "\(closed.body)")
            #expect(elapsed < .seconds(3), "disconnect_database took \(elapsed)")
            #expect(try await TestDatabase.rows(sleeping, [fixture.databaseName]) == [[0]])
            // Each cancelled call says why.
            for call in [plain, inTransaction] {
                let reply = try await call.value
                #expect(reply.body.contains(#""isError":true"#), "\(reply.body)")
                #expect(reply.body.contains("disconnect_database"), "\(reply.body)")
            }
            // Its transaction was rolled back: the row is free and unchanged.
            #expect(try await TestDatabase.canLock(database: fixture.databaseName, "UPDATE customers SET name = name WHERE id = 1", lockTimeoutMs: 2000))
            #expect(try await TestDatabase.withConnection(database: fixture.databaseName) { try await $0.query("SELECT count(*) FROM customers WHERE name = 'dyn'").rows } == [[0]])
        }
    }

    /// A tools/call in `session` as the holder of `token`; the result object.
    func call(_ url: String, _ session: String, _ token: String, _ tool: String, _ arguments: JSONValue) async throws -> JSONValue {
        let body: JSONValue = ["jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": ["name": .string(tool), "arguments": arguments]]
        let reply = try await RawHTTP.send(
            "POST", url, body: body.jsonText, headers: RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": session, "Authorization": "Bearer \(token)"]) { $1 })
        return reply.json?["result"] ?? .null
    }

    @Test func aConfiguredNameHiddenFromTheCallerLooksNeverConfiguredAndADefaultNameIsMadeUnique() async throws {
        // Entry `dev` is renamed to the fixture database's own name (the default name of a connection
        // string naming it) and seen only by group dba; bob is not in it, carol is.
        try await OAuthTests.withIssuer { issuer in
            var hidden = ""
            try await Fixture.withServer(
                entries: { fixture in
                    hidden = fixture.databaseName
                    fixture.dev.id = fixture.databaseName
                    fixture.dev.allowedPrincipals = ["group:dba"]
                    fixture.ro.allowedPrincipals = ["*"]
                },
                settings: DynamicConnections.allowed { settings in
                    settings.oauthIssuer = issuer.name
                    settings.oauthAudience = OAuthTests.audience
                    settings.oauthRequiredScopes = ["pgmcp"]
                }
            ) { server, fixture in
                let url = server.url.absoluteString
                let string = JSONValue.string(try DynamicConnections.url(database: fixture.databaseName))
                let bob = try await OAuthTests().token(issuer, subject: "bob", groups: [])
                let carol = try await OAuthTests().token(issuer, subject: "carol", groups: ["dba"])
                let bobs = try await RawHTTP.openSession(url, headers: RawHTTP.mcpHeaders.merging(["Authorization": "Bearer \(bob)"]) { $1 })
                let carols = try await RawHTTP.openSession(url, headers: RawHTTP.mcpHeaders.merging(["Authorization": "Bearer \(carol)"]) { $1 })
                // To bob the name was never configured: the default name is his as it is, and so is an explicit one.
                let byDefault = try await call(url, bobs, bob, "connect_database", ["connection_string": string])
                #expect(byDefault["structuredContent"]?["database"]?["name"] == .string(hidden), "\(byDefault)")
                let never = try await call(url, bobs, bob, "connect_database", ["connection_string": string, "name": "never-configured"])
                #expect(never["isError"] == false, "\(never)")
                _ = try await call(url, bobs, bob, "disconnect_database", ["name": .string(hidden)])
                let explicit = try await call(url, bobs, bob, "connect_database", ["connection_string": string, "name": .string(hidden)])
                #expect(explicit["isError"] == false, "\(explicit)")
                // Taken by his own connection now: a default name becomes unique; an explicit one is refused as for any name.
                let again = try await call(url, bobs, bob, "connect_database", ["connection_string": string])
                #expect(again["structuredContent"]?["database"]?["name"] == .string(hidden + "-2"), "\(again)")
                // The name means his connection (read-only), never the hidden entry (read-write for dba).
                let write = try await call(url, bobs, bob, "execute", ["sql": "UPDATE customers SET name = name WHERE id = 1", "database": .string(hidden)])
                #expect(write["content"]?.arrayValue?.first?["text"]?.stringValue?.contains("read-only") == true, "\(write)")
                let listed = try await call(url, bobs, bob, "list_databases", [:])["structuredContent"]?["databases"]?.arrayValue ?? []
                #expect(listed.filter { $0["name"] == .string(hidden) }.map { $0["kind"] } == ["dynamic"], "\(listed)")
                // Carol sees the entry: her default name is made unique, her explicit one refused.
                let carolsDefault = try await call(url, carols, carol, "connect_database", ["connection_string": string])
                #expect(carolsDefault["structuredContent"]?["database"]?["name"] == .string(hidden + "-2"), "\(carolsDefault)")
                let carolsExplicit = try await call(url, carols, carol, "connect_database", ["connection_string": string, "name": .string(hidden)])
                #expect(carolsExplicit["content"]?.arrayValue?.first?["text"]?.stringValue?.contains("is the name of a configured database") == true)
            }
        }
    }
}
