import PGRegistry
import Testing

/// The pool's rules, with time as a value: no sleeps, no database.
@Suite("Pool state machine") struct PoolStateMachineTests {
    typealias Machine = PoolStateMachine
    let t0 = ContinuousClock.now

    func machine(
        min: Int = 0, max: Int = 3, idle: Duration = .seconds(300), lifetime: Duration? = .seconds(1800), health: Duration = .seconds(30)
    ) -> Machine {
        var configuration = Machine.Configuration()
        configuration.minimum = min
        configuration.maximum = max
        configuration.idleTimeout = idle
        configuration.maxLifetime = lifetime
        configuration.healthCheckInterval = health
        return Machine(configuration: configuration)
    }

    func at(_ seconds: Double) -> ContinuousClock.Instant { t0 + .milliseconds(Int64(seconds * 1000)) }

    @Test func firstLeaseOpensAConnectionAndGetsIt() {
        var pool = machine()
        #expect(pool.leaseRequested(1, now: at(0)) == [.connect(0)])
        #expect(pool.snapshot().connecting == 1)
        #expect(pool.snapshot().waiting == 1)
        #expect(pool.connectionEstablished(0, now: at(0.01)) == [.lease(0, to: 1)])
        #expect(pool.snapshot().inUse == 1)
        #expect(pool.snapshot().health == .healthy)
    }

    @Test func releasedConnectionIsReusedWithoutConnecting() {
        var pool = machine()
        _ = pool.leaseRequested(1, now: at(0))
        _ = pool.connectionEstablished(0, now: at(0))
        #expect(pool.connectionReleased(0, outcome: .reusable, now: at(1)) == [])
        #expect(pool.snapshot().idle == 1)
        #expect(pool.leaseRequested(2, now: at(2)) == [.lease(0, to: 2)])
    }

    @Test func fiftyRequestsOnAPoolOfThreeOpenThreeAndQueueTheRest() {
        var pool = machine(max: 3)
        var connects: [Machine.Action] = []
        for request in 0..<50 { connects += pool.leaseRequested(request, now: at(0)) }
        #expect(connects == [.connect(0), .connect(1), .connect(2)])
        #expect(pool.connectionEstablished(0, now: at(0.1)) == [.lease(0, to: 0)])
        #expect(pool.connectionEstablished(1, now: at(0.1)) == [.lease(1, to: 1)])
        #expect(pool.connectionEstablished(2, now: at(0.1)) == [.lease(2, to: 2)])
        #expect(pool.snapshot().waiting == 47)
        // Served first come, first served, without ever opening a fourth.
        #expect(pool.connectionReleased(1, outcome: .reusable, now: at(0.2)) == [.lease(1, to: 3)])
        #expect(pool.connectionReleased(1, outcome: .reusable, now: at(0.3)) == [.lease(1, to: 4)])
        #expect(pool.snapshot().open == 3)
    }

    @Test func timedOutRequestFailsWithThePoolState() {
        var pool = machine(max: 2)
        _ = pool.leaseRequested(1, now: at(0))
        _ = pool.leaseRequested(2, now: at(0))
        _ = pool.connectionEstablished(0, now: at(0))
        _ = pool.connectionEstablished(1, now: at(0))
        for request in 3...8 { _ = pool.leaseRequested(request, now: at(0)) }
        #expect(pool.leaseTimedOut(3, now: at(10)) == [.fail(3, .exhausted(inUse: 2, maximum: 2, opening: 0, waiting: 5, waited: .seconds(10)))])
        // Waiting on a connection still being opened is reported as such.
        var slow = machine(max: 2)
        _ = slow.leaseRequested(1, now: at(0))
        #expect(slow.leaseTimedOut(1, now: at(5)) == [.fail(1, .exhausted(inUse: 0, maximum: 2, opening: 1, waiting: 0, waited: .seconds(5)))])
        // Already served or gone: nothing happens.
        #expect(pool.leaseTimedOut(3, now: at(11)) == [])
        #expect(pool.leaseTimedOut(1, now: at(11)) == [])
    }

    @Test func cancelledRequestLeavesTheQueue() {
        var pool = machine(max: 1)
        _ = pool.leaseRequested(1, now: at(0))
        _ = pool.connectionEstablished(0, now: at(0))
        _ = pool.leaseRequested(2, now: at(0))
        _ = pool.leaseRequested(3, now: at(0))
        #expect(pool.leaseCancelled(2) == [.fail(2, .cancelled)])
        #expect(pool.connectionReleased(0, outcome: .reusable, now: at(1)) == [.lease(0, to: 3)])
    }

    @Test func downDatabaseFailsFastWithTheReasonBehindBackoff() {
        var pool = machine()
        #expect(pool.leaseRequested(1, now: at(0)) == [.connect(0)])
        _ = pool.leaseRequested(2, now: at(0))
        // Two waiters, two attempts (the database was not known to be down yet).
        #expect(pool.connectionFailed(0, reason: "connection refused", now: at(0.1)).isEmpty)
        let failed = pool.connectionFailed(1, reason: "connection refused", now: at(0.2))
        #expect(
            failed == [
                .fail(1, .unavailable(reason: "connection refused", retryIn: .milliseconds(500))),
                .fail(2, .unavailable(reason: "connection refused", retryIn: .milliseconds(500))),
            ])
        #expect(pool.snapshot().health == .unhealthy)
        #expect(pool.snapshot().lastError == "connection refused")
        // Within the backoff: an immediate answer, no connect.
        #expect(pool.leaseRequested(3, now: at(0.4)) == [.fail(3, .unavailable(reason: "connection refused", retryIn: .milliseconds(300)))])
        // After it: one attempt (half-open).
        #expect(pool.leaseRequested(4, now: at(0.8)) == [.connect(2)])
        #expect(pool.leaseRequested(5, now: at(0.8)) == [])
        // It fails again: the backoff doubles.
        #expect(
            pool.connectionFailed(2, reason: "connection refused", now: at(0.9)) == [
                .fail(4, .unavailable(reason: "connection refused", retryIn: .seconds(1))),
                .fail(5, .unavailable(reason: "connection refused", retryIn: .seconds(1))),
            ])
        // Recovery: the next attempt succeeds and health returns.
        #expect(pool.leaseRequested(6, now: at(2)) == [.connect(3)])
        #expect(pool.connectionEstablished(3, now: at(2.1)) == [.lease(3, to: 6)])
        #expect(pool.snapshot().health == .healthy)
        #expect(pool.snapshot().lastError == nil)
    }

    @Test func backoffIsCappedAtTheMaximum() {
        var pool = machine()
        var now = 0.0
        var lastRetry = Duration.zero
        for attempt in 0..<20 {
            _ = pool.leaseRequested(attempt, now: at(now))
            let actions = pool.connectionFailed(attempt, reason: "down", now: at(now))
            if case .fail(_, .unavailable(_, let retryIn)) = actions.first { lastRetry = retryIn }
            now += 60
        }
        #expect(lastRetry == .seconds(30))
    }

    @Test func idleConnectionsAboveMinimumCloseAfterIdleTimeout() {
        var pool = machine(min: 1, max: 3, idle: .seconds(60), health: .seconds(1000))
        for request in 0..<3 { _ = pool.leaseRequested(request, now: at(0)) }
        for id in 0..<3 { _ = pool.connectionEstablished(id, now: at(0)) }
        for id in 0..<3 { _ = pool.connectionReleased(id, outcome: .reusable, now: at(Double(id))) }
        #expect(pool.tick(now: at(59)) == [])
        // The two least recently used close; the minimum stays.
        #expect(pool.tick(now: at(61.5)) == [.close(0, .idleTimeout), .close(1, .idleTimeout)])
        #expect(pool.snapshot().closing == 2)
        _ = pool.connectionClosed(0, now: at(62))
        _ = pool.connectionClosed(1, now: at(62))
        #expect(pool.snapshot().open == 1)
    }

    @Test func minimumIsKeptOpen() {
        var pool = machine(min: 2, max: 5)
        #expect(pool.tick(now: at(0)) == [.connect(0), .connect(1)])
        _ = pool.connectionEstablished(0, now: at(0))
        _ = pool.connectionEstablished(1, now: at(0))
        #expect(pool.tick(now: at(1)) == [])
        #expect(pool.connectionClosed(0, now: at(2)) == [.connect(2)])
        #expect(pool.tick(now: at(3)) == [])
    }

    @Test func lifetimeRecyclesOnReleaseAndWhileIdle() {
        var pool = machine(max: 2, lifetime: .seconds(100))
        _ = pool.leaseRequested(1, now: at(0))
        _ = pool.leaseRequested(2, now: at(0))
        _ = pool.connectionEstablished(0, now: at(0), lifetime: .seconds(90))
        _ = pool.connectionEstablished(1, now: at(0), lifetime: .seconds(100))
        #expect(pool.connectionReleased(0, outcome: .reusable, now: at(95)) == [.close(0, .lifetime)])
        #expect(pool.connectionReleased(1, outcome: .reusable, now: at(50)) == [])
        #expect(pool.tick(now: at(101)) == [.close(1, .lifetime)])
    }

    @Test func closingConnectionsCountTowardTheMaximumUntilClosed() {
        var pool = machine(max: 1)
        _ = pool.leaseRequested(1, now: at(0))
        _ = pool.connectionEstablished(0, now: at(0))
        _ = pool.leaseRequested(2, now: at(0))
        #expect(pool.connectionReleased(0, outcome: .close(.dirty), now: at(1)) == [.close(0, .dirty)])
        // No second backend while the first is still closing.
        #expect(pool.snapshot().connecting == 0)
        #expect(pool.connectionClosed(0, now: at(1.1)) == [.connect(1)])
        #expect(pool.connectionEstablished(1, now: at(1.2)) == [.lease(1, to: 2)])
    }

    @Test func idleConnectionsAreHealthChecked() {
        var pool = machine()
        _ = pool.leaseRequested(1, now: at(0))
        _ = pool.connectionEstablished(0, now: at(0))
        _ = pool.connectionReleased(0, outcome: .reusable, now: at(1))
        #expect(pool.tick(now: at(29)) == [])
        #expect(pool.tick(now: at(31)) == [.check(0)])
        // Not leasable while checked: a request waits for it rather than opening another…
        #expect(pool.leaseRequested(2, now: at(31)) == [.connect(1)])
        #expect(pool.checkSucceeded(0, now: at(31.01)) == [.lease(0, to: 2)])
        _ = pool.connectionEstablished(1, now: at(31.02))
        #expect(pool.tick(now: at(40)) == [])
        _ = pool.connectionReleased(0, outcome: .reusable, now: at(40))
        #expect(pool.tick(now: at(62)) == [.check(1)])
        #expect(pool.checkFailed(1, reason: "server closed the connection unexpectedly", now: at(62.01)) == [.close(1, .healthCheckFailed)])
    }

    @Test func aConnectionDeadOnLeaseIsReplaced() {
        var pool = machine(max: 1)
        _ = pool.leaseRequested(1, now: at(0))
        _ = pool.connectionEstablished(0, now: at(0))
        _ = pool.connectionReleased(0, outcome: .reusable, now: at(1))
        // The shell found it dead on lease: it releases it broken and asks again.
        #expect(pool.leaseRequested(2, now: at(5)) == [.lease(0, to: 2)])
        #expect(pool.connectionReleased(0, outcome: .close(.broken), now: at(5)) == [.close(0, .broken)])
        #expect(pool.leaseRequested(3, now: at(5)) == [])
        #expect(pool.connectionClosed(0, now: at(5)) == [.connect(1)])
        #expect(pool.connectionEstablished(1, now: at(5)) == [.lease(1, to: 3)])
    }

    @Test func shutdownFailsWaitersAndClosesEverything() {
        var pool = machine(max: 2)
        _ = pool.leaseRequested(1, now: at(0))
        _ = pool.leaseRequested(2, now: at(0))
        _ = pool.connectionEstablished(0, now: at(0))
        _ = pool.connectionEstablished(1, now: at(0))
        _ = pool.connectionReleased(0, outcome: .reusable, now: at(1))
        _ = pool.leaseRequested(3, now: at(1))  // gets 0
        _ = pool.leaseRequested(4, now: at(1))  // waits
        #expect(pool.shutdown() == [.fail(4, .shutdown)])
        #expect(pool.leaseRequested(5, now: at(2)) == [.fail(5, .shutdown)])
        #expect(pool.connectionReleased(0, outcome: .reusable, now: at(2)) == [.close(0, .shutdown)])
        #expect(pool.connectionReleased(1, outcome: .reusable, now: at(2)) == [.close(1, .shutdown)])
        #expect(!pool.isShutDown)
        _ = pool.connectionClosed(0, now: at(3))
        _ = pool.connectionClosed(1, now: at(3))
        #expect(pool.isShutDown)
    }

    @Test func anUntriedPoolAskedForItsHealthOpensOneConnectionThatStaysIdle() {
        var pool = machine()
        #expect(pool.snapshot().health == .unknown)
        #expect(pool.isHealthProbeDue(now: at(0)))
        #expect(pool.healthProbeRequested(now: at(0)) == [.connect(0)])
        // A second asker while it opens: no second connection.
        #expect(pool.healthProbeRequested(now: at(0.01)) == [])
        #expect(pool.connectionEstablished(0, now: at(0.1)) == [])
        #expect(pool.snapshot().health == .healthy)
        #expect(pool.snapshot().idle == 1)
        // The parked connection serves the next request.
        #expect(pool.leaseRequested(1, now: at(0.2)) == [.lease(0, to: 1)])
        // With a connection open, its use and health checks keep health current: no probe.
        #expect(pool.healthProbeRequested(now: at(100)) == [])
    }

    @Test func aDownDatabaseReadsUnhealthyAfterOneProbeAndIsRetriedOnlyAfterTheBackoff() {
        var pool = machine()
        #expect(pool.healthProbeRequested(now: at(0)) == [.connect(0)])
        #expect(pool.connectionFailed(0, reason: "database \"gone\" does not exist", now: at(0.1)) == [])
        #expect(pool.snapshot().health == .unhealthy)
        #expect(pool.snapshot().lastError == "database \"gone\" does not exist")
        #expect(pool.healthProbeRequested(now: at(0.2)) == [])
        // After the backoff a probe is the half-open attempt; it succeeds and health returns.
        #expect(pool.healthProbeRequested(now: at(0.4)) == [.connect(1)])
        _ = pool.connectionEstablished(1, now: at(0.5))
        #expect(pool.snapshot().health == .healthy)
        #expect(pool.snapshot().lastError == nil)
    }

    @Test func aFailedHealthCheckMakesThePoolUnhealthyUntilAConnectSucceeds() {
        var pool = machine()
        _ = pool.leaseRequested(1, now: at(0))
        _ = pool.connectionEstablished(0, now: at(0))
        _ = pool.connectionReleased(0, outcome: .reusable, now: at(1))
        #expect(pool.tick(now: at(31)) == [.check(0)])
        #expect(pool.checkFailed(0, reason: "server closed the connection unexpectedly", now: at(31.1)) == [.close(0, .healthCheckFailed)])
        #expect(pool.snapshot().health == .unhealthy)
        #expect(pool.snapshot().lastError == "health check failed: server closed the connection unexpectedly")
        _ = pool.connectionClosed(0, now: at(31.2))
        #expect(pool.leaseRequested(2, now: at(32)) == [.connect(1)])
        _ = pool.connectionEstablished(1, now: at(32.1))
        #expect(pool.snapshot().health == .healthy)
    }

    @Test func healthLearntWithinTheIntervalIsNotProbedAgainOnceNothingIsOpen() {
        var pool = machine(health: .seconds(30))
        _ = pool.leaseRequested(1, now: at(0))
        _ = pool.connectionEstablished(0, now: at(0))
        _ = pool.connectionReleased(0, outcome: .close(.dirty), now: at(1))
        _ = pool.connectionClosed(0, now: at(1))
        #expect(!pool.isHealthProbeDue(now: at(20)))
        #expect(pool.healthProbeRequested(now: at(20)) == [])
        // Stale: a database that went down since would otherwise read healthy for ever.
        #expect(pool.healthProbeRequested(now: at(31.5)) == [.connect(1)])
    }

    @Test func aProbeOutsideThePoolSetsItsHealth() {
        // A clone entry's pool holds no connection: the registry probes, the pool records.
        var pool = machine(health: .seconds(30))
        pool.probeFinished(problem: "connection refused", now: at(0))
        #expect(pool.snapshot().health == .unhealthy)
        #expect(pool.snapshot().lastError == "connection refused")
        #expect(!pool.isHealthProbeDue(now: at(10)))
        #expect(pool.isHealthProbeDue(now: at(30)))
        pool.probeFinished(problem: nil, now: at(30))
        #expect(pool.snapshot().health == .healthy)
        #expect(!pool.isHealthProbeDue(now: at(31)))
    }

    @Test func aShutDownPoolIsNotProbed() {
        var pool = machine()
        _ = pool.shutdown()
        #expect(pool.healthProbeRequested(now: at(0)) == [])
    }

    @Test func aConnectionOpenedDuringShutdownIsClosed() {
        var pool = machine()
        _ = pool.leaseRequested(1, now: at(0))
        _ = pool.shutdown()
        #expect(pool.connectionEstablished(0, now: at(1)) == [.close(0, .shutdown)])
    }
}
