import Foundation
import Logging
import PGClient
import PGConfig
import PGDatabaseCalls
import PGMCPJSON
import PGRegistry
import TestSupport
import Testing

/// What read-only calls refuse, on PostgreSQL's own parse of the statement, and what they still run.
@Suite("Statement rules", .serialized) struct StatementRulesTests {
    /// One read-only entry (or two writable ones) on a scratch database with a table and a sequence.
    func withCalls(
        readOnly: Bool = true, entries: Int = 1, statementTimeoutMs: Int = 30_000, _ body: (DatabaseCalls, WorkSession, String) async throws -> Void
    ) async throws {
        try await TestDatabase.withScratchDatabase(prefix: "rules") { connection, name in
            try await connection.command("CREATE TABLE t (x int)")
            try await connection.command("CREATE SEQUENCE s")
            let configs = try (0..<entries).map { index in
                var entry = try TestDatabase.config(id: "db\(index)", database: name, readOnly: readOnly)
                entry.statementTimeoutMs = statementTimeoutMs
                entry.maxRows = 10
                return entry
            }
            let calls = testCalls(configs, prefix: "rules")
            let registry = calls.registry
            do {
                try await body(calls, try registry.createSession(), name)
            } catch {
                await registry.shutdown()
                throw error
            }
            await registry.shutdown()
        }
    }

    /// Published read-only bypasses of database MCP servers and their variants: signals, server
    /// files, large objects, WAL, replication, statistics, session locks, SQL given as text; plain,
    /// nested, quoted, schema-qualified and mixed-case.
    static let refused: [(sql: String, function: String)] = [
        ("SELECT pg_terminate_backend(12345)", "pg_terminate_backend"),
        ("SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_stat_activity", "pg_terminate_backend"),
        ("SELECT \"pg_terminate_backend\"(1)", "pg_terminate_backend"),
        ("select PG_TERMINATE_BACKEND(1)", "pg_terminate_backend"),
        ("SELECT count(*) FROM pg_stat_activity WHERE pg_catalog.PG_terminate_backend(pid)", "pg_terminate_backend"),
        ("SELECT pg_cancel_backend(1)", "pg_cancel_backend"),
        ("SELECT * FROM (SELECT pg_cancel_backend(pid) FROM pg_stat_activity) AS s", "pg_cancel_backend"),
        ("WITH x AS (SELECT pg_cancel_backend(1)) SELECT * FROM x", "pg_cancel_backend"),
        ("SELECT pg_reload_conf()", "pg_reload_conf"),
        ("SELECT pg_rotate_logfile()", "pg_rotate_logfile"),
        ("SELECT pg_log_backend_memory_contexts(1)", "pg_log_backend_memory_contexts"),
        ("SELECT pg_read_file('/etc/passwd')", "pg_read_file"),
        ("SELECT * FROM pg_catalog.pg_read_file('postgresql.conf', 0, 100)", "pg_read_file"),
        ("SELECT pg_read_binary_file('/etc/hostname')", "pg_read_binary_file"),
        ("SELECT pg_ls_dir('.')", "pg_ls_dir"),
        ("SELECT * FROM pg_ls_waldir()", "pg_ls_waldir"),
        ("SELECT * FROM pg_ls_logdir()", "pg_ls_logdir"),
        ("SELECT * FROM ROWS FROM (pg_ls_tmpdir())", "pg_ls_tmpdir"),
        ("SELECT pg_stat_file('postgresql.conf')", "pg_stat_file"),
        ("SELECT lo_import('/etc/passwd')", "lo_import"),
        ("SELECT lo_export(12345, '/tmp/pgmcp-escape')", "lo_export"),
        ("SELECT pg_catalog.lo_export(oid, '/tmp/x') FROM pg_largeobject_metadata", "lo_export"),
        ("SELECT lo_put(4242, 0, 'committed by a read-only transaction')", "lo_put"),
        ("SELECT lo_unlink(oid) FROM pg_largeobject_metadata", "lo_unlink"),
        ("SELECT pg_switch_wal()", "pg_switch_wal"),
        ("SELECT pg_create_restore_point('x')", "pg_create_restore_point"),
        ("SELECT pg_backup_start('x')", "pg_backup_start"),
        ("SELECT pg_logical_emit_message(false, 'p', 'escapes the rollback')", "pg_logical_emit_message"),
        ("SELECT pg_wal_replay_pause()", "pg_wal_replay_pause"),
        ("SELECT pg_promote()", "pg_promote"),
        ("SELECT pg_create_logical_replication_slot('s', 'test_decoding')", "pg_create_logical_replication_slot"),
        ("SELECT pg_create_physical_replication_slot('s')", "pg_create_physical_replication_slot"),
        ("SELECT pg_drop_replication_slot('s')", "pg_drop_replication_slot"),
        ("SELECT * FROM pg_logical_slot_get_changes('s', NULL, NULL)", "pg_logical_slot_get_changes"),
        ("SELECT pg_replication_origin_create('o')", "pg_replication_origin_create"),
        ("SELECT pg_stat_reset()", "pg_stat_reset"),
        ("SELECT pg_stat_reset_shared('bgwriter')", "pg_stat_reset_shared"),
        ("SELECT pg_stat_statements_reset()", "pg_stat_statements_reset"),
        ("SELECT pg_advisory_lock(1)", "pg_advisory_lock"),
        ("SELECT pg_try_advisory_lock_shared(1)", "pg_try_advisory_lock_shared"),
        ("SELECT query_to_xml('SELECT pg_terminate_backend(1)', true, true, '')", "query_to_xml"),
        ("SELECT * FROM ts_stat('SELECT to_tsvector(pg_reload_conf()::text)')", "ts_stat"),
        ("SELECT * FROM dblink('dbname=postgres', 'DELETE FROM t') AS r(x int)", "dblink"),
        ("SELECT dblink_exec('dbname=postgres', 'DROP TABLE t')", "dblink_exec"),
        ("SELECT CASE WHEN true THEN (SELECT array_agg(pg_reload_conf())) END", "pg_reload_conf"),
        ("SELECT coalesce(NULL, Pg_Read_File('/etc/passwd'))", "pg_read_file"),
        ("SELECT x FROM t WHERE x IN (SELECT pg_terminate_backend(1)::int)", "pg_terminate_backend"),
        ("EXPLAIN ANALYZE SELECT pg_reload_conf()", "pg_reload_conf"),
        ("SELECT t.pg_read_file FROM (SELECT 'a'::text) AS t(x)", "pg_read_file"),
        ("VALUES (pg_switch_wal())", "pg_switch_wal"),
    ]

    @Test func readOnlyCallsRefuseFunctionsWhoseEffectsEscape() async throws {
        #expect(Self.refused.count >= 40)
        try await withCalls { calls, session, _ in
            for (sql, function) in Self.refused {
                let error = await #expect(throws: DatabaseCallError.self, "\(sql)") {
                    try await calls.query(session: session, database: nil, sql: sql, parameters: [], maxRows: nil)
                }
                #expect(error?.message.contains(function) == true, "\(sql): \(error?.message ?? "")")
                #expect(error?.message.contains("was not sent") == true, "\(sql): \(error?.message ?? "")")
            }
            // explain refuses them too: it is a read-only call.
            await #expect(throws: DatabaseCallError.self) {
                try await calls.explain(session: session, database: nil, sql: "SELECT pg_terminate_backend(1)", parameters: [], analyze: false)
            }
        }
    }

    @Test func harmlessReadsStillRun() async throws {
        try await withCalls { calls, session, _ in
            for sql in [
                "SELECT 1", "select now(), lower('X'), version(), pg_backend_pid()", "SELECT pg_sleep(0)", "SELECT 'pg_terminate_backend(1)' AS text",
                "SELECT 1 AS pg_terminate_backend", "SELECT count(*) FROM pg_class", "SHOW work_mem", "TABLE t", "VALUES (1), (2)",
                "WITH a AS (SELECT 1 AS x) SELECT x FROM a", "SELECT current_setting('work_mem')", "SELECT pg_advisory_xact_lock(42)",
                "SELECT dblink_id, pg_ls_count FROM (SELECT 1 AS dblink_id, 2 AS pg_ls_count) AS s", "(SELECT 1) UNION ALL (SELECT 2)", "SELECT $1::int + 1",
                "EXPLAIN SELECT * FROM t",
            ] {
                let parameters: [String?] = sql.contains("$1") ? ["41"] : []
                _ = try await calls.query(session: session, database: nil, sql: sql, parameters: parameters, maxRows: nil)
            }
        }
    }

    /// The attack as it was reproduced: a read-only `query` ended another session's open transaction.
    @Test func aReadOnlyQueryCannotEndAnotherSessionsWork() async throws {
        try await withCalls { calls, session, name in
            try await TestDatabase.withConnection(database: name) { victim in
                try await victim.command("BEGIN")
                try await victim.command("INSERT INTO t VALUES (1)")
                let pid = try #require(try await victim.query("SELECT pg_backend_pid()").rows.first?.first?.intValue)
                await #expect(throws: DatabaseCallError.self) {
                    try await calls.query(session: session, database: nil, sql: "SELECT pg_terminate_backend(\(pid))", parameters: [], maxRows: nil)
                }
                try await victim.command("COMMIT")
            }
            #expect(try await TestDatabase.withConnection(database: name) { try await $0.query("SELECT count(*) FROM t").rows } == [[.int(1)]])
        }
    }

    @Test func statementsThatAreNotOneReadAreRefusedBeforeSending() async throws {
        try await withCalls { calls, session, _ in
            for (sql, words) in [
                ("LOCK TABLE t", "LOCK"), ("DO $$ BEGIN PERFORM 1; END $$", "DO"), ("ANALYZE t", "ANALYZE"),
                ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "cannot execute DELETE in a read-only transaction"),
                ("SELECT 1 INTO t2", "cannot execute SELECT INTO in a read-only transaction"),
                ("EXPLAIN ANALYZE UPDATE t SET x = 1", "cannot execute UPDATE in a read-only transaction"),
                ("SELECT 1; SELECT 2", "more than one statement"), ("SELECT 1; DELETE FROM t", "more than one statement"),
                ("COMMIT; DROP TABLE t", "this is a COMMIT statement"), ("-- nothing", "no statement"), ("SET transaction_read_only = off", "SET"),
            ] {
                let error = await #expect(throws: DatabaseCallError.self, "\(sql)") {
                    try await calls.query(session: session, database: nil, sql: sql, parameters: [], maxRows: nil)
                }
                #expect(error?.message.contains(words) == true, "\(sql): \(error?.message ?? "")")
            }
        }
    }

    /// `SELEC 1` was "this is a SELEC statement"; PostgreSQL's own 42601 with its position is what
    /// every client library shows, and what PostgreSQL itself says.
    @Test func aMisspeltStatementGetsPostgreSQLsSyntaxError() async throws {
        try await withCalls { calls, session, name in
            let error = await #expect(throws: DatabaseCallError.self) {
                try await calls.query(session: session, database: nil, sql: "SELEC 1", parameters: [], maxRows: nil)
            }
            let server = try await TestDatabase.withConnection(database: name) { connection in
                try await #require(throws: PGError.self) { try await connection.query("SELEC 1") }
            }
            #expect(error?.sqlState == "42601")
            #expect(error?.position == server.position)
            #expect(error?.serverMessage == server.message)
            // explain's syntax error points into the caller's text, not the EXPLAIN put before it.
            let explained = await #expect(throws: DatabaseCallError.self) {
                try await calls.explain(session: session, database: nil, sql: "SELEC 1", parameters: [], analyze: false)
            }
            #expect(explained?.position == server.position, "\(explained?.message ?? "")")
        }
    }

    /// Item 2: `explain` with `analyze` of a plain SELECT is a read: it needs no chosen database,
    /// and it runs read-only (nextval is refused there).
    @Test func explainAnalyzeOfAReadIsARead() async throws {
        try await withCalls(readOnly: false, entries: 2) { calls, session, _ in
            let plan = try await calls.explain(session: session, database: nil, sql: "SELECT count(*) FROM t", parameters: [], analyze: true).plan
            #expect(plan.arrayValue?.first?.objectValue?["Execution Time"] != nil, "\(plan)")
            let readOnly = await #expect(throws: DatabaseCallError.self) {
                try await calls.explain(session: session, database: nil, sql: "SELECT nextval('s')", parameters: [], analyze: true)
            }
            #expect(readOnly?.sqlState == "25006", "\(readOnly?.message ?? "")")
            // A write is still a write: where it would land must have been chosen.
            let write = await #expect(throws: DatabaseCallError.self) {
                try await calls.explain(session: session, database: nil, sql: "DELETE FROM t", parameters: [], analyze: true)
            }
            #expect(write?.message.contains("not sent") == true, "\(write?.message ?? "")")
        }
    }

    /// Item 13: a read sent through `execute` is cut at the row limit like `query`, not run to the
    /// statement timeout; a write with RETURNING still runs to its end.
    @Test func executeCutsAReadButNotAWrite() async throws {
        try await withCalls(readOnly: false, statementTimeoutMs: 5_000) { calls, session, name in
            let endless = "SELECT generate_series(1, 1000000000000) AS x"
            let answer = try await calls.execute(session: session, database: "db0", sql: endless, parameters: [])
            #expect(answer.table?.rows.count == 10)
            #expect(answer.table?.truncated == true)
            #expect(answer.command == "SELECT")
            let write = try await calls.execute(
                session: session, database: "db0", sql: "INSERT INTO t SELECT generate_series(1, 500) RETURNING x", parameters: [])
            #expect(write.rowsAffected == 500)
            #expect(write.table?.rows.count == 10)
            #expect(try await TestDatabase.withConnection(database: name) { try await $0.query("SELECT count(*) FROM t").rows } == [[.int(500)]])
            // Inside a transaction, the cut undoes the read alone: the transaction goes on.
            _ = try await calls.beginTransaction(session: session, database: "db0", readOnly: false)
            _ = try await calls.execute(session: session, database: "db0", sql: "INSERT INTO t VALUES (-1)", parameters: [])
            let inside = try await calls.execute(session: session, database: "db0", sql: endless, parameters: [])
            #expect(inside.table?.truncated == true)
            _ = try await calls.execute(session: session, database: "db0", sql: "INSERT INTO t VALUES (-2)", parameters: [])
            _ = try await calls.commitTransaction(session: session, database: "db0")
            #expect(try await TestDatabase.withConnection(database: name) { try await $0.query("SELECT count(*) FROM t WHERE x < 0").rows } == [[.int(2)]])
        }
    }

    /// In a read-only transaction, `execute` is a read-only call too.
    @Test func executeInAReadOnlyTransactionRefusesEscapingFunctions() async throws {
        try await withCalls(readOnly: false) { calls, session, _ in
            _ = try await calls.beginTransaction(session: session, database: nil, readOnly: true)
            let error = await #expect(throws: DatabaseCallError.self) {
                try await calls.execute(session: session, database: nil, sql: "SELECT pg_cancel_backend(1)", parameters: [])
            }
            #expect(error?.message.contains("pg_cancel_backend") == true, "\(error?.message ?? "")")
            // Not only its functions: a DO block, whose body no check sees, is no read.
            let block = await #expect(throws: DatabaseCallError.self) {
                try await calls.execute(session: session, database: nil, sql: "DO $$ BEGIN PERFORM pg_cancel_backend(1); END $$", parameters: [])
            }
            #expect(block?.message.contains("this is a DO statement") == true, "\(block?.message ?? "")")
            _ = try await calls.rollbackTransaction(session: session, database: nil)
        }
    }
}
