import Logging
import PGRegistry
import Synchronization
import Testing

typealias FakePool = Pool<FakeConnectionFactory, ManualClock>

/// A pool on a fake factory and a manual clock, for `body`; its `run()` runs beside it. Afterwards
/// the pool is shut down, and `run()` must have returned.
func withFakePool(
    name: String = "fake", maximum: Int = 1, minimum: Int = 0, idleTimeout: Duration = .seconds(300), maxLifetime: Duration? = nil,
    _ body: (FakePool, FakeConnectionFactory, ManualClock) async throws -> Void
) async throws {
    let factory = FakeConnectionFactory()
    let clock = ManualClock()
    let configuration = testPoolConfiguration(maximum: maximum, minimum: minimum, idleTimeout: idleTimeout, maxLifetime: maxLifetime)
    let pool = fakePool(name: name, factory: factory, configuration: configuration, clock: clock)
    try await withThrowingDiscardingTaskGroup { group in
        group.addTask { await pool.run() }
        do { try await body(pool, factory, clock) } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }
    #expect(factory.open.isEmpty)
}

/// A pool on `factory` and `clock`, not yet run.
func fakePool(
    name: String = "fake", factory: FakeConnectionFactory, configuration: PoolStateMachine.Configuration = .init(), clock: ManualClock = ManualClock()
) -> FakePool {
    FakePool(name: name, factory: factory, configuration: configuration, clock: clock, connectTimeout: .seconds(5), logger: Logger(label: "test"))
}

/// Waits, without sleeping, for background work (`run()`'s connects and closes) to make `condition` true.
func settled(_ condition: () -> Bool) async -> Bool {
    for _ in 0..<100_000 {
        if condition() { return true }
        await Task.yield()
    }
    return condition()
}

/// The error a lease ends with, or `nil` when it got a connection (released at once).
func leaseFailure(_ pool: FakePool, timeout: Duration) async -> PoolError? {
    do {
        pool.release(try await pool.lease(timeout: timeout), outcome: .reusable)
        return nil
    } catch {
        return error as? PoolError
    }
}

/// The pool's rules in its shell: a fake factory and a manual clock, no PostgreSQL, no sleeps.
@Suite("Connection pool") struct ConnectionPoolTests {
    @Test func aReleasedConnectionServesTheNextLeaseWithoutAConnect() async throws {
        try await withFakePool { pool, factory, _ in
            let first = try await pool.lease(timeout: .seconds(1))
            pool.release(first, outcome: .reusable)
            let second = try await pool.lease(timeout: .seconds(1))
            #expect(second.connection === first.connection)
            #expect(factory.attempts == 1)
            pool.release(second, outcome: .reusable)
            #expect(pool.snapshot().open == 1 && pool.snapshot().idle == 1)
        }
    }

    @Test func acquireTimeoutNamesTheDatabaseAndThePoolState() async throws {
        try await withFakePool(name: "prod") { pool, _, clock in
            let held = try await pool.lease(timeout: .seconds(5))
            async let failure = leaseFailure(pool, timeout: .milliseconds(300))
            await clock.sleeperUntil(.milliseconds(300))
            clock.advance(by: .milliseconds(300))
            #expect(await failure?.message == "pool for 'prod' exhausted: 1/1 in use, 0 waiting, waited 300 ms")
            pool.release(held, outcome: .reusable)
            // The pool is fine afterwards.
            pool.release(try await pool.lease(timeout: .seconds(1)), outcome: .reusable)
        }
    }

    @Test func everyWaiterGivesUpAtItsOwnDeadlineAndAServedOneNever() async throws {
        // One timer serves the pool: a later, shorter wait must re-arm it earlier.
        try await withFakePool { pool, _, clock in
            let held = try await pool.lease(timeout: .seconds(5))
            async let long = leaseFailure(pool, timeout: .milliseconds(1500))
            await clock.sleeperUntil(.milliseconds(1500))
            async let short = leaseFailure(pool, timeout: .milliseconds(200))
            await clock.sleeperUntil(.milliseconds(200))
            clock.advance(by: .milliseconds(200))
            #expect(await short?.kind == .exhausted)
            #expect(pool.snapshot().waiting == 1)
            clock.advance(by: .milliseconds(1300))
            #expect(await long?.message.hasSuffix("waited 1.5 s") == true)
            // A waiter served before its deadline keeps its connection after the deadline passes.
            async let served = pool.lease(timeout: .milliseconds(300))
            await clock.sleeperUntil(.milliseconds(1800))
            pool.release(held, outcome: .reusable)
            let lease = try await served
            clock.advance(by: .milliseconds(400))
            #expect(await settled { clock.sleeperCount == 0 })
            #expect(pool.snapshot().inUse == 1)
            #expect(!lease.connection.isClosed)
            pool.release(lease, outcome: .reusable)
        }
    }

    @Test func aTimerLeftArmedByAServedRequestReArmsForTheNextWaiter() async throws {
        try await withFakePool { pool, _, clock in
            // Its request waited for the connect, with a deadline 5 s out: the timer stays armed for it.
            let held = try await pool.lease(timeout: .seconds(5))
            async let failure = leaseFailure(pool, timeout: .seconds(10))
            await clock.sleeperUntil(.seconds(5))
            #expect(await settled { pool.snapshot().waiting == 1 })
            clock.advance(by: .seconds(5))
            await clock.sleeperUntil(.seconds(10))
            #expect(pool.snapshot().waiting == 1)
            clock.advance(by: .seconds(5))
            #expect(await failure?.kind == .exhausted)
            pool.release(held, outcome: .reusable)
        }
    }

    @Test func aCancelledTaskDoesNotWaitForAConnection() async throws {
        try await withFakePool { pool, _, _ in
            let held = try await pool.lease(timeout: .seconds(5))
            let early = Task {
                withUnsafeCurrentTask { $0?.cancel() }  // cancelled before it asks
                _ = try await pool.lease(timeout: .seconds(10))
            }
            await #expect(throws: PoolError.self) { try await early.value }
            // Cancelled while it waits.
            let waiting = Task { try await pool.lease(timeout: .seconds(20)) }
            #expect(await settled { pool.snapshot().waiting == 1 })
            waiting.cancel()
            let error = await #expect(throws: PoolError.self) { try await waiting.value }
            #expect(error?.kind == .cancelled)
            #expect(pool.snapshot().waiting == 0)
            pool.release(held, outcome: .reusable)
        }
    }

    @Test func idleTimeoutClosesConnectionsAboveTheMinimum() async throws {
        try await withFakePool(maximum: 3, minimum: 1, idleTimeout: .milliseconds(200)) { pool, factory, clock in
            let leases = [try await pool.lease(timeout: .seconds(5)), try await pool.lease(timeout: .seconds(5))]
            for lease in leases { pool.release(lease, outcome: .reusable) }
            pool.tick()
            #expect(pool.snapshot().open == 2)
            clock.advance(by: .milliseconds(200))
            pool.tick()
            #expect(await settled { factory.open.count == 1 })
            #expect(pool.snapshot().open == 1)
        }
    }

    @Test func maxLifetimeRecyclesConnections() async throws {
        try await withFakePool(maxLifetime: .milliseconds(200)) { pool, factory, clock in
            let first = try await pool.lease(timeout: .seconds(5))
            clock.advance(by: .milliseconds(200))
            pool.release(first, outcome: .reusable)
            let second = try await pool.lease(timeout: .seconds(5))
            #expect(second.connection !== first.connection)
            #expect(await settled { factory.open.map(\.number) == [second.connection.number] })
            pool.release(second, outcome: .reusable)
        }
    }

    @Test func connectionsDroppedWhileIdleAreReplacedWithoutTheCallerSeeingIt() async throws {
        try await withFakePool(maximum: 3) { pool, factory, _ in
            var leases: [FakePool.Lease] = []
            for _ in 0..<3 { leases.append(try await pool.lease(timeout: .seconds(5))) }
            for lease in leases { pool.release(lease, outcome: .reusable) }
            for connection in factory.made { connection.drop() }
            for _ in 0..<3 {
                let lease = try await pool.lease(timeout: .seconds(5))
                #expect(!lease.connection.isDropped)
                pool.release(lease, outcome: .reusable)
            }
            #expect(await settled { factory.made.filter(\.isDropped).allSatisfy(\.isClosed) })
        }
    }

    @Test func anUnreachableDatabaseFailsFastAndClearlyAndIsRetriedAfterTheBackoff() async throws {
        try await withFakePool(name: "ghost") { pool, factory, clock in
            factory.failConnects("FATAL:  database \"nowhere\" does not exist")
            let error = try await #require(throws: PoolError.self) { _ = try await pool.lease(timeout: .seconds(10)) }
            #expect(error.kind == .unavailable)
            #expect(error.message == "database 'ghost' unavailable: FATAL:  database \"nowhere\" does not exist; next attempt in 100 ms")
            // Asked again within the backoff: answered at once, no new connect.
            let again = try await #require(throws: PoolError.self) { _ = try await pool.lease(timeout: .seconds(10)) }
            #expect(again.kind == .unavailable)
            #expect(factory.attempts == 1)
            #expect(pool.snapshot().health == .unhealthy)
            // Back, and the backoff over: the next lease connects.
            factory.failConnects(nil)
            clock.advance(by: .milliseconds(100))
            pool.release(try await pool.lease(timeout: .seconds(1)), outcome: .reusable)
            #expect(pool.snapshot().health == .healthy)
        }
    }

    @Test func aFailedHealthCheckClosesTheConnectionAndMarksThePoolUnhealthy() async throws {
        try await withFakePool { pool, factory, clock in
            pool.release(try await pool.lease(timeout: .seconds(1)), outcome: .reusable)
            factory.failChecks("server closed the connection")
            clock.advance(by: .seconds(30))
            pool.tick()
            #expect(await settled { factory.open.isEmpty })
            #expect(pool.snapshot().health == .unhealthy)
            #expect(pool.snapshot().lastError == "health check failed: server closed the connection")
        }
    }

    @Test func theHealthProbeWaitsForItsConnectButNoLongerThanItsDeadline() async throws {
        try await withFakePool { pool, factory, clock in
            factory.holdConnects()
            async let probed = pool.probedSnapshot()
            // The connect timeout (5 s) and a second for the role check.
            await clock.sleeperUntil(.seconds(6))
            clock.advance(by: .seconds(6))
            #expect(await probed.health == .unknown)
            factory.releaseConnects()
            #expect(await settled { pool.snapshot().idle == 1 })
            #expect(await pool.probedSnapshot().health == .healthy)
        }
    }

    @Test func shutdownEndsRunOnceTheLastLeasedConnectionComesBack() async throws {
        let factory = FakeConnectionFactory()
        let pool = fakePool(factory: factory)
        let ended = Flag()
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                await pool.run()
                ended.set()
            }
            let lease = try await pool.lease(timeout: .seconds(1))
            pool.beginShutdown()
            #expect(await leaseFailure(pool, timeout: .seconds(1))?.kind == .shutdown)
            #expect(!ended.isSet)
            pool.release(lease, outcome: .reusable)
        }
        #expect(ended.isSet)
        #expect(factory.open.isEmpty)
    }

    @Test func cancellingRunShutsThePoolDown() async throws {
        let factory = FakeConnectionFactory()
        let pool = fakePool(factory: factory)
        let running = Task { await pool.run() }
        let lease = try await pool.lease(timeout: .seconds(1))
        running.cancel()
        #expect(await leaseFailure(pool, timeout: .seconds(1))?.kind == .shutdown)
        pool.release(lease, outcome: .reusable)
        await running.value
        #expect(factory.open.isEmpty)
        #expect(pool.snapshot().open == 0)
    }
}

/// Set once, read from anywhere.
final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
