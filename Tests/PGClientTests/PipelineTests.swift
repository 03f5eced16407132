import PGClient
import PGMCPJSON
import Testing
import TestSupport

@Suite("Pipelines") struct PipelineTests {
    @Test func statementsRunTogetherAndRowsComeFromTheChosenOne() async throws {
        try await TestDatabase.withConnection { connection in
            let (outcomes, rows) = try await connection.pipeline(
                [PGStatement("BEGIN READ ONLY"), PGStatement("SELECT $1::int * 2", parameters: ["21"]), PGStatement("ROLLBACK")],
                rowsFrom: 1, into: PGRowCollector())
            #expect(rows.rows == [[42]])
            #expect(outcomes.map { (try? $0.get())?.commandTag } == ["BEGIN", "SELECT 1", "ROLLBACK"])
            #expect(connection.transactionStatus == .idle)
        }
    }

    @Test func aFailingStatementDoesNotStopTheRollbackAfterIt() async throws {
        try await TestDatabase.withConnection { connection in
            let (outcomes, _) = try await connection.pipeline(
                [PGStatement("BEGIN READ ONLY"), PGStatement("CREATE TABLE refused (x int)"), PGStatement("ROLLBACK"), PGStatement("DISCARD ALL")],
                rowsFrom: 1, into: PGRowCollector())
            let error = try #require(throws: PGError.self) { try outcomes[1].get() }
            #expect(error.sqlState == "25006")
            #expect((try? outcomes[2].get())?.commandTag == "ROLLBACK")
            #expect((try? outcomes[3].get())?.commandTag == "DISCARD ALL")
            #expect(connection.transactionStatus == .idle)
            #expect(connection.isReset)
            // Still usable, and no longer reset once something else ran.
            #expect(try await connection.query("SELECT 1").rows == [[1]])
            #expect(!connection.isReset)
        }
    }

    @Test func stoppingEarlyInsideAPipelineStillRunsTheRest() async throws {
        try await TestDatabase.withConnection { connection in
            let (outcomes, rows) = try await connection.pipeline(
                [PGStatement("BEGIN READ ONLY"), PGStatement("SELECT generate_series(1, 1000000)"), PGStatement("ROLLBACK")],
                rowsFrom: 1, into: PGRowCollector(maxRows: 3))
            #expect(rows.rows == [[1], [2], [3]])
            #expect(rows.truncated)
            #expect((try? outcomes[1].get())?.stoppedEarly == true)
            #expect(connection.transactionStatus == .idle)
            #expect(try await connection.query("SELECT 'next'").rows == [["next"]])
        }
    }

    @Test func multipleStatementsInOneStringAreStillRefused() async throws {
        try await TestDatabase.withConnection { connection in
            try await connection.command("CREATE TEMP TABLE p (x int)")
            let (outcomes, _) = try await connection.pipeline(
                [PGStatement("SELECT 1; INSERT INTO p VALUES (1)"), PGStatement("SELECT count(*) FROM p")], rowsFrom: 1, into: PGRowCollector())
            #expect(throws: PGError.self) { try outcomes[0].get() }
            #expect(try await connection.query("SELECT count(*) FROM p").rows == [[0]])
        }
    }

    @Test func aPipelineCanBeCancelled() async throws {
        try await TestDatabase.withConnection { connection in
            let task = Task {
                try await connection.pipeline([PGStatement("SELECT pg_sleep(30)"), PGStatement("SELECT 1")], rowsFrom: 0, into: PGRowCollector())
            }
            try await Task.sleep(for: .milliseconds(200))
            await connection.cancel()
            let (outcomes, _) = try await task.value
            let error = try #require(throws: PGError.self) { try outcomes[0].get() }
            #expect(error.kind == .cancelled)
            #expect((try? outcomes[1].get())?.commandTag == "SELECT 1")
        }
    }
}
