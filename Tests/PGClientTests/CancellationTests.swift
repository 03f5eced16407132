import Foundation
import PGClient
import PGMCPJSON
import TestSupport
import Testing

@Suite("Cancellation and early stop") struct CancellationTests {
    @Test func sleepCancelledFromAnotherTaskEndsWithinOneSecond() async throws {
        try await TestDatabase.withConnection { connection in
            let sleeping = Task { try await connection.query("SELECT pg_sleep(30)") }
            try await Task.sleep(for: .milliseconds(200))
            let cancelled = ContinuousClock.now
            await connection.cancel()
            let error = try await #require(throws: PGError.self) { _ = try await sleeping.value }
            #expect(ContinuousClock.now - cancelled < .seconds(1))
            #expect(error.kind == .cancelled)
            #expect(error.sqlState == "57014")
            #expect(try await connection.query("SELECT 1").rows == [[1]])
        }
    }

    @Test func taskCancellationCancelsTheStatement() async throws {
        try await TestDatabase.withConnection { connection in
            let task = Task { try await connection.query("SELECT pg_sleep(30)") }
            try await Task.sleep(for: .milliseconds(200))
            let cancelled = ContinuousClock.now
            task.cancel()
            let error = try await #require(throws: PGError.self) { _ = try await task.value }
            #expect(ContinuousClock.now - cancelled < .seconds(1))
            #expect(error.kind == .cancelled)
            #expect(try await connection.query("SELECT 1").rows == [[1]])
        }
    }

    @Test func stoppingAfterTenRowsOfAMillionIsPromptAndLeavesTheConnectionUsable() async throws {
        try await TestDatabase.withConnection { connection in
            let started = ContinuousClock.now
            // A cross join streams (generate_series alone is materialized first): 9M rows that take
            // tens of seconds to read in full, of which the first arrive at once.
            let result = try await connection.query(
                "SELECT a * 3000 + b, md5((a * 3000 + b)::text) FROM generate_series(0, 2999) a, generate_series(1, 3000) b", maxRows: 10)
            let elapsed = ContinuousClock.now - started
            #expect(result.rows.count == 10)
            #expect(result.rows.first?.first == .int(1))
            #expect(result.rows.count == 10)
            #expect(result.truncated)
            #expect(result.command.stoppedEarly)
            // The full query takes seconds here; stopping early must not read it all.
            #expect(elapsed < .seconds(1))
            #expect(connection.transactionStatus == .idle)
            #expect(try await connection.query("SELECT 'still usable'").rows == [["still usable"]])
        }
    }

    @Test func exactlyMaxRowsIsNotTruncated() async throws {
        try await TestDatabase.withConnection { connection in
            let result = try await connection.query("SELECT generate_series(1, 3)", maxRows: 3)
            #expect(result.rows == [[1], [2], [3]])
            #expect(!result.truncated)
        }
    }

    @Test func stoppingEarlyInsideATransactionKeepsTheTransaction() async throws {
        try await TestDatabase.withConnection { connection in
            try await connection.command("BEGIN READ ONLY")
            let result = try await connection.query("SELECT generate_series(1, 1000000)", maxRows: 5)
            #expect(result.truncated)
            // The cancel that stopped the rows aborted the transaction; a rollback ends it cleanly.
            try await connection.command("ROLLBACK")
            #expect(connection.transactionStatus == .idle)
            #expect(try await connection.query("SELECT 1").rows == [[1]])
        }
    }

    @Test func manySequentialEarlyStopsNeverCancelALaterStatement() async throws {
        try await TestDatabase.withConnection { connection in
            for _ in 0..<30 {
                let stopped = try await connection.query("SELECT generate_series(1, 100000)", maxRows: 2)
                #expect(stopped.rows.count == 2)
                // A late cancel would make this fail with 57014.
                #expect(try await connection.query("SELECT pg_sleep(0.01), 7").rows[0][1] == .int(7))
            }
        }
    }
}

@Suite("Cancel requests that cannot be delivered", .serialized) struct UndeliverableCancelTests {
    @Test func aCutWhoseCancelCannotReachThePostmasterAnswersWithItsRowsAndGivesTheConnectionUp() async throws {
        // The postmaster frozen: a cancel request connects (the kernel accepts it) and waits forever
        // for an answer. The cut must not wait with it: after the connect timeout the connection is
        // abandoned and the rows already read are the answer.
        let connection = try await PGConnection.connect(try TestDatabase.parameters(), timeout: .seconds(1))
        let started = ContinuousClock.now
        let result = try await whileFrozen(try TestDatabase.postmasterPID) {
            // Rows over 8 kB each: PostgreSQL sends each at once instead of filling its output buffer.
            try await connection.query("SELECT g, repeat('x', 9000), pg_sleep(0.01) FROM generate_series(1, 100000) g", maxRows: 3)
        }
        #expect(ContinuousClock.now - started < .seconds(4))
        #expect(result.rows.count == 3)
        #expect(result.truncated)
        #expect(connection.isBroken)
        await connection.close()
    }

    @Test func closingAConnectionWhoseBackendIsFrozenIsBounded() async throws {
        let connection = try await PGConnection.connect(try TestDatabase.parameters(), timeout: .seconds(1))
        let sleeping = Task { try await connection.query("SELECT pg_sleep(30)") }
        try await Task.sleep(for: .milliseconds(200))
        let started = ContinuousClock.now
        await whileFrozen(connection.backendPID) { await connection.close() }
        #expect(ContinuousClock.now - started < .seconds(3))
        await #expect(throws: PGError.self) { _ = try await sleeping.value }
    }
}
