import Testing

@testable import PGParser

/// What PostgreSQL's parser says of a statement text, and that no text can crash or exhaust it.
@Suite("PostgreSQL's parser, asked what a statement is") struct PGParserTests {
    func facts(_ sql: String) async throws -> ParsedStatement { try await PGParser.parseUncached(sql).get() }

    @Test func countsStatementsAndNamesTheFirstKind() async throws {
        #expect(try await facts("SELECT 1").count == 1)
        #expect(try await facts("SELECT 1; SELECT 2").count == 2)
        #expect(try await facts("  -- only a comment").count == 0)
        #expect(try await facts("").count == 0)
        #expect(try await facts("/* c */ (SELECT 1)").kind == "SelectStmt")
        #expect(try await facts("LOCK TABLE t").kind == "LockStmt")
        #expect(try await facts("DO $$ BEGIN END $$").kind == "DoStmt")
        #expect(try await facts("show work_mem").kind == "VariableShowStmt")
    }

    @Test func readsAreTellableFromWrites() async throws {
        for sql in [
            "SELECT 1", "values (1), (2)", "TABLE t", "WITH a AS (SELECT 1) SELECT * FROM a", "SHOW ALL", "SELECT * FROM t FOR UPDATE",
            "EXPLAIN DELETE FROM t", "EXPLAIN (ANALYZE) SELECT 1", "explain analyze verbose select 1", "EXPLAIN (ANALYZE false) INSERT INTO t VALUES (1)",
            "EXPLAIN (analyze 0) DELETE FROM t", "EXPLAIN (ANALYZE off, FORMAT JSON) UPDATE t SET x = 1",
        ] {
            #expect(try await facts(sql).onlyReads, "\(sql)")
        }
        for sql in [
            "INSERT INTO t VALUES (1)", "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "SELECT 1 INTO new_table",
            "EXPLAIN ANALYZE DELETE FROM t", "EXPLAIN (ANALYZE, BUFFERS) WITH d AS (UPDATE t SET x = 1 RETURNING 1) SELECT 1",
            "EXPLAIN (ANALYZE on) CREATE TABLE x AS SELECT 1", "EXPLAIN (ANALYZE 1) EXECUTE p", "LOCK TABLE t", "CALL p()", "VACUUM t",
            "COPY t TO PROGRAM 'true'", "CLUSTER t", "REINDEX TABLE t", "ANALYZE t", "COMMIT", "SET transaction_read_only = off", "SELECT 1; SELECT 2", "",
            "MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE",
        ] {
            #expect(try await !facts(sql).onlyReads, "\(sql)")
        }
    }

    @Test func findsEveryFunctionCalledHoweverItIsWritten() async throws {
        let statement = try await facts(
            """
            SELECT pg_catalog."pg_terminate_backend"(1), PG_Cancel_Backend(2), (SELECT lower(x) FROM t WHERE upper(y) = 'f()'),
                   x.y.pg_read_file, 'pg_sleep(1)' FROM ROWS FROM (pg_ls_dir('.')) AS d(x), LATERAL s.f(E'\\'q') AS g
            """)
        #expect(statement.functions == [["pg_catalog", "pg_terminate_backend"], ["pg_cancel_backend"], ["lower"], ["upper"], ["pg_ls_dir"], ["s", "f"]])
        #expect(statement.attributeNames.contains("pg_read_file"))
        // A name inside a string is data, not a call.
        #expect(!statement.functions.contains(["pg_sleep"]))
        #expect(try await facts("EXPLAIN ANALYZE SELECT pg_reload_conf()").functions == [["pg_reload_conf"]])
        // A quoted name keeps its quotes and case, through the tree's JSON escapes.
        #expect(try await facts(#"SELECT "we""ird\é"(1)"#).functions == [[#"we"ird\é"#]])
    }

    @Test func countsPlaceholdersByTheHighestNumber() async throws {
        #expect(try await facts("SELECT 1").parameterCount == 0)
        #expect(try await facts("SELECT * FROM t WHERE a = $2 AND b IN ($1, $3) LIMIT $2").parameterCount == 3)
        #expect(try await facts("UPDATE t SET a = $1 WHERE b = (SELECT max(c) FROM u WHERE d = $4)").parameterCount == 4)
        // A dollar sign in a string or a dollar quote is no placeholder.
        #expect(try await facts("SELECT '$7', $$ $9 $$ FROM t WHERE a = $1").parameterCount == 1)
    }

    @Test func aMisspeltStatementGetsPostgreSQLsOwnSyntaxError() async throws {
        #expect(await PGParser.parseUncached("SELEC 1") == .failure(.syntax(message: "syntax error at or near \"SELEC\"", position: 1)))
        #expect(await PGParser.parseUncached("SELECT 'unterminated") == .failure(.syntax(message: "unterminated quoted string at or near \"'unterminated\"", position: 8)))
        guard case .failure(.syntax) = await PGParser.parseUncached("Ｓelect 1") else {
            Issue.record("a keyword in full-width letters is no keyword")
            return
        }
        guard case .failure(.syntax) = await PGParser.parseUncached("SELECT 1\u{0}; DROP TABLE t") else {
            Issue.record("a NUL must not hide the rest of the text from the parser")
            return
        }
    }

    /// libpg_query writes its tree recursively: 70,000 `+` overflow an 8 MiB stack. Such a text is
    /// parsed on a thread with a stack for it, and one past the limits is refused before parsing.
    @Test func deeplyNestedTextsNeitherCrashNorExhaust() async throws {
        let deep = "SELECT " + Array(repeating: "1", count: 90_000).joined(separator: "+")
        #expect(try await facts(deep).onlyReads)
        let unions = Array(repeating: "SELECT 1", count: 20_000).joined(separator: " UNION ")
        #expect(try await facts(unions).count == 1)
        let deeper = "SELECT " + Array(repeating: "1", count: 2_000_000).joined(separator: "+")
        guard case .failure(.tooLarge(_, let count, let limit)) = await PGParser.parseUncached(deeper) else {
            Issue.record("2,000,000 operators must be refused before the parser runs")
            return
        }
        #expect(count > limit)
        let deeperStill = "SELECT " + Array(repeating: "1", count: 120_000).joined(separator: "+")
        let refused = await PGParser.parseUncached(deeperStill)
        guard case .failure(.tooLarge("operators, keywords and brackets", 120_000, 100_000)) = refused else {
            Issue.record("120,000 operators must be refused before the parser runs: \(refused)")
            return
        }
        let longList = "SELECT 1 IN (" + Array(repeating: "1", count: 255_000).joined(separator: ",") + ")"
        guard case .failure(.tooLarge) = await PGParser.parseUncached(longList) else {
            Issue.record("255,000 constants (510,000 tokens) must be refused before the parser runs")
            return
        }
    }

    @Test func theCacheAnswersATextSeenBefore() async throws {
        let cache = StatementCache(capacity: 2, maxTextBytes: 32)
        cache["SELECT 1"] = .success(ParsedStatement(count: 1, kind: "SelectStmt"))
        cache["SELECT 2"] = .success(ParsedStatement(count: 1, kind: "SelectStmt"))
        #expect(cache["SELECT 1"] != nil)
        cache["SELECT 3"] = .success(ParsedStatement(count: 1, kind: "SelectStmt"))
        #expect(cache["SELECT 1"] == nil, "the oldest goes when full")
        #expect(cache.count == 2)
        cache[String(repeating: "x", count: 33)] = .success(ParsedStatement(count: 1, kind: nil))
        #expect(cache.count == 2, "long texts are not kept")
        let sql = "SELECT \(Int.random(in: 0..<1_000_000_000)) AS cached"
        _ = await PGParser.parse(sql)
        #expect(PGParser.cache[sql] != nil)
    }

    @Test func explainBooleansFollowPostgreSQL() {
        for value in ["0", "off", "OF", "false", "f", "fal", "no", "n"] { #expect(!ParseTreeFacts.isTrue(value), "\(value)") }
        for value in ["1", "on", "true", "t", "yes", "y"] { #expect(ParseTreeFacts.isTrue(value), "\(value)") }
    }
}
