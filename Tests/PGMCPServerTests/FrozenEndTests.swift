import Foundation
import MCPTestSupport
import PGMCPJSON
import TestSupport
import Testing

/// Ending something — a session (DELETE, close_session), a transaction — answers within a deadline of
/// ours however PostgreSQL behaves: here the backends are stopped (SIGSTOP) under open transactions.
/// The grace period (PGMCP_CONNECT_TIMEOUT) is 1 s; before, each frozen connection cost a grace
/// period of its own, one after the other, and a rollback a whole statement timeout.
@Suite("Ends with a frozen backend", .serialized) struct FrozenEndTests {
    /// The backends of the transactions open on the fixture's database, `count` of them.
    func transactionBackends(_ fixture: Fixture, count: Int) async throws -> [Int32] {
        let find = "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%' ORDER BY pid"
        #expect(try await eventually { try await TestDatabase.rows(find, [fixture.databaseName]).count == count })
        return try await TestDatabase.rows(find, [fixture.databaseName]).compactMap { $0.first?.intValue.map(Int32.init) }
    }

    /// Opens a transaction on each of `databases` in `session` (`session` argument: a handle, or nil
    /// for the transport session itself); the one on `dev` holds a row lock.
    func openTransactions(_ url: String, transport: String, handle: String? = nil, on databases: [String]) async throws {
        let session: JSONValue = handle.map { .string($0) } ?? .null
        for database in databases {
            let arguments: JSONValue = ["database": .string(database), "session": session, "read_only": database == "dev" ? false : true]
            let begun = try await RawHTTP.call(url, session: transport, tool: "begin_transaction", arguments: arguments)
            #expect(begun.body.contains(#""status":"open""#), "\(begun.body)")
        }
        guard databases.contains("dev") else { return }
        let update = try await RawHTTP.call(
            url, session: transport, tool: "execute", arguments: ["sql": "UPDATE customers SET name = 'frozen' WHERE id = 1", "database": "dev", "session": session])
        #expect(update.body.contains(#""rowsAffected":1"#), "\(update.body)")
    }

    /// Freezes every backend of `pids` while `work` runs; returns how long `work` took.
    func timedWhileFrozen(_ pids: [Int32], _ work: () async throws -> Void) async throws -> Duration {
        guard let pid = pids.first else {
            let started = ContinuousClock.now
            try await work()
            return ContinuousClock.now - started
        }
        return try await whileFrozen(pid) { try await timedWhileFrozen(Array(pids.dropFirst()), work) }
    }

    /// Thawed, PostgreSQL finds the abandoned connections closed and rolls their transactions back.
    func expectRowLockFreed(_ fixture: Fixture) async throws {
        #expect(
            try await eventually {
                try await TestDatabase.canLock(database: fixture.databaseName, "UPDATE customers SET name = name WHERE id = 1", lockTimeoutMs: 200)
            })
    }

    @Test func deleteOfASessionWhoseTransactionsAreFrozenAnswersWithinOneGracePeriod() async throws {
        try await Fixture.withServer(settings: { $0.connectTimeout = .seconds(1) }) { server, fixture in
            let url = server.url.absoluteString
            let session = try await RawHTTP.openSession(url)
            try await openTransactions(url, transport: session, on: ["dev", "ro"])
            let pids = try await transactionBackends(fixture, count: 2)
            let elapsed = try await timedWhileFrozen(pids) {
                let reply = try await RawHTTP.send("DELETE", url, headers: RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": session]) { $1 })
                #expect(reply.status == 200)
            }
            #expect(elapsed < .milliseconds(1800), "DELETE took \(elapsed)")
            try await expectRowLockFreed(fixture)
            let gone = try await RawHTTP.call(url, session: session, tool: "current_database", arguments: [:])
            #expect(gone.status == 404)
        }
    }

    /// With the default grace period (5 s), a client that gives DELETE 5 s must still get its answer:
    /// DELETE waits for the end at most a second, and the end goes on, bounded, after it answered.
    @Test func deleteAnswersWithinASecondWhateverTheGracePeriod() async throws {
        try await Fixture.withServer(settings: { $0.connectTimeout = .seconds(5) }) { server, fixture in
            let url = server.url.absoluteString
            let session = try await RawHTTP.openSession(url)
            try await openTransactions(url, transport: session, on: ["dev"])
            let pids = try await transactionBackends(fixture, count: 1)
            let elapsed = try await timedWhileFrozen(pids) {
                let reply = try await RawHTTP.send("DELETE", url, headers: RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": session]) { $1 })
                #expect(reply.status == 200)
                // Already gone for every request, while its end goes on.
                let gone = try await RawHTTP.call(url, session: session, tool: "current_database", arguments: [:])
                #expect(gone.status == 404)
            }
            #expect(elapsed < .milliseconds(2500), "DELETE took \(elapsed)")
            try await expectRowLockFreed(fixture)
        }
    }

    @Test func closeSessionWithAFrozenTransactionAndAFrozenCallAnswersWithinOneGracePeriod() async throws {
        try await Fixture.withServer(settings: { $0.connectTimeout = .seconds(1) }) { server, fixture in
            let url = server.url.absoluteString
            let transport = try await RawHTTP.openSession(url)
            let opened = try await RawHTTP.call(url, session: transport, tool: "open_session", arguments: [:])
            let handle = try #require(opened.json?["result"]?["structuredContent"]?["session"]?.stringValue)
            try await openTransactions(url, transport: transport, handle: handle, on: ["dev"])
            // A call of the same session on another connection, running when its backend freezes.
            let sleeping = "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query LIKE '%frozen-call */'"
            let call = Task {
                try? await RawHTTP.call(
                    url, session: transport, id: 3, tool: "query", arguments: ["sql": "SELECT pg_sleep(20) /* frozen-call */", "database": "ro", "session": .string(handle)])
            }
            #expect(try await eventually { try await TestDatabase.rows(sleeping, [fixture.databaseName]).count == 1 })
            let pids = try await transactionBackends(fixture, count: 1) + TestDatabase.rows(sleeping, [fixture.databaseName]).compactMap { $0.first?.intValue.map(Int32.init) }
            let elapsed = try await timedWhileFrozen(pids) {
                let closed = try await RawHTTP.call(url, session: transport, id: 4, tool: "close_session", arguments: ["session": .string(handle)])
                #expect(closed.body.contains(#""closed""#), "\(closed.body)")
            }
            #expect(elapsed < .milliseconds(1800), "close_session took \(elapsed)")
            _ = await call.value
            try await expectRowLockFreed(fixture)
        }
    }

    @Test func rollbackOfATransactionWhoseBackendIsFrozenAnswersWithinTheGracePeriod() async throws {
        // The statement timeout (30 s here) is a COMMIT's, which may run deferred triggers; a rollback
        // is given the grace period only.
        try await Fixture.withServer(settings: { $0.connectTimeout = .seconds(1) }) { server, fixture in
            let url = server.url.absoluteString
            let session = try await RawHTTP.openSession(url)
            try await openTransactions(url, transport: session, on: ["dev"])
            let pids = try await transactionBackends(fixture, count: 1)
            let elapsed = try await timedWhileFrozen(pids) {
                let rolledBack = try await RawHTTP.call(url, session: session, tool: "rollback_transaction", arguments: ["database": "dev"])
                #expect(rolledBack.body.contains(#""outcome":"rolled_back""#), "\(rolledBack.body)")
            }
            #expect(elapsed < .seconds(3), "rollback_transaction took \(elapsed)")
            try await expectRowLockFreed(fixture)
            // The session goes on, on a fresh connection.
            let next = try await RawHTTP.call(url, session: session, tool: "query", arguments: ["sql": "SELECT 1", "database": "dev"])
            #expect(next.body.contains(#""rows":[[1]]"#), "\(next.body)")
        }
    }
}
