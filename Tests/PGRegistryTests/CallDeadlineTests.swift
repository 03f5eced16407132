import Foundation
import PGClient
import PGConfig
import PGRegistry
import Synchronization
import TestSupport
import Testing

/// Deadlines of our own: a PostgreSQL that stops answering (SIGSTOP on its backend) must not hold a
/// call, a session's end or shutdown forever.
@Suite("Call deadlines", .serialized) struct CallDeadlineTests {
    /// A registry whose one database has `statementTimeoutMs` and whose grace (PGMCP_CONNECT_TIMEOUT) is 1 s.
    func frozenSetup(statementTimeoutMs: Int) throws -> (ConnectionPoolRegistry, String) {
        var database = try TestDatabase.config(id: "main")
        database.statementTimeoutMs = statementTimeoutMs
        return try testRegistry(databases: [database]) { $0.connectTimeout = .seconds(1) }
    }

    /// Runs `work` and waits at most `limit` for it: true if it finished in time. A hang fails the
    /// test instead of hanging it (the work finishes once the backend is thawed).
    func finishes(within limit: Duration, _ work: @escaping @Sendable () async -> Void) async -> Bool {
        let finished = Flag()
        Task {
            await work()
            finished.set()
        }
        return await eventually(within: limit) { finished.isSet }
    }

    final class Flag: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }

    @Test func aFrozenBackendFailsTheCallAtItsStatementTimeoutPlusTheGrace() async throws {
        let (registry, _) = try frozenSetup(statementTimeoutMs: 500)
        let session = try registry.createSession()
        let pid = try await registry.withConnection(session: session) { connection, _ in connection.backendPID }
        let started = ContinuousClock.now
        let error = try await whileFrozen(pid) {
            try await #require(throws: RegistryError.self) {
                try await registry.withConnection(session: session) { connection, _ in try await connection.command("SELECT 1") }
            }
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(1400) && elapsed < .seconds(4), "\(elapsed)")
        #expect(error.kind == .deadlineExceeded)
        #expect(error.message.contains("database 'main' did not answer within 1.5 s"), "\(error.message)")
        // The abandoned connection is not reused: the next call gets a fresh one and works.
        #expect(try await registry.withConnection(session: session) { connection, _ in connection.backendPID } != pid)
        await registry.shutdown()
    }

    @Test func endingASessionAndShutdownAreBoundedWhenItsBackendIsFrozen() async throws {
        // No statement timeout: only the cancellation (the session's end) bounds the call.
        let (registry, prefix) = try frozenSetup(statementTimeoutMs: 0)
        let session = try registry.createSession()
        let call = Task { try await registry.withConnection(session: session) { c, _ in try await c.command("SELECT pg_sleep(30) /* frozen */") } }
        let running = "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%frozen */' AND application_name LIKE $1 || '%'"
        #expect(try await eventually { try await TestDatabase.rows(running, [prefix]).count == 1 })
        let pid = Int32(try #require(try await TestDatabase.rows(running, [prefix]).first?.first?.intValue))
        try await whileFrozen(pid) {
            let ended = await finishes(within: .seconds(4)) { await registry.endSession(session.handle) }
            #expect(ended, "ending the session waited on a frozen backend")
            await #expect(throws: (any Error).self) { try await call.value }
            let stopped = await finishes(within: .seconds(4)) { await registry.shutdown() }
            #expect(stopped, "shutdown waited on a frozen backend")
        }
    }

    @Test func idleSessionsWithFrozenTransactionsAreEndedTogetherWithinOneGracePeriod() async throws {
        // Before, the reaper ended them one after the other, a grace period each, and the
        // housekeeping loop that runs it (pool ticks included) waited for all of them.
        let clock = ManualClock()
        let (registry, _) = try testRegistry(databases: [try TestDatabase.config(id: "main")], clock: clock) { $0.connectTimeout = .seconds(1) }
        var pids: [Int32] = []
        for _ in 0..<3 {
            let session = try registry.createSession()
            let pinned = try await registry.pin(session: session, database: nil, readOnly: true) { connection, _ in
                try await connection.command("BEGIN READ ONLY")
            }
            pids.append(pinned.connection.backendPID)
        }
        clock.advance(by: .seconds(3600))
        let started = ContinuousClock.now
        try await whileFrozen(pids[0]) {
            try await whileFrozen(pids[1]) {
                try await whileFrozen(pids[2]) {
                    let reaped = await finishes(within: .seconds(5)) { await registry.reapIdleSessions() }
                    #expect(reaped)
                }
            }
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < .milliseconds(1800), "the reaper took \(elapsed)")
        #expect(registry.sessionCount == 0)
        await registry.shutdown()
    }

    @Test func shutdownCancelsTheStatementOfASingleCallSession() async throws {
        // A stateless call's session (MCP 2026-07-28 without a handle) is not among the sessions;
        // before, shutdown did not end it, and the pool's close waited out its statement.
        let (registry, prefix) = try frozenSetup(statementTimeoutMs: 0)
        let call = Task {
            try await registry.withCallSession(label: nil, ownedBy: .anyone) { session in
                try await registry.withConnection(session: session) { c, _ in try await c.command("SELECT pg_sleep(30) /* single-call */") }
            }
        }
        let running = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%single-call */' AND application_name LIKE $1 || '%'"
        #expect(try await eventually { try await TestDatabase.rows(running, [prefix]) == [[1]] })
        let stopped = await finishes(within: .seconds(4)) { await registry.shutdown() }
        #expect(stopped, "shutdown waited out a single call's statement")
        await #expect(throws: (any Error).self) { try await call.value }
        #expect(try await TestDatabase.rows(running, [prefix]) == [[0]])
    }
}
