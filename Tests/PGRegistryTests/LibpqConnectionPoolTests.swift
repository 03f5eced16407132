import Foundation
import PGClient
import PGRegistry
import Synchronization
import TestSupport
import Testing

/// The production pool (libpq connections, the real clock) against a real PostgreSQL, counted in
/// pg_stat_activity: that `LibpqConnectionFactory` works. The pool's rules are unit-tested on a fake
/// factory and a manual clock (ConnectionPoolTests.swift).
@Suite("Connection pool on libpq") struct LibpqConnectionPoolTests {
    @Test func fiftyConcurrentLeasesOnAPoolOfThreeNeverShowMoreThanThreeBackends() async throws {
        let pool = try testPool(maximum: 3)
        let peak = Mutex(0)
        let monitor = Task {
            while !Task.isCancelled {
                let count = try await TestDatabase.backendCount(applicationName: pool.name)
                peak.withLock { $0 = max($0, count) }
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    let lease = try await pool.lease(timeout: .seconds(30))
                    try await lease.connection.command("SELECT pg_sleep(0.05)")
                    pool.release(lease, outcome: .reusable)
                }
            }
            try await group.waitForAll()
        }
        monitor.cancel()
        #expect(peak.withLock { $0 } == 3)
        #expect(try await TestDatabase.backendCount(applicationName: pool.name) <= 3)
        #expect(pool.snapshot().open == 3)
        await pool.shutdown()
        #expect(try await TestDatabase.backendCount(applicationName: pool.name) == 0)
    }

    @Test func acquireTimeoutNamesTheDatabaseAndThePoolState() async throws {
        let pool = try testPool(name: "prod", maximum: 1)
        let held = try await pool.lease(timeout: .seconds(5))
        let error = try await #require(throws: PoolError.self) { _ = try await pool.lease(timeout: .milliseconds(300)) }
        // The real wait is reported; under load the timer may fire a little late.
        #expect(error.message.hasPrefix("pool for 'prod' exhausted: 1/1 in use, 0 waiting, waited "))
        let waited = Int(error.message.split(separator: " ").dropLast().last ?? "") ?? 0
        #expect((300..<1000).contains(waited))
        pool.release(held, outcome: .reusable)
        // The pool is fine afterwards.
        pool.release(try await pool.lease(timeout: .seconds(1)), outcome: .reusable)
        await pool.shutdown()
    }

    @Test func everyWaiterGivesUpAtItsOwnDeadlineAndAServedOneNever() async throws {
        // One timer serves the pool: a later, shorter wait must re-arm it earlier.
        let pool = try testPool(maximum: 1)
        let held = try await pool.lease(timeout: .seconds(5))
        let clock = ContinuousClock()
        let started = clock.now
        async let long: Duration = {
            _ = try? await pool.lease(timeout: .milliseconds(1500))
            return clock.now - started
        }()
        try await Task.sleep(for: .milliseconds(50))
        async let short: Duration = {
            _ = try? await pool.lease(timeout: .milliseconds(200))
            return clock.now - started
        }()
        let shortWaited = await short
        let longWaited = await long
        #expect(shortWaited >= .milliseconds(200) && shortWaited < .milliseconds(1000), "\(shortWaited)")
        #expect(longWaited >= .milliseconds(1500), "\(longWaited)")
        // A waiter served before its deadline keeps its connection after the deadline passes.
        async let served = pool.lease(timeout: .milliseconds(300))
        try await Task.sleep(for: .milliseconds(50))
        pool.release(held, outcome: .reusable)
        let lease = try await served
        try await Task.sleep(for: .milliseconds(400))
        #expect(try await lease.connection.query("SELECT 1").rows == [[1]])
        pool.release(lease, outcome: .reusable)
        await pool.shutdown()
    }

    @Test func aCancelledTaskDoesNotWaitForAConnection() async throws {
        let pool = try testPool(maximum: 1)
        let held = try await pool.lease(timeout: .seconds(5))
        let clock = ContinuousClock()
        let started = clock.now
        let waiter = Task {
            withUnsafeCurrentTask { $0?.cancel() }  // cancelled before it asks
            _ = try await pool.lease(timeout: .seconds(10))
        }
        await #expect(throws: PoolError.self) { try await waiter.value }
        #expect(clock.now - started < .seconds(5))
        pool.release(held, outcome: .reusable)
        await pool.shutdown()
    }

    @Test func idleTimeoutClosesConnections() async throws {
        let pool = try testPool(maximum: 2, idleTimeout: .milliseconds(200))
        let a = try await pool.lease(timeout: .seconds(5))
        let b = try await pool.lease(timeout: .seconds(5))
        pool.release(a, outcome: .reusable)
        pool.release(b, outcome: .reusable)
        #expect(try await TestDatabase.backendCount(applicationName: pool.name) == 2)
        try await Task.sleep(for: .milliseconds(300))
        pool.tick()
        #expect(try await eventually { try await TestDatabase.backendCount(applicationName: pool.name) == 0 })
        #expect(pool.snapshot().open == 0)
        await pool.shutdown()
    }

    @Test func maxLifetimeRecyclesConnections() async throws {
        let pool = try testPool(maximum: 1, maxLifetime: .milliseconds(200))
        let first = try await pool.lease(timeout: .seconds(5))
        let firstPID = first.connection.backendPID
        try await Task.sleep(for: .milliseconds(300))
        pool.release(first, outcome: .reusable)
        let second = try await pool.lease(timeout: .seconds(5))
        #expect(second.connection.backendPID != firstPID)
        let pids = try await TestDatabase.rows("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [pool.name])
        #expect(pids == [[.int(Int64(second.connection.backendPID))]])
        pool.release(second, outcome: .reusable)
        await pool.shutdown()
    }

    @Test func terminatingEveryPooledBackendLeavesTheNextLeaseWorking() async throws {
        let pool = try testPool(maximum: 3)
        var leases: [PooledConnection] = []
        for _ in 0..<3 { leases.append(try await pool.lease(timeout: .seconds(5))) }
        for lease in leases { pool.release(lease, outcome: .reusable) }
        let terminated = try await TestDatabase.rows(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", [pool.name])
        #expect(terminated == [[3]])
        try await Task.sleep(for: .milliseconds(100))
        for _ in 0..<3 {
            let lease = try await pool.lease(timeout: .seconds(5))
            #expect(try await lease.connection.query("SELECT 1").rows == [[1]])
            pool.release(lease, outcome: .reusable)
        }
        await pool.shutdown()
    }

    @Test func aDatabaseThatDoesNotExistFailsFastAndClearly() async throws {
        let pool = try testPool(name: "ghost", parameters: TestDatabase.parameters(database: "no_such_database_here"))
        let started = ContinuousClock.now
        let error = try await #require(throws: PoolError.self) { _ = try await pool.lease(timeout: .seconds(10)) }
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(error.kind == .unavailable)
        #expect(error.message.hasPrefix("database 'ghost' unavailable: FATAL:  database \"no_such_database_here\" does not exist; next attempt in "))
        // Asked again within the backoff: answered at once, no new connect.
        let again = try await #require(throws: PoolError.self) { _ = try await pool.lease(timeout: .seconds(10)) }
        #expect(again.kind == .unavailable)
        #expect(pool.snapshot().health == .unhealthy)
        // Another pool on the same server is unaffected.
        let healthy = try testPool()
        let lease = try await healthy.lease(timeout: .seconds(5))
        healthy.release(lease, outcome: .reusable)
        await healthy.shutdown()
        await pool.shutdown()
    }

    @Test func aRestartedClusterIsRecoveredWithinSeconds() async throws {
        let cluster = try await PrivateCluster.start()
        let pool = try testPool(maximum: 2, parameters: PGConnectionParameters(conninfo: cluster.url))
        for _ in 0..<2 {
            let lease = try await pool.lease(timeout: .seconds(5))
            pool.release(lease, outcome: .reusable)
        }
        try await cluster.stop()
        // Down: fast, clear failures.
        let down = try await #require(throws: PoolError.self) { _ = try await pool.lease(timeout: .seconds(5)) }
        #expect(down.kind == .unavailable)
        #expect(down.message.contains("unavailable"))
        try await cluster.startAgain()
        let started = ContinuousClock.now
        let recovered = await eventually(within: .seconds(5)) {
            guard let lease = try? await pool.lease(timeout: .seconds(1)) else { return false }
            defer { pool.release(lease, outcome: .reusable) }
            return (try? await lease.connection.query("SELECT 1").rows) == [[1]]
        }
        #expect(recovered)
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(pool.snapshot().health == .healthy)
        await pool.shutdown()
        await cluster.destroy()
    }
}
