import PGClient
import TestSupport
import Testing

/// The reset that shares a `COMMIT`'s sync: nothing the session set for itself makes it fail, and
/// when it fails anyway, the answer is still the commit's and the connection says so (its pool
/// closes it). Before, a failed reset turned a committed write into an error: a client retrying
/// it wrote twice.
@Suite("A reset after a COMMIT", .serialized) struct ResetFailureTests {
    /// Session defaults that make the first snapshot of every later transaction wait for a safe one
    /// (while `other` holds a serializable read-write transaction open), and a timeout that ends the
    /// wait with an error: the reset after the `COMMIT` used to be that transaction.
    static let hostileDefaults = [
        "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE", "SET statement_timeout = 300",
    ]

    /// Runs `body` while another connection holds a serializable read-write transaction open on
    /// `database`, so that a deferrable snapshot there has to wait.
    func withSerializableWriter<R>(_ database: String, _ body: () async throws -> R) async throws -> R {
        try await TestDatabase.withConnection(database: database) { other in
            try await other.command("BEGIN ISOLATION LEVEL SERIALIZABLE")
            try await other.command("SELECT count(*) FROM t")
            let result = try await body()
            try await other.command("ROLLBACK")
            return result
        }
    }

    @Test func sessionDefaultsTheTransactionLeftCannotFailTheResetAfterItsCommit() async throws {
        try await TestDatabase.withScratchDatabase(prefix: "reset") { connection, name in
            try await connection.command("CREATE TABLE t (x int)")
            try await withSerializableWriter(name) {
                try await connection.command("BEGIN")
                try await connection.command("INSERT INTO t VALUES (1)")
                for sql in Self.hostileDefaults { try await connection.command(sql) }
                #expect(try await connection.endTransaction(commit: true).commandTag == "COMMIT")
                #expect(connection.resetFailure == nil && connection.isReset)
                // One statement that sets the same for the session, then commits.
                let sets =
                    "SELECT set_config('default_transaction_isolation', 'serializable', false), set_config('default_transaction_deferrable', 'on', false), set_config('default_transaction_read_only', 'on', false), set_config('statement_timeout', '300', false) FROM (SELECT 1) AS one"
                _ = try await connection.executeCommitted(PGStatement("WITH ins AS (INSERT INTO t VALUES (2)) " + sets), statementTimeoutMs: 5000, into: DiscardingSink())
                #expect(connection.resetFailure == nil && connection.isReset)
                #expect(try await connection.query("SHOW default_transaction_isolation").rows == [["read committed"]])
            }
            let seen = try await TestDatabase.withConnection(database: name) { try await $0.query("SELECT x FROM t ORDER BY x").rows }
            #expect(seen == [[1], [2]])
        }
    }

    /// A reset that fails whatever it does: `DISCARD TEMP` waits for a lock another connection holds
    /// on the session's temporary table, until the database's own `lock_timeout`.
    func withTempTableLocked<R>(_ connection: PGConnection, database: String, _ body: () async throws -> R) async throws -> R {
        try await connection.command("CREATE TEMP TABLE held (x int)")
        let schema = try await connection.query("SELECT pg_my_temp_schema()::regnamespace::text").rows[0][0].stringValue ?? "?"
        return try await TestDatabase.withConnection(database: database) { other in
            try await other.command("BEGIN")
            try await other.command("LOCK TABLE \(schema).held IN ACCESS SHARE MODE")
            let result = try await body()
            try await other.command("ROLLBACK")
            return result
        }
    }

    /// A scratch database whose sessions have a lock timeout of their own (what `RESET ALL` goes back to).
    func withLockTimeoutDatabase(_ body: (PGConnection, String) async throws -> Void) async throws {
        let name = try await TestDatabase.createScratchDatabase(prefix: "reset")
        do {
            try await TestDatabase.withConnection { try await $0.command("ALTER DATABASE \(name) SET lock_timeout = '300ms'") }
            try await TestDatabase.withConnection(database: name) { try await $0.command("CREATE TABLE t (x int)") }
            try await TestDatabase.withConnection(database: name) { try await body($0, name) }
            try await TestDatabase.dropDatabase(name)
        } catch {
            try? await TestDatabase.dropDatabase(name)
            throw error
        }
    }

    @Test func aCommitThatSucceededIsReportedWhenTheResetAfterItFails() async throws {
        try await withLockTimeoutDatabase { connection, name in
            try await withTempTableLocked(connection, database: name) {
                try await connection.command("BEGIN")
                try await connection.command("INSERT INTO t VALUES (1)")
                #expect(try await connection.endTransaction(commit: true).commandTag == "COMMIT")
                #expect(connection.resetFailure?.sqlState == "55P03", "\(String(describing: connection.resetFailure))")
                #expect(!connection.isReset)
            }
            #expect(try await TestDatabase.withConnection(database: name) { try await $0.query("SELECT x FROM t").rows } == [[1]])
        }
    }

    @Test func aCommittedStatementIsReportedWhenTheResetAfterItFails() async throws {
        // In pgmcp's transaction, and run on its own (DO): the DO's work must be committed before the
        // reset, or a failed reset rolls it back after it was done.
        for (sql, value) in [("INSERT INTO t VALUES (2)", 2), ("DO $$ BEGIN INSERT INTO t VALUES (3); END $$", 3)] {
            try await withLockTimeoutDatabase { connection, name in
                try await withTempTableLocked(connection, database: name) {
                    let (command, _) = try await connection.executeCommitted(PGStatement(sql), statementTimeoutMs: 5000, into: DiscardingSink())
                    #expect(!command.commandTag.isEmpty, "\(sql)")
                    #expect(connection.resetFailure?.sqlState == "55P03", "\(sql): \(String(describing: connection.resetFailure))")
                }
                #expect(try await TestDatabase.withConnection(database: name) { try await $0.query("SELECT x FROM t").rows } == [[.int(Int64(value))]], "\(sql)")
            }
        }
    }

    @Test func aStatementStoppedEarlyIsNotAResetFailure() async throws {
        // The cancel that stops reading may land on the statements after it: that is not the reset failing.
        try await TestDatabase.withConnection { connection in
            for _ in 0..<20 {
                let (_, rows) = try await connection.readOnlyTransaction(
                    PGStatement("SELECT g FROM generate_series(1, 100000) AS g"), statementTimeoutMs: 5000, into: PGRowCollector(maxRows: 1))
                #expect(rows.rows.count == 1)
                #expect(connection.resetFailure == nil)
                if !connection.isReset { try await connection.reset() }
            }
        }
    }
}
