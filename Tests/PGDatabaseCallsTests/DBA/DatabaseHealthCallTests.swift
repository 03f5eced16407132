import PGClient
import PGConfig
import PGDatabaseCalls
import PGMCPJSON
import TestSupport
import Testing

/// database_health against planted problems, and against a fresh database where it must find
/// nothing.
@Suite("Database health", .serialized) struct DatabaseHealthCallTests {
    @Test func aFreshDatabaseHasNoFindings() async throws {
        try await withScratchCalls(prefix: "health") { calls, session, _ in
            let report = try await calls.databaseHealth(session: session, database: nil)
            #expect(report.findings.map(\.json).isEmpty, "\(report.findings.map(\.json))")
            #expect(report.skipped.isEmpty, "\(report.skipped)")
            #expect(report.checked.count == 14, "\(report.checked)")
        }
    }

    static let planted = [
        // Analysed, so only what is planted on purpose is reported about it.
        "CREATE TABLE orders (id int PRIMARY KEY, customer int, note text)",
        "INSERT INTO orders SELECT g, g % 10, 'n' FROM generate_series(1, 1000) g",
        "ANALYZE orders",
        // Unused, and a duplicate pair (also unused).
        "CREATE INDEX orders_note ON orders (note)",
        "CREATE INDEX orders_customer ON orders (customer)",
        "CREATE INDEX orders_customer_again ON orders (customer)",
        // A sequence at 95% of its own range, and a bigint one at 95% of its int column's.
        "CREATE SEQUENCE tickets MAXVALUE 1000",
        "SELECT setval('tickets', 950)",
        "CREATE TABLE legacy (id int)",
        "CREATE SEQUENCE legacy_ids OWNED BY legacy.id",
        "SELECT setval('legacy_ids', 2040109465)",
        // Never analysed (autovacuum kept off it so the test cannot race it).
        "CREATE TABLE raw_events (payload text) WITH (autovacuum_enabled = false)",
        "INSERT INTO raw_events SELECT 'e' || g FROM generate_series(1, 500) g",
        // A NOT VALID constraint.
        "ALTER TABLE orders ADD CONSTRAINT positive_customer CHECK (customer >= 0) NOT VALID",
    ]

    /// Each planted problem is found, on the object it was planted on, with its evidence.
    @Test func findsEachPlantedProblem() async throws {
        try await withScratchCalls(prefix: "health", setup: Self.planted) { calls, session, database in
            // A failed CREATE UNIQUE INDEX CONCURRENTLY leaves an invalid index behind.
            try await TestDatabase.withConnection(database: database) { connection in
                await #expect(throws: PGError.self) {
                    try await connection.command("CREATE UNIQUE INDEX CONCURRENTLY orders_customer_unique ON orders (customer)")
                }
            }
            // Statistics reach the views once the writing backends have reported them.
            var report = try await calls.databaseHealth(session: session, database: nil)
            let found = await eventually(within: .seconds(10)) {
                report = (try? await calls.databaseHealth(session: session, database: nil)) ?? report
                return Set(report.findings.map(\.check)).isSuperset(of: ["never_analysed", "unused_index"])
            }
            #expect(found, "\(report.findings.map(\.json))")
            func finding(_ check: String, _ object: String) -> HealthFinding? {
                report.findings.first { $0.check == check && $0.object == object }
            }
            #expect(finding("invalid_index", "public.orders_customer_unique")?.severity == .warning)
            let duplicate = try #require(finding("duplicate_index", "public.orders"))
            #expect(duplicate.evidence["indexes"] == ["public.orders_customer", "public.orders_customer_again"])
            #expect(duplicate.advice.contains("DROP INDEX CONCURRENTLY public.orders_customer_again"))
            #expect(duplicate.evidence["totalSizeBytes"]?.intValue != nil)
            #expect(finding("unused_index", "public.orders_note") != nil)
            #expect(finding("unused_index", "public.orders_pkey") == nil, "a primary key is never 'unused'")
            let tickets = try #require(finding("sequence_near_end", "public.tickets"))
            #expect(tickets.severity == .critical)
            #expect(tickets.evidence["usedFraction"]?.numberValue == 0.9499)
            let legacy = try #require(finding("sequence_near_end", "public.legacy_ids"))
            #expect(legacy.evidence["limit"] == "2147483647")
            #expect(legacy.evidence["columnType"] == "int4")
            #expect(finding("never_analysed", "public.raw_events") != nil)
            #expect(finding("never_analysed", "public.orders") == nil)
            #expect(finding("invalid_constraint", "public.orders positive_customer") != nil)
            // Worst first.
            #expect(report.findings.first?.severity == .critical)
        }
    }

    /// Names holding quotes, semicolons and SQL are reported quoted and change nothing.
    @Test func hostileNamesAreQuotedAndHarmless() async throws {
        let table = #"we"ird; DROP TABLE victim; --"#
        let index = #"ix$$'; SELECT 1; $$"#
        let setup = [
            "CREATE TABLE victim (x int)",
            "CREATE TABLE \(SQLQuoting.identifier(table)) (\"co'l\" text)",
            "INSERT INTO \(SQLQuoting.identifier(table)) VALUES ($$'); DROP TABLE victim; --$$)",
            "ANALYZE \(SQLQuoting.identifier(table))",
            "CREATE INDEX \(SQLQuoting.identifier(index)) ON \(SQLQuoting.identifier(table)) (\"co'l\")",
        ]
        try await withScratchCalls(prefix: "health", setup: setup) { calls, session, database in
            let report = try await calls.databaseHealth(session: session, database: nil)
            let unused = try #require(report.findings.first { $0.check == "unused_index" })
            #expect(unused.object == "public.\(SQLQuoting.identifier(index))")
            #expect(unused.evidence["table"]?.stringValue == "public.\(SQLQuoting.identifier(table))")
            #expect(report.skipped.isEmpty, "\(report.skipped)")
            let victim = try await TestDatabase.withConnection(database: database) { try await $0.query("SELECT count(*) FROM victim").rows }
            #expect(victim == [[0]])
        }
    }

    /// A check the role may not read is skipped with PostgreSQL's reason; the others still run on
    /// the same connection, and inside the session's transaction the failure costs it nothing.
    @Test func aCheckTheRoleMayNotReadIsSkippedAndTheRestRun() async throws {
        let database = try await TestDatabase.createScratchDatabase(prefix: "health")
        try await TestDatabase.withConnection(database: database) { try await $0.command("REVOKE SELECT ON pg_catalog.pg_sequences FROM PUBLIC") }
        let password = "pw-\(UInt32.random(in: 0...UInt32.max))"
        try await TestDatabase.withRole(password: password) { role in
            var entry = try TestDatabase.config(id: "main", database: database, readOnly: true)
            entry.connection["user"] = role
            entry.password = Secret(password)
            let calls = testCalls([entry], prefix: "health")
            let session = try calls.registry.createSession()
            for inTransaction in [false, true] {
                if inTransaction { _ = try await calls.beginTransaction(session: session, database: nil, readOnly: true) }
                let report = try await calls.databaseHealth(session: session, database: nil)
                #expect(report.skipped.map(\.check) == ["sequences"], "\(report.skipped)")
                #expect(report.skipped.first?.reason.contains("permission denied") == true, "\(report.skipped)")
                #expect(report.checked.count == 13)
                #expect(report.findings.isEmpty)
            }
            // The transaction is intact.
            let one = try await calls.query(session: session, database: nil, sql: "SELECT 1", parameters: [], maxRows: nil)
            #expect(one.table.rows == [[1]])
            _ = try await calls.rollbackTransaction(session: session, database: nil)
            await calls.registry.shutdown()
        }
        try await TestDatabase.dropDatabase(database)
    }
}
