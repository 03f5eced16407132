import PGClient
import PGConfig
import PGDatabaseCalls
import PGMCPJSON
import TestSupport
import Testing

/// database_health against planted problems, and against a fresh database where it must find
/// nothing.
@Suite("Database health", .serialized) struct DatabaseHealthCallTests {
    func calls(_ database: String) throws -> DatabaseCalls {
        testCalls([try TestDatabase.config(id: "main", database: database, readOnly: true)], prefix: "health")
    }

    @Test func aFreshDatabaseHasNoFindings() async throws {
        let database = try await TestDatabase.createScratchDatabase(prefix: "health")
        let calls = try calls(database)
        let report = try await calls.databaseHealth(session: try calls.registry.createSession(), database: nil)
        #expect(report.findings.map(\.json).isEmpty, "\(report.findings.map(\.json))")
        #expect(report.skipped.isEmpty, "\(report.skipped)")
        #expect(report.checked.count == 14, "\(report.checked)")
        await calls.registry.shutdown()
        try await TestDatabase.dropDatabase(database)
    }

    /// Each planted problem is found, on the object it was planted on, with its evidence.
    @Test func findsEachPlantedProblem() async throws {
        let database = try await TestDatabase.createScratchDatabase(prefix: "health")
        try await TestDatabase.withConnection(database: database) { connection in
            for statement in [
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
            ] {
                try await connection.command(statement)
            }
            // A failed CREATE UNIQUE INDEX CONCURRENTLY leaves an invalid index behind.
            await #expect(throws: PGError.self) { try await connection.command("CREATE UNIQUE INDEX CONCURRENTLY orders_customer_unique ON orders (customer)") }
        }
        let calls = try calls(database)
        let session = try calls.registry.createSession()
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
        await calls.registry.shutdown()
        try await TestDatabase.dropDatabase(database)
    }

    /// Names holding quotes, semicolons and SQL are reported quoted and change nothing.
    @Test func hostileNamesAreQuotedAndHarmless() async throws {
        let database = try await TestDatabase.createScratchDatabase(prefix: "health")
        let table = #"we"ird; DROP TABLE victim; --"#
        let index = #"ix$$'; SELECT 1; $$"#
        try await TestDatabase.withConnection(database: database) { connection in
            try await connection.command("CREATE TABLE victim (x int)")
            try await connection.command("CREATE TABLE \(SQLQuoting.identifier(table)) (\"co'l\" text)")
            try await connection.command("INSERT INTO \(SQLQuoting.identifier(table)) VALUES ($$'); DROP TABLE victim; --$$)")
            try await connection.command("ANALYZE \(SQLQuoting.identifier(table))")
            try await connection.command("CREATE INDEX \(SQLQuoting.identifier(index)) ON \(SQLQuoting.identifier(table)) (\"co'l\")")
        }
        let calls = try calls(database)
        let report = try await calls.databaseHealth(session: try calls.registry.createSession(), database: nil)
        let unused = try #require(report.findings.first { $0.check == "unused_index" })
        #expect(unused.object == "public.\(SQLQuoting.identifier(index))")
        #expect(unused.evidence["table"]?.stringValue == "public.\(SQLQuoting.identifier(table))")
        #expect(report.skipped.isEmpty, "\(report.skipped)")
        let victim = try await TestDatabase.withConnection(database: database) { try await $0.query("SELECT count(*) FROM victim").rows }
        #expect(victim == [[0]])
        await calls.registry.shutdown()
        try await TestDatabase.dropDatabase(database)
    }
}
