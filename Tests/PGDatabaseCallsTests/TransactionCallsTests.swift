import Foundation
import Logging
import PGClient
import PGConfig
import PGDatabaseCalls
import PGMCPJSON
import PGRegistry
import TestSupport
import Testing

/// Transactions across calls at the database-calls layer: what a lost COMMIT answer means, and
/// what shutdown does to an open transaction.
@Suite("Transaction calls", .serialized) struct TransactionCallsTests {
    func setup(statementTimeoutMs: Int = 500) async throws -> (DatabaseCalls, String) {
        let name = try await TestDatabase.createScratchDatabase(prefix: "txc")
        try await TestDatabase.withConnection(database: name) { try await $0.command("CREATE TABLE t (x int)") }
        var entry = try TestDatabase.config(id: "main", database: name, readOnly: false)
        entry.statementTimeoutMs = statementTimeoutMs
        var settings = ServerSettings()
        settings.connectTimeout = .seconds(1)
        settings.acquireTimeout = .seconds(5)
        return (testCalls([entry], settings: settings, prefix: "txc"), name)
    }

    func rows(_ database: String) async throws -> [[JSONValue]] {
        try await TestDatabase.withConnection(database: database) { try await $0.query("SELECT x FROM t ORDER BY x").rows }
    }

    /// A COMMIT whose answer never comes (the backend frozen) is reported as unknown: never as
    /// committed, never as rolled back.
    @Test func aCommitWhoseAnswerIsLostIsReportedAsUnknown() async throws {
        let (calls, database) = try await setup()
        let session = try calls.registry.createSession()
        _ = try await calls.beginTransaction(session: session, database: nil, readOnly: false)
        _ = try await calls.execute(session: session, database: nil, sql: "INSERT INTO t VALUES (1)", parameters: [])
        let pid = try #require(
            try await calls.query(session: session, database: nil, sql: "SELECT pg_backend_pid()", parameters: [], maxRows: nil)
                .table.rows.first?.arrayValue?.first?.intValue)
        let error = try await whileFrozen(Int32(pid)) {
            try await #require(throws: DatabaseCallError.self) { try await calls.commitTransaction(session: session, database: nil) }
        }
        #expect(error.message.contains("outcome of COMMIT on 'main' is unknown"), "\(error.message)")
        #expect(error.message.contains("check the data"), "\(error.message)")
        // The session is free of it: a new transaction opens.
        _ = try await calls.beginTransaction(session: session, database: nil, readOnly: true)
        await calls.registry.shutdown()
        try await TestDatabase.dropDatabase(database)
    }

    /// `idleSeconds` compares the transaction's last use with the clock that stamped it, the
    /// registry's: a registry an hour behind the system's clock still reports a transaction just used
    /// as idle for no time (it said 3600 s).
    @Test func idleSecondsAreMeasuredOnTheRegistrysClock() async throws {
        let name = try await TestDatabase.createScratchDatabase(prefix: "txc")
        let entry = try TestDatabase.config(id: "main", database: name, readOnly: false)
        let calls = testCalls([entry], prefix: "txc", clock: { ContinuousClock.now - .seconds(3600) })
        let registry = calls.registry
        let session = try registry.createSession()
        let info = try await calls.beginTransaction(session: session, database: nil, readOnly: true)
        #expect(info.idleSeconds < 60, "\(info.idleSeconds)")
        #expect(try #require(calls.openTransaction(session: session, database: "main")).idleSeconds < 60)
        await registry.shutdown()
        try await TestDatabase.dropDatabase(name)
    }

    @Test func shutdownRollsBackOpenTransactions() async throws {
        let (calls, database) = try await setup()
        let session = try calls.registry.createSession()
        _ = try await calls.beginTransaction(session: session, database: nil, readOnly: false)
        _ = try await calls.execute(session: session, database: nil, sql: "INSERT INTO t VALUES (2)", parameters: [])
        await calls.registry.shutdown()
        #expect(try await rows(database) == [])
        try await TestDatabase.dropDatabase(database)
    }
}
