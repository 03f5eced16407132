import Logging
import PGClient
import PGRegistry
import TestSupport
import Testing

@testable import PGDatabaseCalls

@Suite("Type names") struct TypeNameCacheTests {
    /// A copy of a database (a clone entry's per-session copy) has the same type OIDs under the same
    /// name: a cache keyed by the database's name would show the original's type names there.
    @Test func twoPoolsOfTheSameNameKeepTheirOwnTypeNames() async throws {
        let original = try await TestDatabase.createScratchDatabase(prefix: "types")
        let copy = "\(original)_copy"
        try await TestDatabase.withConnection(database: original) { try await $0.command("CREATE TYPE mood AS ENUM ('ok')") }
        try await TestDatabase.withConnection { try await $0.command("CREATE DATABASE \(copy) TEMPLATE \(original)") }
        try await TestDatabase.withConnection(database: copy) { try await $0.command("ALTER TYPE mood RENAME TO feeling") }

        let cache = TypeNameCache()
        var names: [String] = []
        for database in [original, copy] {
            let pool = ConnectionPool(
                name: "same", parameters: try TestDatabase.parameters(database: database), configuration: .init(),
                applicationName: "types", connectTimeout: .seconds(5), logger: Logger(label: "test"), sharedByName: false)
            Task { await pool.run() }
            let lease = try await pool.lease(timeout: .seconds(5))
            let result = try await lease.connection.query("SELECT 'ok'::\(database == original ? "mood" : "feeling")")
            names += await cache.columnTypes(result.columns, pool: pool, connection: lease.connection)
            pool.release(lease, outcome: .close(.dirty))
            await pool.shutdown()
        }
        #expect(names == ["mood", "feeling"])
        try await TestDatabase.dropDatabase(copy)
        try await TestDatabase.dropDatabase(original)
    }

    /// The names are shared by every session of the pool: one session's search_path (inside its own
    /// transaction, where the lookup runs) must not put a function of its own in format_type's place.
    @Test func aSessionsSearchPathCannotPoisonThePoolsTypeNames() async throws {
        let names = try await TestDatabase.withScratchDatabase(prefix: "types") { connection, database in
            for statement in [
                "CREATE TYPE mood AS ENUM ('ok')", "CREATE SCHEMA evil",
                "CREATE FUNCTION evil.format_type(oid, integer) RETURNS text LANGUAGE sql AS $$ SELECT 'poisoned' $$",
                "CREATE FUNCTION evil.format_type(oid, oid) RETURNS text LANGUAGE sql AS $$ SELECT 'poisoned' $$",
            ] { try await connection.command(statement) }
            let cache = TypeNameCache()
            let pool = ConnectionPool(
                name: "poison", parameters: try TestDatabase.parameters(database: database), configuration: .init(),
                applicationName: "types", connectTimeout: .seconds(5), logger: Logger(label: "test"), sharedByName: false)
            Task { await pool.run() }
            let lease = try await pool.lease(timeout: .seconds(5))
            try await lease.connection.command("BEGIN")
            try await lease.connection.command("SET LOCAL search_path = evil, pg_catalog, public")
            let result = try await lease.connection.query("SELECT 'ok'::public.mood")
            let names = await cache.columnTypes(result.columns, pool: pool, connection: lease.connection, inTransaction: true)
            pool.release(lease, outcome: .close(.dirty))
            await pool.shutdown()
            return names
        }
        #expect(names == ["mood"])
    }
}

@Suite("Transaction control inside a pinned transaction") struct TransactionControlTests {
    @Test func commandsThatWouldEndOrHandOverTheTransactionAreNamed() {
        let refused = [
            ("COMMIT", "COMMIT"), ("commit and chain", "COMMIT"), ("  /* x */ END", "END"), ("ABORT", "ABORT"), ("BEGIN", "BEGIN"),
            ("start transaction", "START"), ("ROLLBACK", "ROLLBACK"), ("rollback work", "ROLLBACK"), ("ROLLBACK PREPARED 'x'", "ROLLBACK"),
            ("COMMIT PREPARED 'x'", "COMMIT"), ("prepare transaction 'x'", "PREPARE TRANSACTION"), ("-- c\nPREPARE\tTRANSACTION 'x'", "PREPARE TRANSACTION"),
        ]
        for (sql, command) in refused { #expect(DatabaseCalls.transactionControl(sql) == command, "\(sql)") }
        for sql in ["ROLLBACK TO SAVEPOINT a", "rollback to a", "SAVEPOINT a", "RELEASE SAVEPOINT a", "PREPARE q AS SELECT 1", "INSERT INTO t VALUES (1)", "", "(("] {
            #expect(DatabaseCalls.transactionControl(sql) == nil, "\(sql)")
        }
    }
}

@Suite("Session settings ahead of a statement") struct SessionSettingsTests {
    /// Only a configured entry that reaches PostgreSQL directly gets a session setting in a sync of
    /// its own: behind a transaction-mode pooler (declared, or possible for a connection string a
    /// client gave) it would stay on a server connection someone else gets next.
    @Test func onlyDirectConfiguredEntriesGetThem() async throws {
        let pool = ConnectionPool(
            name: "settings", parameters: try TestDatabase.parameters(), configuration: .init(), applicationName: "settings",
            connectTimeout: .seconds(5), logger: Logger(label: "test"), sharedByName: false)
        var config = try TestDatabase.config(id: "settings")
        #expect(DatabaseCalls.allowsSessionSettings(DatabaseTarget(config: config, kind: .configured, pool: pool)))
        #expect(!DatabaseCalls.allowsSessionSettings(DatabaseTarget(config: config, kind: .dynamic, pool: pool)))
        config.pooling = .transaction
        #expect(!DatabaseCalls.allowsSessionSettings(DatabaseTarget(config: config, kind: .configured, pool: pool)))
        await pool.shutdown()
    }
}
