import Logging
import PGClient
import Testing

@testable import PGRegistry

/// The registry's runner of pools: no pool is left running, none added later is left out.
@Suite("Pool group") struct PoolGroupTests {
    /// A pool that is never asked for a connection: it needs no database.
    static func idlePool() throws -> ConnectionPool {
        ConnectionPool(
            name: "idle", parameters: try PGConnectionParameters(conninfo: "host=127.0.0.1 port=1"), configuration: .init(),
            applicationName: "idle", connectTimeout: .seconds(1), logger: Logger(label: "test"))
    }

    /// A pool the group never ran would wait here for ever: the time limit makes that a failure.
    @Test(.timeLimit(.minutes(1))) func closingTheGroupEndsItsRunAndShutsEveryPoolDownAddedLaterToo() async throws {
        let group = PoolGroup()
        let first = try Self.idlePool()
        group.add(first)
        let running = Task { await group.run() }
        let later = try Self.idlePool()
        group.add(later)
        // Added while the group runs: run by it, not only shut down by `close()`.
        while !(first.isRunning && later.isRunning) { await Task.yield() }
        group.close()
        await running.value
        for pool in [first, later] {
            let error = await #expect(throws: PoolError.self) { _ = try await pool.lease(timeout: .seconds(1)) }
            #expect(error?.kind == .shutdown)
        }
    }

    @Test func aPoolAddedAfterTheGroupClosedIsShutDownAtOnce() async throws {
        let group = PoolGroup()
        group.close()
        await group.run()
        let pool = try Self.idlePool()
        group.add(pool)
        let error = await #expect(throws: PoolError.self) { _ = try await pool.lease(timeout: .seconds(1)) }
        #expect(error?.kind == .shutdown)
        await pool.shutdown()
    }

    @Test func cancellingTheGroupsRunShutsItsPoolsDown() async throws {
        let group = PoolGroup()
        let pool = try Self.idlePool()
        group.add(pool)
        let running = Task { await group.run() }
        running.cancel()
        await running.value
        let error = await #expect(throws: PoolError.self) { _ = try await pool.lease(timeout: .seconds(1)) }
        #expect(error?.kind == .shutdown)
    }
}
