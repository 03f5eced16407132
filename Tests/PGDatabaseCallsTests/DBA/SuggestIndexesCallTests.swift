import PGClient
import PGConfig
import PGDatabaseCalls
import PGMCPJSON
import PGRegistry
import TestSupport
import Testing

/// suggest_indexes against real PostgreSQL with hypopg: what it proposes for statements given,
/// what it refuses, names that would break pasted SQL, and the pooled connection it leaves.
@Suite("Index advice", .serialized) struct SuggestIndexesCallTests {
    /// A scratch database with hypopg (unless `hypopg` is false) and whatever `setup` makes there,
    /// a read-only entry on it (pool of `poolMax`), and the calls; dropped afterwards.
    func withAdvisor(
        hypopg: Bool = true, poolMax: Int = 10, setup: (PGConnection) async throws -> Void = { _ in },
        _ body: (DatabaseCalls, WorkSession, String) async throws -> Void
    ) async throws {
        let database = try await TestDatabase.createScratchDatabase(prefix: "advice")
        do {
            try await TestDatabase.withConnection(database: database) { connection in
                if hypopg { try await connection.command("CREATE EXTENSION hypopg") }
                try await setup(connection)
            }
            let calls = testCalls([try TestDatabase.config(id: "main", database: database, pool: PoolSettings(max: poolMax))], prefix: "advice")
            do {
                try await body(calls, try calls.registry.createSession(), database)
                await calls.registry.shutdown()
            } catch {
                await calls.registry.shutdown()
                throw error
            }
            try await TestDatabase.dropDatabase(database)
        } catch {
            try? await TestDatabase.dropDatabase(database)
            throw error
        }
    }

    static func items(_ connection: PGConnection) async throws {
        try await connection.command("CREATE TABLE items (id int, sku text, category int, price numeric, note text)")
        try await connection.command(
            "INSERT INTO items SELECT g, 'sku-' || g, g % 100, (g % 1000)::numeric, 'n' FROM generate_series(1, 200000) g")
        try await connection.command("ANALYZE items")
    }

    func indexCount(_ database: String) async throws -> Int64? {
        try await TestDatabase.withConnection(database: database) {
            try await $0.query("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'public'::regnamespace").rows
        }.first?.first?.intValue
    }

    @Test func statementsGivenGetTheIndexesTheirFiltersNeedAndNothingIsCreated() async throws {
        try await withAdvisor(setup: Self.items) { calls, session, database in
            let lookup = "SELECT * FROM items WHERE sku = $1"
            let range = "SELECT id FROM items WHERE category = 7 AND price > 990 ORDER BY price"
            let advice = try await calls.suggestIndexes(session: session, database: nil, statements: [lookup, range], budget: .seconds(10))
            #expect(advice.statementsExamined == 2)
            #expect(advice.skipped.isEmpty)
            let sku = try #require(advice.suggestions.first { $0.columns == ["sku"] }, "\(advice.json)")
            #expect(sku.create == "CREATE INDEX ON public.items (sku)")
            #expect(sku.table == "public.items")
            #expect(sku.estimatedSizeBytes > 100_000)
            let cost = try #require(sku.statements.first)
            #expect(cost.sql == lookup)
            #expect(cost.costAfter * 10 < cost.costBefore, "\(cost)")
            // The range statement gets an index that starts with its equality column.
            let other = try #require(advice.suggestions.first { $0.columns.first == "category" }, "\(advice.json)")
            #expect(other.statements.map(\.sql) == [range])
            #expect(try await indexCount(database) == 0)
        }
    }

    @Test func statementsThatAreNotOneSelectUpdateDeleteOrInsertAreRefusedByItem() async throws {
        try await withAdvisor(setup: Self.items) { calls, session, _ in
            for (sql, words) in [
                ("DROP TABLE items", "plans only SELECT"), ("SELECT 1; SELECT 2", "more than one statement"),
                ("SELECT hypopg_reset()", "hypothetical indexes"), ("SELECT pg_terminate_backend(1)", "signals other server processes"),
                ("SELECT * INTO t2 FROM items", "plans only SELECT"), ("SELEC 1", "syntax error"),
            ] {
                let error = try await #require(throws: DatabaseCallError.self) {
                    try await calls.suggestIndexes(session: session, database: nil, statements: ["SELECT 1", sql], budget: .seconds(2))
                }
                #expect(error.message.hasPrefix("statements item 2: "), "\(error.message)")
                #expect(error.message.contains(words), "\(sql): \(error.message)")
            }
            // Writes are planned, never run: the table keeps its rows.
            let advice = try await calls.suggestIndexes(
                session: session, database: nil, statements: ["DELETE FROM items WHERE sku = 'sku-5'", "UPDATE items SET note = 'x' WHERE sku = $1"],
                budget: .seconds(5))
            #expect(advice.suggestions.map(\.columns) == [["sku"]], "\(advice.json)")
            #expect(advice.suggestions.first?.statements.count == 2)
            let rows = try await calls.query(session: session, database: nil, sql: "SELECT count(*) FROM items WHERE note = 'n'", parameters: [], maxRows: nil)
            #expect(rows.table.rows == [[200_000]])
            // A statement PostgreSQL cannot plan is left out with its reason; the others still count.
            let partly = try await calls.suggestIndexes(
                session: session, database: nil, statements: ["SELECT * FROM no_such_table", "SELECT * FROM items WHERE sku = 'a'"], budget: .seconds(5))
            #expect(partly.statementsExamined == 1)
            #expect(partly.skipped.first?.reason.contains("no_such_table") == true, "\(partly.json)")
            #expect(partly.suggestions.map(\.columns) == [["sku"]])
        }
    }

    /// A schema, table and column whose names hold quotes, `$$`, semicolons and SQL, and a column
    /// value (in pg_stats as a most common value) holding the same: the advice quotes them, its
    /// `CREATE INDEX` runs as written and makes the index it says, and nothing else happens.
    @Test func namesAndStatisticsHoldingQuotesDollarQuotesAndSQLChangeNothing() async throws {
        let schema = "s'; DROP TABLE canary; --$$"
        let table = #"T "quoted"; $$ SELECT 1 $$"#
        let column = "c'ol; DROP TABLE canary;--$$ x"
        let value = "'); DROP TABLE canary; SELECT $$ 1 $$; --\""
        let qualified = SQLQuoting.identifier(schema) + "." + SQLQuoting.identifier(table)
        try await withAdvisor(
            setup: { connection in
                try await connection.command("CREATE TABLE canary (x int)")
                try await connection.command("CREATE SCHEMA \(SQLQuoting.identifier(schema))")
                try await connection.command("CREATE TABLE \(qualified) (\(SQLQuoting.identifier(column)) text, other int)")
                _ = try await connection.query(
                    "INSERT INTO \(qualified) SELECT CASE WHEN g % 2 = 0 THEN $1 ELSE 'v' || g END, g FROM generate_series(1, 100000) g", parameters: [value])
                try await connection.command("ANALYZE \(qualified)")
                let stats = try await connection.query(
                    "SELECT most_common_vals::text FROM pg_stats WHERE schemaname = $1 AND tablename = $2 AND attname = $3", parameters: [schema, table, column])
                #expect(stats.rows.first?.first?.stringValue?.contains("DROP TABLE canary") == true, "the hostile value is in pg_stats")
            }
        ) { calls, session, database in
            let statement = "SELECT other FROM \(qualified) WHERE \(SQLQuoting.identifier(column)) = 'v77'"
            let advice = try await calls.suggestIndexes(session: session, database: nil, statements: [statement], budget: .seconds(10))
            let suggestion = try #require(advice.suggestions.first, "\(advice.json)")
            #expect(suggestion.columns == [column])
            #expect(suggestion.table == qualified)
            #expect(suggestion.create == "CREATE INDEX ON \(qualified) (\(SQLQuoting.identifier(column)))")
            try await TestDatabase.withConnection(database: database) { connection in
                try await connection.command(suggestion.create)
                let made = try await connection.query(
                    """
                    SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                    WHERE i.indrelid = (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2)
                    """, parameters: [schema, table])
                #expect(made.rows == [[.string(column)]])
                #expect(try await connection.query("SELECT count(*) FROM canary").rows == [[0]])
            }
        }
    }

    /// Hypothetical indexes live in the backend: the next lease of the same pooled connection (the
    /// pool holds one) sees none, after a call that finished and after one that was cancelled.
    @Test func theNextLeaseOfThePooledConnectionSeesNoHypotheticalIndex() async throws {
        try await withAdvisor(poolMax: 1, setup: Self.items) { calls, session, database in
            let before = try await backend(calls, session)
            let advice = try await calls.suggestIndexes(
                session: session, database: nil, statements: ["SELECT * FROM items WHERE sku = $1", "SELECT * FROM items WHERE category = $1 AND price < $2"],
                budget: .seconds(5))
            #expect(!advice.suggestions.isEmpty)
            let after = try await backend(calls, session)
            #expect(after.pid == before.pid, "the same pooled connection")
            #expect(after.hypothetical == 0)

            // Cancelled mid-search: cleared, or the connection is given up; never passed on as it is.
            try await TestDatabase.withConnection(database: database) { try await Self.wide($0) }
            let statements = Self.wideStatements
            let search = Task { try await calls.suggestIndexes(session: session, database: nil, statements: statements, budget: .seconds(30)) }
            try await Task.sleep(for: .milliseconds(500))
            search.cancel()
            let outcome = await search.result
            // Uncancelled, it runs about 1.7 s (430 sets costed) on a 2-core machine.
            #expect(throws: DatabaseCallError.self) { try outcome.get() }
            #expect(try await backend(calls, session).hypothetical == 0)
        }
    }

    /// A table of twelve columns and statements filtering on three each: a search of about 1.7 s
    /// (430 sets costed) on a 2-core machine, long enough to interrupt.
    static func wide(_ connection: PGConnection) async throws {
        let columns = (1...12).map { "c\($0) int" }.joined(separator: ", ")
        try await connection.command("CREATE TABLE wide (\(columns))")
        try await connection.command("INSERT INTO wide SELECT \((1...12).map { "g % \($0 * 97)" }.joined(separator: ", ")) FROM generate_series(1, 50000) g")
        try await connection.command("ANALYZE wide")
    }

    static let wideStatements = (0..<20).map { "SELECT * FROM wide WHERE c\($0 % 12 + 1) = $1 AND c\(($0 * 5 + 1) % 12 + 1) = $2 AND c\(($0 * 7 + 3) % 12 + 1) > $3" }

    func backend(_ calls: DatabaseCalls, _ session: WorkSession) async throws -> (pid: Int64?, hypothetical: Int64?) {
        let row = try await calls.query(
            session: session, database: nil, sql: "SELECT pg_backend_pid(), (SELECT count(*) FROM hypopg())", parameters: [], maxRows: nil
        ).table.rows.first?.arrayValue
        return (row?.first?.intValue, row?.last?.intValue)
    }

    /// hypopg dropped while a search runs: its reset fails, so the connection, whose backend may
    /// still hold hypothetical indexes (the library stays loaded), is closed rather than pooled.
    @Test func aConnectionWhoseResetCannotBeConfirmedIsNotPooled() async throws {
        try await withAdvisor(poolMax: 1, setup: Self.wide) { calls, session, database in
            let before = try await backend(calls, session)
            let search = Task { try await calls.suggestIndexes(session: session, database: nil, statements: Self.wideStatements, budget: .seconds(30)) }
            try await Task.sleep(for: .milliseconds(300))
            try await TestDatabase.withConnection(database: database) { try await $0.command("DROP EXTENSION hypopg") }
            _ = await search.result
            try await TestDatabase.withConnection(database: database) { try await $0.command("CREATE EXTENSION hypopg") }
            let after = try await backend(calls, session)
            #expect(after.pid != before.pid, "a new connection")
            #expect(after.hypothetical == 0)
        }
    }

    /// Inside the session's own transaction, the search runs in savepoints: the transaction is
    /// usable afterwards and holds no hypothetical index.
    @Test func insideAnOpenTransactionTheTransactionStaysUsable() async throws {
        try await withAdvisor(setup: Self.items) { calls, session, _ in
            _ = try await calls.beginTransaction(session: session, database: nil, readOnly: true)
            let advice = try await calls.suggestIndexes(
                session: session, database: nil, statements: ["SELECT * FROM items WHERE sku = 'x'"], budget: .seconds(5))
            #expect(advice.suggestions.map(\.columns) == [["sku"]])
            let rows = try await calls.query(session: session, database: nil, sql: "SELECT count(*) FROM hypopg()", parameters: [], maxRows: nil)
            #expect(rows.table.rows == [[0]])
            _ = try await calls.rollbackTransaction(session: session, database: nil)
        }
    }

    @Test func withoutHypopgTheErrorSaysHowToInstallIt() async throws {
        try await withAdvisor(hypopg: false) { calls, session, _ in
            let error = try await #require(throws: DatabaseCallError.self) {
                try await calls.suggestIndexes(session: session, database: nil, statements: ["SELECT 1"], budget: .seconds(2))
            }
            let major = try await TestDatabase.rows("SELECT current_setting('server_version_num')::int / 10000").first?.first?.intValue ?? 0
            #expect(error.message.contains("hypopg is not installed in 'main'"), "\(error.message)")
            #expect(error.message.contains("apt-get install postgresql-\(major)-hypopg"), "\(error.message)")
            #expect(error.message.contains("CREATE EXTENSION hypopg"), "\(error.message)")
        }
    }
}
