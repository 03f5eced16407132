/// A connection pool's decisions, and nothing else: events in, actions out. No clock reads, no I/O,
/// no async code — time arrives with each event — so every rule is tested with a manual clock.
/// Modelled on postgres-nio's `PoolStateMachine` (see the registry issue's note for why not that one).
///
/// Rules:
/// - Idle connections are reused last-in first-out, so the least used age out by idle timeout.
/// - A request with nothing idle opens a connection when below `maximum` and fewer connections are
///   opening than requests wait; otherwise it waits, first come first served.
/// - Connections recycle at their lifetime (given per connection, spread by the caller) on release or
///   while idle; closing connections count toward `maximum` until their close is reported, so the
///   server never sees more than `maximum` backends from this pool.
/// - A failed connect backs off exponentially; while no connection is open, requests then fail at
///   once with the last error and the time to the next attempt (a circuit breaker). The first request
///   after that time tries again.
/// - Health is what the last connect, health check or served call said: `unhealthy` (with its error)
///   after a failed connect or check, `healthy` after a good one, `unknown` before any. Asked for it
///   (`healthProbeRequested`), a pool with nothing open whose health is unknown or older than the
///   health check interval opens one connection, so that the answer is first-hand.
public struct PoolStateMachine: Sendable {
    public let configuration: Configuration
    private(set) var connections: [ConnectionID: Connection] = [:]
    /// Idle connection ids, most recently used last.
    private var idleStack: [ConnectionID] = []
    private(set) var waiters: [Waiter] = []
    private(set) var failure: Failure?
    private(set) var evidence: Evidence?
    /// Why the database refuses this pool's connections for a reason that lasts until someone
    /// changes something (`privilegeCheck: "enforce"`), unlike an outage: set by a failed connect
    /// that says so, cleared by the next connect that succeeds.
    private(set) var refusal: String?
    private var nextConnectionID: ConnectionID = 0
    public private(set) var isShuttingDown = false

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    // MARK: - Events

    public mutating func leaseRequested(_ request: RequestID, now: Instant) -> [Action] {
        if isShuttingDown { return [.fail(request, .shutdown)] }
        var actions: [Action] = []
        if let id = popIdle(now: now, actions: &actions) {
            update(id) { $0.state = .leased(request) }
            actions.append(.lease(id, to: request))
            return actions
        }
        if let failure, openCount == 0, connectingCount == 0, now < failure.nextAttemptAt {
            actions.append(.fail(request, .unavailable(reason: failure.reason, retryIn: failure.nextAttemptAt - now)))
            return actions
        }
        waiters.append(Waiter(request: request, since: now))
        actions += refill(now: now)
        return actions
    }

    /// The request gave up (its task was cancelled). Fails it if it still waits.
    public mutating func leaseCancelled(_ request: RequestID) -> [Action] {
        guard let index = waiters.firstIndex(where: { $0.request == request }) else { return [] }
        waiters.remove(at: index)
        return [.fail(request, .cancelled)]
    }

    /// The request's deadline passed. Fails it if it still waits.
    public mutating func leaseTimedOut(_ request: RequestID, now: Instant) -> [Action] {
        guard let index = waiters.firstIndex(where: { $0.request == request }) else { return [] }
        let waiter = waiters.remove(at: index)
        if let failure, openCount == 0 {
            return [.fail(request, .unavailable(reason: failure.reason, retryIn: max(.zero, failure.nextAttemptAt - now)))]
        }
        return [
            .fail(
                request,
                .exhausted(
                    inUse: inUseCount, maximum: configuration.maximum, opening: connectingCount, waiting: waiters.count,
                    waited: now - waiter.since))
        ]
    }

    /// Connection `id` opened. `lifetime` is its own (the caller spreads lifetimes so that
    /// connections opened together do not all expire together); `nil` means the configured one.
    public mutating func connectionEstablished(_ id: ConnectionID, now: Instant, lifetime: Duration? = nil) -> [Action] {
        guard connections[id]?.state == .connecting else { return [.close(id, .broken)] }
        failure = nil
        refusal = nil
        evidence = Evidence(problem: nil, at: now)
        let life = lifetime ?? configuration.maxLifetime
        connections[id] = Connection(state: .connecting, expiresAt: life.map { now + $0 }, lastChecked: now)
        if isShuttingDown {
            update(id) { $0.state = .closing }
            return [.close(id, .shutdown)]
        }
        return makeAvailable(id, now: now)
    }

    /// Connection `id` could not be opened; `lasting` when the reason is a refusal that will not go
    /// away by itself (see `refusal`). Another failure leaves an earlier refusal as it was.
    public mutating func connectionFailed(_ id: ConnectionID, reason: String, lasting: Bool = false, now: Instant) -> [Action] {
        connections[id] = nil
        if lasting { refusal = reason }
        let consecutive = (failure?.consecutive ?? 0) + 1
        let delay = backoff(afterFailures: consecutive)
        failure = Failure(reason: reason, consecutive: consecutive, nextAttemptAt: now + delay)
        evidence = Evidence(problem: reason, at: now)
        var actions: [Action] = []
        if openCount == 0 && connectingCount == 0 {
            // Nothing will free up: tell every waiter now rather than at its deadline.
            for waiter in waiters { actions.append(.fail(waiter.request, .unavailable(reason: reason, retryIn: delay))) }
            waiters.removeAll()
        }
        return actions
    }

    /// A leased connection came back.
    public mutating func connectionReleased(_ id: ConnectionID, outcome: ReleaseOutcome, now: Instant) -> [Action] {
        guard let connection = connections[id], case .leased = connection.state else { return [] }
        if case .close(let reason) = outcome { return beginClose(id, reason) }
        if isShuttingDown { return beginClose(id, .shutdown) }
        if let expiresAt = connection.expiresAt, now >= expiresAt { return beginClose(id, .lifetime) }
        // It just served a request: as good as a health check.
        update(id) { $0.lastChecked = now }
        evidence = Evidence(problem: nil, at: now)
        return makeAvailable(id, now: now)
    }

    /// Connection `id` is closed (after a `.close` action, or because it died on its own).
    public mutating func connectionClosed(_ id: ConnectionID, now: Instant) -> [Action] {
        guard connections.removeValue(forKey: id) != nil else { return [] }
        idleStack.removeAll { $0 == id }
        return refill(now: now)
    }

    public mutating func checkSucceeded(_ id: ConnectionID, now: Instant) -> [Action] {
        guard connections[id]?.state == .checking else { return [] }
        update(id) { $0.lastChecked = now }
        evidence = Evidence(problem: nil, at: now)
        if isShuttingDown { return beginClose(id, .shutdown) }
        return makeAvailable(id, now: now)
    }

    /// The check of connection `id` failed with `reason`: it closes, and the pool reads unhealthy
    /// until a connect or check succeeds.
    public mutating func checkFailed(_ id: ConnectionID, reason: String, now: Instant) -> [Action] {
        guard connections[id]?.state == .checking else { return [] }
        evidence = Evidence(problem: "health check failed: \(reason)", at: now)
        return beginClose(id, .healthCheckFailed)
    }

    /// Whether the pool's health should be found out first-hand now: nothing is open or opening
    /// (idle connections are checked by `tick`), connects are not backing off (the last failure
    /// stands until then), and nothing was learnt since (a failed connect: since its backoff; else
    /// within the health check interval).
    public func isHealthProbeDue(now: Instant) -> Bool {
        guard !isShuttingDown, connections.isEmpty else { return false }
        if let failure {
            return now >= failure.nextAttemptAt
        }
        guard let evidence else { return true }
        return now - evidence.at >= configuration.healthCheckInterval
    }

    /// Someone asks whether the database answers (list_databases, server_status): when a probe is
    /// due, one connection opens; made, it parks idle like any other, so the probe is not wasted.
    public mutating func healthProbeRequested(now: Instant) -> [Action] {
        guard isHealthProbeDue(now: now) else { return [] }
        let id = nextConnectionID
        nextConnectionID += 1
        connections[id] = Connection(state: .connecting, expiresAt: nil, lastChecked: now)
        return [.connect(id)]
    }

    /// A probe outside the pool (of a pool that must hold no connection, such as a clone entry's
    /// template) answered: `problem` is `nil` when the database did.
    public mutating func probeFinished(problem: String?, now: Instant) {
        evidence = Evidence(problem: problem, at: now)
    }

    /// Periodic housekeeping: idle timeouts, lifetimes, health checks, the minimum, retries.
    public mutating func tick(now: Instant) -> [Action] {
        guard !isShuttingDown else { return [] }
        var actions: [Action] = []
        var open = openCount
        // Oldest idle first, so the idle timeout trims the least recently used.
        for id in idleStack {
            guard let connection = connections[id], case .idle(let since) = connection.state else { continue }
            if let expiresAt = connection.expiresAt, now >= expiresAt {
                actions += beginClose(id, .lifetime)
                open -= 1
            } else if now - since >= configuration.idleTimeout && open > configuration.minimum {
                actions += beginClose(id, .idleTimeout)
                open -= 1
            } else if now - connection.lastChecked >= configuration.healthCheckInterval {
                idleStack.removeAll { $0 == id }
                update(id) { $0.state = .checking }
                actions.append(.check(id))
            }
        }
        actions += refill(now: now)
        return actions
    }

    /// Stops the pool: waiters fail, idle connections close, leased ones close when released.
    public mutating func shutdown() -> [Action] {
        isShuttingDown = true
        var actions = waiters.map { Action.fail($0.request, .shutdown) }
        waiters.removeAll()
        for id in idleStack { actions += beginClose(id, .shutdown) }
        return actions
    }

    /// True once shut down and every connection is closed.
    public var isShutDown: Bool { isShuttingDown && connections.isEmpty }

    // MARK: - Helpers

    /// Changes connection `id`, if there is one, by a read and a write. Not `connections[id]?.state
    /// = …`: that goes through the dictionary's modify coroutine, whose frame (a `Connection` is too
    /// large for its inline buffer) was allocated on every change, several times per call.
    private mutating func update(_ id: ConnectionID, _ change: (inout Connection) -> Void) {
        guard var connection = connections[id] else { return }
        change(&connection)
        connections[id] = connection
    }

    /// Connected connections: idle, leased or being checked.
    private var openCount: Int { count { $0 != .connecting && $0 != .closing } }

    private var inUseCount: Int { count { if case .leased = $0 { true } else { false } } }

    private var connectingCount: Int { count { $0 == .connecting } }

    private func count(where matches: (State) -> Bool) -> Int {
        var total = 0
        for connection in connections.values where matches(connection.state) { total += 1 }
        return total
    }

    private func backoff(afterFailures count: Int) -> Duration {
        var delay = configuration.backoffInitial
        for _ in 1..<max(1, count) where delay < configuration.backoffMaximum { delay = delay * 2 }
        return min(delay, configuration.backoffMaximum)
    }

    /// Most recently used idle connection that is still within its lifetime; expired ones close.
    private mutating func popIdle(now: Instant, actions: inout [Action]) -> ConnectionID? {
        while let id = idleStack.popLast() {
            if let expiresAt = connections[id]?.expiresAt, now >= expiresAt {
                update(id) { $0.state = .closing }
                actions.append(.close(id, .lifetime))
                continue
            }
            return id
        }
        return nil
    }

    /// Gives connection `id` to the first waiter, or parks it idle.
    private mutating func makeAvailable(_ id: ConnectionID, now: Instant) -> [Action] {
        if !waiters.isEmpty {
            let waiter = waiters.removeFirst()
            update(id) { $0.state = .leased(waiter.request) }
            return [.lease(id, to: waiter.request)]
        }
        update(id) { $0.state = .idle(since: now) }
        idleStack.append(id)
        return []
    }

    private mutating func beginClose(_ id: ConnectionID, _ reason: CloseReason) -> [Action] {
        idleStack.removeAll { $0 == id }
        update(id) { $0.state = .closing }
        return [.close(id, reason)]
    }

    /// Opens connections while requests wait for them (or the pool is below its minimum),
    /// within `maximum`, unless connects are backing off.
    private mutating func refill(now: Instant) -> [Action] {
        guard !isShuttingDown else { return [] }
        if let failure, now < failure.nextAttemptAt { return [] }
        var connecting = connectingCount
        // While backing off (half-open), one attempt at a time.
        if failure != nil && connecting > 0 { return [] }
        var actions: [Action] = []
        while connections.count < configuration.maximum,
            connecting < waiters.count || connections.count < configuration.minimum
        {
            let id = nextConnectionID
            nextConnectionID += 1
            connections[id] = Connection(state: .connecting, expiresAt: nil, lastChecked: now)
            actions.append(.connect(id))
            connecting += 1
            // While backing off (half-open), one attempt at a time.
            if failure != nil { break }
        }
        return actions
    }
}
