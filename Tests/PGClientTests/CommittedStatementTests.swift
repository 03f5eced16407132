import PGClient
import TestSupport
import Testing

/// `executeCommitted`, `endTransaction` and `reset`: whatever a statement sets for the session is
/// undone in the same sync as the statement (what a transaction-mode pooler needs).
@Suite("Committed statements and resets in one sync") struct CommittedStatementTests {
    /// What the session holds that a statement may have set: settings, locks, temporary tables,
    /// channels listened to, prepared statements, cursors.
    func leftovers(_ connection: PGConnection) async throws -> [String] {
        let result = try await connection.query(
            """
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
                let command = try await connection.committed(sql)
                #expect(!command.commandTag.isEmpty, "\(sql)")
                #expect(connection.isReset, "\(sql)")
                #expect(connection.transactionStatus == .idle)
                #expect(try await leftovers(connection) == clean, "\(sql)")
            }
        }
    }

    @Test func theStatementCommitsUnderItsTimeout() async throws {
        try await TestDatabase.withScratchDatabase(prefix: "committed") { connection, name in
            _ = try await connection.committed("CREATE TABLE t (x int)")
            let insert = try await connection.committed("INSERT INTO t VALUES (1), (2)")
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
        try await TestDatabase.withScratchDatabase(prefix: "committed") { connection, name in
            _ = try await connection.committed("CREATE TABLE t (x int)")
            for (sql, tag) in [("VACUUM t", "VACUUM"), ("CREATE INDEX CONCURRENTLY t_x ON t (x)", "CREATE INDEX")] {
                for sessionTimeout in [true, false] {
                    let (command, _) = try await connection.executeCommitted(
                        PGStatement(sql), statementTimeoutMs: 5000, sessionTimeout: sessionTimeout, into: DiscardingSink())
                    #expect(command.commandTag == tag)
                    #expect(connection.isReset)
                    #expect(try await connection.query("SHOW statement_timeout").rows == [["0"]])
                    if tag == "CREATE INDEX" { _ = try await connection.committed("DROP INDEX t_x") }
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
        try await TestDatabase.withScratchDatabase(prefix: "committed") { connection, name in
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

    @Test func aStatementRetriedOutsideATransactionIsResetInItsOwnSyncAndAnswersOnce() async throws {
        try await TestDatabase.withScratchDatabase(prefix: "committed") { connection, name in
            // Refused (25001) inside pgmcp's transaction (its SET LOCAL statement_timeout is seen);
            // alone, as behind a pooler (no session timeout), it succeeds and plants state a pooler
            // would hand to the next client.
            try await connection.command(
                """
                CREATE FUNCTION plant() RETURNS int LANGUAGE plpgsql AS $$
                BEGIN
                  IF current_setting('statement_timeout') <> '0' THEN RAISE SQLSTATE '25001'; END IF;
                  PERFORM set_config('search_path', 'pg_catalog', false);
                  PERFORM pg_advisory_lock(31337);
                  CREATE TEMP TABLE planted (x int);
                  RETURN 1;
                END $$
                """)
            let clean = try await leftovers(connection)
            let (_, rows) = try await connection.executeCommitted(
                PGStatement("SELECT plant()"), statementTimeoutMs: 5000, sessionTimeout: false, into: PGRowCollector())
            #expect(rows.rows == [[1]])
            #expect(connection.isReset)
            #expect(try await leftovers(connection) == clean)
        }
    }

    @Test func procedureAndDOBlocksThatCommitRun() async throws {
        try await TestDatabase.withScratchDatabase(prefix: "committed") { connection, name in
            try await connection.command("CREATE TABLE t (x int)")
            try await connection.command("CREATE PROCEDURE batch() LANGUAGE plpgsql AS $$ BEGIN INSERT INTO t VALUES (1); COMMIT; INSERT INTO t VALUES (2); END $$")
            let clean = try await leftovers(connection)
            for sql in ["CALL batch()", "DO $$ BEGIN INSERT INTO t VALUES (3); COMMIT; PERFORM set_config('search_path', 'pg_catalog', false); END $$"] {
                _ = try await connection.committed(sql)
                #expect(connection.isReset)
                #expect(try await leftovers(connection) == clean)
            }
            #expect(try await connection.query("SELECT x FROM t ORDER BY x").rows == [[1], [2], [3]])
        }
    }

    @Test func theResetCannotBeReplacedThroughTheSearchPath() async throws {
        try await TestDatabase.withScratchDatabase(prefix: "committed") { connection, name in
            try await connection.command("CREATE SCHEMA evil")
            try await connection.command("CREATE FUNCTION evil.pg_advisory_unlock_all() RETURNS void LANGUAGE sql AS ''")
            try await connection.command("CREATE FUNCTION evil.setseed(float8) RETURNS void LANGUAGE sql AS ''")
            let clean = try await leftovers(connection)
            try await connection.committed("SELECT pg_advisory_lock(5), set_config('search_path', 'evil, pg_catalog', false)")
            #expect(try await leftovers(connection) == clean)
            try await connection.command("BEGIN")
            try await connection.command("SELECT pg_advisory_lock(6), set_config('search_path', 'evil, pg_catalog', false)")
            _ = try await connection.endTransaction(commit: true)
            #expect(try await leftovers(connection) == clean)
        }
    }

    @Test func deferredWorkAtCommitSeesTheTransactionsSettings() async throws {
        try await TestDatabase.withScratchDatabase(prefix: "committed") { connection, name in
            for statement in [
                "CREATE TABLE t (x int)", "CREATE TABLE audit (who text)",
                "CREATE FUNCTION record() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit VALUES (current_setting('app.who', true)); RETURN NULL; END $$",
                "CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON t DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION record()",
            ] { try await connection.command(statement) }
            try await connection.command("BEGIN")
            try await connection.command("SET LOCAL app.who = 'ada'")
            try await connection.command("INSERT INTO t VALUES (1)")
            #expect(try await connection.endTransaction(commit: true).commandTag == "COMMIT")
            try await connection.committed("WITH s AS (SELECT set_config('app.who', 'grace', true)) INSERT INTO t SELECT 2 FROM s")
            #expect(try await connection.query("SELECT who FROM audit ORDER BY who").rows == [["ada"], ["grace"]])
        }
    }

    @Test func theKeywordsOfStatementsThatRunOutsideATransactionBlock() {
        for sql in [
            "VACUUM t", "vacuum (analyze) t", "CREATE INDEX CONCURRENTLY i ON t (x)", "create unique index concurrently i on t (x)",
            "DROP INDEX CONCURRENTLY i", "REINDEX TABLE CONCURRENTLY t", "CREATE DATABASE d", "DROP DATABASE d", "ALTER SYSTEM SET work_mem = '8MB'",
            "CREATE TABLESPACE s LOCATION '/x'", "COMMIT PREPARED 'g'", "ROLLBACK PREPARED 'g'", "CALL p()", "/* c */ DO $$ BEGIN END $$", "CLUSTER",
        ] { #expect(PGReadStatement.runsOutsideTransactionBlocks(sql), "\(sql)") }
        for sql in ["SELECT 1", "INSERT INTO vacuum VALUES (1)", "CREATE INDEX i ON t (x)", "COMMIT", "ROLLBACK", "ALTER TABLE t ADD c int", "UPDATE t SET x = 1"] {
            #expect(!PGReadStatement.runsOutsideTransactionBlocks(sql), "\(sql)")
        }
    }
}

extension PGConnection {
    /// `executeCommitted` of `sql` under a 5 s timeout, its rows dropped.
    @discardableResult
    fileprivate func committed(_ sql: String) async throws -> PGCommandResult {
        try await executeCommitted(PGStatement(sql), statementTimeoutMs: 5000, into: DiscardingSink()).0
    }
}
