import Foundation
import IOReactor
import PGClient
import PGMCPJSON
import TestSupport
import Testing

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

    @Test func aReadOnlyTransactionReturnsRowsAndLeavesTheConnectionReset() async throws {
        try await TestDatabase.withConnection { connection in
            let (command, rows) = try await connection.readOnlyTransaction(
                PGStatement("SELECT $1::int + 1 AS n", parameters: ["41"]), into: PGRowCollector())
            #expect(rows.rows == [[42]])
            #expect(command.commandTag == "SELECT 1")
            #expect(connection.transactionStatus == .idle)
            #expect(connection.isReset)
        }
    }

    @Test func whatOutlivesARollbackIsUndoneByTheReadOnlyTransactionItself() async throws {
        try await TestDatabase.withConnection { connection in
            // Session-level advisory locks and prepared statements survive a rollback; settings do not.
            _ = try await connection.readOnlyTransaction(PGStatement("SELECT pg_advisory_lock(4242)"), into: PGRowCollector())
            _ = try await connection.readOnlyTransaction(PGStatement("PREPARE leftover AS SELECT 1"), into: PGRowCollector())
            _ = try await connection.readOnlyTransaction(PGStatement("SELECT set_config('search_path', 'nowhere', false)"), into: PGRowCollector())
            #expect(connection.isReset)
            let locks = try await connection.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
            #expect(locks.rows == [[0]])
            #expect(try await connection.query("SELECT count(*) FROM pg_prepared_statements").rows == [[0]])
            #expect(try await connection.query("SHOW search_path").rows == [["\"$user\", public"]])
        }
    }

    @Test func aFailingStatementInAReadOnlyTransactionSkipsTheRestAndIsNotAReset() async throws {
        try await TestDatabase.withConnection { connection in
            let error = try await #require(throws: PGError.self) {
                try await connection.readOnlyTransaction(PGStatement("CREATE TABLE refused (x int)"), into: PGRowCollector())
            }
            #expect(error.sqlState == "25006")
            #expect(error.kind == .statement)
            #expect(connection.transactionStatus == .inFailedTransaction)
            #expect(!connection.isReset)
            try await connection.reset()
            #expect(connection.isReset)
            #expect(try await connection.query("SELECT 'usable'").rows == [["usable"]])
        }
    }

    @Test func tasksCanRunOnTheReactorThreadAndBeResumedThere() async throws {
        try await TestDatabase.withConnection { connection in
            let (rows, thread) = try await withTaskExecutorPreference(IOReactor.shared) {
                let rows = try await connection.query("SELECT 1 + 1").rows
                return (rows, currentThreadName())
            }
            #expect(rows == [[2]])
            #expect(thread == "pgmcp-pg-io")
        }
    }

    @Test func waitingStatementsHoldNoThreads() async throws {
        // Each connection waits for PostgreSQL on the shared epoll thread, not on a thread of its own.
        let connections = try await (0..<24).asyncMap { _ in try await TestDatabase.connect() }
        let before = threadCount()
        let peak = try await withThrowingTaskGroup(of: Int.self) { group in
            for connection in connections {
                group.addTask {
                    try await connection.command("SELECT pg_sleep(0.5)")
                    return 0
                }
            }
            group.addTask {
                var peak = 0
                for _ in 0..<8 {
                    try await Task.sleep(for: .milliseconds(50))
                    peak = max(peak, threadCount())
                }
                return peak
            }
            return try await group.reduce(0, max)
        }
        for connection in connections { await connection.close() }
        #expect(peak - before < 8, "threads grew from \(before) to \(peak) for 24 waiting statements")
    }
}

/// The calling thread's name, from /proc.
func currentThreadName() -> String {
    (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
}

/// This process's thread count, from /proc.
func threadCount() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Threads:") })
    else { return 0 }
    return Int(line.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces)) ?? 0
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
