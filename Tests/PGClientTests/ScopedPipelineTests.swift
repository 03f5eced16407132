import PGClient
import PGMCPJSON
import TestSupport
import Testing

/// `scoped` and `scopedReads`: statements inside a transaction of their own, or inside a savepoint
/// of a transaction already open, in one round trip.
@Suite("Scoped pipelines") struct ScopedPipelineTests {
    @Test func severalReadsComeBackEachWithItsRowsAndTheConnectionReset() async throws {
        try await TestDatabase.withConnection { connection in
            let results = try await connection.scopedReads(
                [PGStatement("SELECT $1::int", parameters: ["7"]), PGStatement("SELECT generate_series(1, 3)"), PGStatement("SELECT 1 WHERE false")],
                in: .transaction(readOnly: true), statementTimeoutMs: 1000)
            #expect(results.map(\.rows) == [[[7]], [[1], [2], [3]], []])
            #expect(connection.transactionStatus == .idle)
            #expect(connection.isReset)
        }
    }

    @Test func aFailingReadFailsTheCallAndLeavesNoTransaction() async throws {
        try await TestDatabase.withConnection { connection in
            let error = try await #require(throws: PGError.self) {
                try await connection.scopedReads(
                    [PGStatement("SELECT 1"), PGStatement("SELECT 1/0")], in: .transaction(readOnly: true), statementTimeoutMs: nil)
            }
            #expect(error.sqlState == "22012")
            // The pool's reset (ROLLBACK first) is what ends the failed transaction.
            #expect(!connection.isReset)
            try await connection.reset()
            #expect(connection.transactionStatus == .idle)
        }
    }

    @Test func aSavepointScopeSeesTheTransactionsWritesRefusesItsOwnAndGivesReadWriteBack() async throws {
        try await TestDatabase.withConnection { connection in
            try await connection.command("CREATE TEMP TABLE scoped_t (x int)")
            try await connection.command("CREATE TABLE IF NOT EXISTS scoped_plain (x int)")
            try await connection.command("BEGIN")
            try await connection.command("INSERT INTO scoped_plain VALUES (1)")
            let (_, seen) = try await connection.scoped(
                PGStatement("SELECT count(*) FROM scoped_plain"), in: .savepoint(readOnly: true), statementTimeoutMs: 1234,
                into: PGRowCollector())
            #expect(seen.rows == [[1]])
            // Its settings are gone after it: the transaction is read-write again, the timeout its own.
            #expect(try await connection.query("SHOW transaction_read_only").rows == [["off"]])
            #expect(try await connection.query("SHOW statement_timeout").rows == [["0"]])
            // A write inside a read-only savepoint scope is refused, and the transaction is left
            // aborted as PostgreSQL leaves it after any failed statement.
            let error = try await #require(throws: PGError.self) {
                try await connection.scoped(
                    PGStatement("INSERT INTO scoped_plain VALUES (2)"), in: .savepoint(readOnly: true), statementTimeoutMs: nil,
                    into: PGRowCollector())
            }
            #expect(error.sqlState == "25006")
            let aborted = try await #require(throws: PGError.self) { try await connection.query("SELECT 1") }
            #expect(aborted.sqlState == "25P02")
            try await connection.command("ROLLBACK")
            try await connection.command("DROP TABLE scoped_plain")
        }
    }
}
