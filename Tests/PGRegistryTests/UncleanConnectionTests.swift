import Foundation
import PGClient
import PGConfig
import PGRegistry
import TestSupport
import Testing

/// A connection whose reset failed goes out of service: closed, logged, never handed to the next call.
@Suite("Connections whose reset failed", .serialized) struct UncleanConnectionTests {
    @Test func aConnectionWhoseResetFailedAfterACommitIsClosedAndLogged() async throws {
        // The reset's DISCARD TEMP waits for a lock another connection holds on the session's
        // temporary table, until the database's lock_timeout: a reset that fails whatever it does.
        let name = try await TestDatabase.createScratchDatabase(prefix: "unclean")
        do {
            try await closesAndLogs(database: name)
            try await TestDatabase.dropDatabase(name)
        } catch {
            try? await TestDatabase.dropDatabase(name)
            throw error
        }
    }

    func closesAndLogs(database name: String) async throws {
        try await TestDatabase.withConnection { try await $0.command("ALTER DATABASE \(name) SET lock_timeout = '300ms'") }
        try await TestDatabase.withConnection(database: name) { try await $0.command("CREATE TABLE t (x int)") }
        let log = CapturedLog()
        let configuration = Configuration(
            databases: [try TestDatabase.config(id: "main", database: name, readOnly: false)], source: "test", server: ServerSettings())
        let registry = ConnectionPoolRegistry(configuration: configuration, logger: log.logger, applicationName: TestDatabase.uniqueName("unclean"))
        Task { await registry.poolGroup.run() }
        let session = try registry.createSession(database: "main")
        let pid = try await registry.withConnection(session: session, access: .write) { connection, _ in
            try await connection.command("CREATE TEMP TABLE held (x int)")
            let schema = try await connection.query("SELECT pg_my_temp_schema()::regnamespace::text").rows[0][0].stringValue ?? "?"
            try await TestDatabase.withConnection(database: name) { other in
                try await other.command("BEGIN")
                try await other.command("LOCK TABLE \(schema).held IN ACCESS SHARE MODE")
                let (command, _) = try await connection.executeCommitted(PGStatement("INSERT INTO t VALUES (1)"), statementTimeoutMs: 5000, into: DiscardingSink())
                #expect(command.rowsAffected == 1)
                try await other.command("ROLLBACK")
            }
            return connection.backendPID
        }
        #expect(try await TestDatabase.withConnection(database: name) { try await $0.query("SELECT x FROM t").rows } == [[1]])
        // Closed (the lock is free by now, so a second reset would have passed and kept it).
        let alive = "SELECT count(*) FROM pg_stat_activity WHERE pid = $1"
        #expect(try await eventually { try await TestDatabase.rows(alive, [String(pid)]) == [[0]] })
        #expect(try await registry.withConnection(session: session) { connection, _ in connection.backendPID } != pid)
        #expect(log.messages.contains { $0.contains("closing a connection whose reset failed") && $0.contains("55P03") }, "\(log.messages)")
        await registry.shutdown()
    }
}
