import Foundation
import PGMCPJSON
import TestSupport
import Testing

/// connect_database / disconnect_database at their edges, over real HTTP: a disconnect while
/// statements run on the connection.
@Suite("Dynamic connections at their edges", .serialized) struct DynamicConnectionEdgeTests {
    func connect(_ url: String, _ session: String, _ fixture: Fixture, name: String?, id: Int = 2) async throws -> RawHTTP.Reply {
        var arguments: [String: JSONValue] = ["connection_string": .string(try DynamicConnectionToolsTests.url(database: fixture.databaseName)), "read_only": false]
        if let name { arguments["name"] = .string(name) }
        return try await RawHTTP.call(url, session: session, id: id, tool: "connect_database", arguments: .object(JSONObject(arguments.map { ($0.key, $0.value) })))
    }

    @Test func disconnectCancelsTheStatementsRunningOnItInsteadOfWaitingThemOut() async throws {
        try await Fixture.withServer(settings: DynamicConnectionToolsTests.allowed()) { server, fixture in
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
}
