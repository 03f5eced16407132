import PGClient
import TestSupport
import Testing

/// `executeCommitted`, `endTransaction` and `reset`: whatever a statement sets for the session is
/// undone in the same sync as the statement (what a transaction-mode pooler needs).
@Suite("Committed statements and resets in one sync") struct CommittedStatementTests {
    /// What the session holds that a statement may have set: settings, locks, temporary tables,
    /// channels listened to, prepared statements, cursors.
    func leftovers(_ connection: PGConnection) async throws -> [String] {
        let result = try await connection.query("""
            SELECT current_setting('search_path'), current_setting('statement_timeout'), current_user::text,
                   (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())::text,
                   (SELECT count(*) FROM pg_class WHERE relpersistence = 't')::text,
                   (SELECT count(*) FROM pg_listening_channels())::text,
                   (SELECT count(*) FROM pg_prepared_statements)::text,
                   (SELECT count(*) FROM pg_cursors)::text
            """)
        return result.rows[0].map { $0.stringValue ?? "" }
    }

    @Test func aCommittedStatementLeavesNothingOfItsSessionBehind() async throws {
        try await TestDatabase.withConnection { connection in
            let clean = try await leftovers(connection)
            for sql in [
                "SET search_path TO pg_catalog", "SET statement_timeout = 1234", "SELECT pg_advisory_lock(424242)",
                "CREATE TEMP TABLE committed_temp (x int)", "LISTEN committed_channel", "PREPARE committed_plan AS SELECT 1",
                "DECLARE committed_cursor CURSOR WITH HOLD FOR SELECT 1", "SET ROLE pg_read_all_data",
            ] {
                let (command, _) = try await connection.executeCommitted(PGStatement(sql), statementTimeoutMs: 5000, into: DiscardingSink())
                #expect(!command.commandTag.isEmpty, "\(sql)")
                #expect(connection.isReset, "\(sql)")
                #expect(connection.transactionStatus == .idle)
                #expect(try await leftovers(connection) == clean, "\(sql)")
            }
        }
    }

    @Test func theStatementCommitsUnderItsTimeout() async throws {
        let name = try await TestDatabase.createScratchDatabase(prefix: "committed")
        defer { Task { try? await TestDatabase.dropDatabase(name) } }
        try await TestDatabase.withConnection(database: name) { connection in
            _ = try await connection.executeCommitted(PGStatement("CREATE TABLE t (x int)"), statementTimeoutMs: 5000, into: DiscardingSink())
            let (insert, _) = try await connection.executeCommitted(PGStatement("INSERT INTO t VALUES (1), (2)"), statementTimeoutMs: 5000, into: DiscardingSink())
            #expect(insert.rowsAffected == 2)
            let seen = try await TestDatabase.withConnection(database: name) { try await $0.query("SELECT count(*) FROM t").rows }
            #expect(seen == [[2]])
            let slow = try await #require(throws: PGError.self) {
                try await connection.executeCommitted(PGStatement("SELECT pg_sleep(5)"), statementTimeoutMs: 100, into: DiscardingSink())
            }
            #expect(slow.sqlState == PGError.queryCanceledState)
            // A failed statement leaves its transaction aborted until the pool's reset ends it.
            try await connection.reset()
            #expect(connection.isReset && connection.transactionStatus == .idle)
        }
    }

    @Test func statementsRefusedInATransactionBlockRunOnTheirOwn() async throws {
        let name = try await TestDatabase.createScratchDatabase(prefix: "committed")
        defer { Task { try? await TestDatabase.dropDatabase(name) } }
        try await TestDatabase.withConnection(database: name) { connection in
            _ = try await connection.executeCommitted(PGStatement("CREATE TABLE t (x int)"), statementTimeoutMs: 5000, into: DiscardingSink())
            for (sql, tag) in [("VACUUM t", "VACUUM"), ("CREATE INDEX CONCURRENTLY t_x ON t (x)", "CREATE INDEX")] {
                for sessionTimeout in [true, false] {
                    let (command, _) = try await connection.executeCommitted(
                        PGStatement(sql), statementTimeoutMs: 5000, sessionTimeout: sessionTimeout, into: DiscardingSink())
                    #expect(command.commandTag == tag)
                    #expect(connection.isReset)
                    #expect(try await connection.query("SHOW statement_timeout").rows == [["0"]])
                    if tag == "CREATE INDEX" { _ = try await connection.executeCommitted(PGStatement("DROP INDEX t_x"), statementTimeoutMs: 5000, into: DiscardingSink()) }
                }
            }
            // Alone, the statement still has its timeout when a session setting is allowed.
            let slow = try await #require(throws: PGError.self) {
                try await connection.executeCommitted(
                    PGStatement("CREATE INDEX CONCURRENTLY t_slow ON t ((x + pg_sleep(1)::text::int))"), statementTimeoutMs: 100, into: DiscardingSink())
            }
            #expect(slow.sqlState != nil)
        }
    }

    @Test func endingATransactionResetsTheSessionInTheSameSync() async throws {
        let name = try await TestDatabase.createScratchDatabase(prefix: "committed")
        defer { Task { try? await TestDatabase.dropDatabase(name) } }
        try await TestDatabase.withConnection(database: name) { connection in
            try await connection.command("CREATE TABLE t (x int)")
            let clean = try await leftovers(connection)
            for commit in [true, false] {
                try await connection.command("BEGIN")
                try await connection.command("INSERT INTO t VALUES (1)")
                try await connection.command("SET search_path TO pg_catalog")
                try await connection.command("SELECT pg_advisory_lock(77)")
                let end = try await connection.endTransaction(commit: commit)
                #expect(end.commandTag == (commit ? "COMMIT" : "ROLLBACK"))
                #expect(connection.isReset)
                #expect(try await leftovers(connection) == clean)
            }
            #expect(try await connection.query("SELECT count(*) FROM public.t").rows == [[1]])
            // Committing a failed transaction rolls it back and says so.
            try await connection.command("BEGIN")
            _ = try? await connection.command("SELECT 1/0")
            #expect(try await connection.endTransaction(commit: true).commandTag == "ROLLBACK")
            #expect(connection.transactionStatus == .idle && connection.isReset)
        }
    }
}
