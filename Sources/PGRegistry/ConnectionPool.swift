import Logging
import PGClient
import Synchronization

/// A pool of connections to one database: the thin shell around `PoolStateMachine`.
/// State changes happen under a lock; the actions they produce (connect, close, check, hand over)
/// run outside it. Shared by every session on a configured database; a dynamic connection's pool
/// belongs to its session alone.
public final class ConnectionPool: Sendable {
    public typealias ConnectionID = PoolStateMachine.ConnectionID

    /// The database's id, used in messages and logs.
    public let name: String
    /// Unique in this process (never reused, unlike an object's address): what per-pool caches
    /// are keyed by. Several pools can serve one name (each session's copy of a clone entry).
    public let serial: UInt64
    /// The pool's own name in metric labels (`pool`): a configured database's pool is its name; a
    /// session copy's or a dynamic connection's adds its serial, so their gauges do not overwrite
    /// each other (never a session handle, which is a credential).
    public let identity: String
    let parameters: PGConnectionParameters
    let applicationName: String
    let connectTimeout: Duration
    let logger: Logger
    let metrics: PoolMetrics
    /// Runs on every new connection before it is used; a throw makes the connect a failure.
    let prepare: (@Sendable (PGConnection) async throws -> Void)?
    let state: Mutex<State>

    struct State: ~Copyable {
        var machine: PoolStateMachine
        var connections: [ConnectionID: PGConnection] = [:]
        var waiters: [PoolStateMachine.RequestID: CheckedContinuation<PooledConnection, any Error>] = [:]
        /// When each waiting request gives up.
        var deadlines: [PoolStateMachine.RequestID: ContinuousClock.Instant] = [:]
        /// One timer for the pool, armed for the earliest deadline (a task per waiting request
        /// cost a spawn and a cancel for every call that had to wait).
        var timer: (deadline: ContinuousClock.Instant, task: Task<Void, Never>)?
        var nextRequestID = 0
        var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
        /// Callers of `probedSnapshot` waiting for a connect to finish, by a number of their own,
        /// each with the timer that stops its wait.
        var probeWaiters: [Int: (continuation: CheckedContinuation<Void, Never>, limit: Task<Void, Never>)] = [:]
        var serverVersion: Int?
    }

    /// - Parameters:
    ///   - applicationName: what `pg_stat_activity.application_name` shows for this pool's backends.
    public init(
        name: String, parameters: PGConnectionParameters, configuration: PoolStateMachine.Configuration,
        applicationName: String, connectTimeout: Duration, logger: Logger, sharedByName: Bool = true,
        prepare: (@Sendable (PGConnection) async throws -> Void)? = nil
    ) {
        self.prepare = prepare
        self.name = name
        serial = Self.serials.add(1, ordering: .relaxed).newValue
        identity = sharedByName ? name : "\(name)#\(serial)"
        self.parameters = parameters
        self.applicationName = applicationName
        self.connectTimeout = connectTimeout
        self.logger = logger
        self.metrics = PoolMetrics(database: name, pool: identity)
        self.state = Mutex(State(machine: PoolStateMachine(configuration: configuration)))
    }

    /// Leases a connection, waiting at most `timeout`. A leased connection found dead (its server
    /// went away while it sat idle) is replaced without the caller seeing an error.
    public func lease(timeout: Duration) async throws -> PooledConnection {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + timeout
        while true {
            let lease = try await leaseOnce(deadline: deadline)
            if await lease.connection.isAlive() {
                metrics.recordAcquire(clock.now - started)
                return lease
            }
            release(lease, outcome: .close(.broken))
        }
    }

    private func leaseOnce(deadline: ContinuousClock.Instant) async throws -> PooledConnection {
        let request = state.withLock { state in
            defer { state.nextRequestID += 1 }
            return state.nextRequestID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PooledConnection, any Error>) in
                let effects = state.withLock { state in
                    state.waiters[request] = continuation
                    let effects = apply(state.machine.leaseRequested(request, now: .now), &state)
                    if state.waiters[request] != nil {
                        state.deadlines[request] = deadline
                        armTimer(for: deadline, &state)
                    }
                    return effects
                }
                run(effects)
                // Cancelled before it was registered, the handler below found nothing to cancel.
                if Task.isCancelled { run(state.withLock { apply($0.machine.leaseCancelled(request), &$0) }) }
            }
        } onCancel: {
            run(state.withLock { apply($0.machine.leaseCancelled(request), &$0) })
        }
    }

    /// Returns a connection. `outcome` says whether it is clean enough to serve someone else.
    public func release(_ lease: PooledConnection, outcome: PoolStateMachine.ReleaseOutcome) {
        run(state.withLock { apply($0.machine.connectionReleased(lease.id, outcome: outcome, now: .now), &$0) })
    }

    /// Idle timeouts, lifetimes, health checks, the minimum, reconnects. Call about once a second.
    public func tick() {
        run(state.withLock { apply($0.machine.tick(now: .now), &$0) })
    }

    private static let serials = Atomic<UInt64>(0)

    /// Starts `shutdown` without waiting for it: from now on no lease is granted (waiters fail),
    /// idle connections close, and leased ones close as they come back.
    public func beginShutdown() {
        run(state.withLock { apply($0.machine.shutdown(), &$0) })
    }

    /// Fails waiters, closes idle connections now and leased ones as they come back, and returns
    /// once every connection is closed.
    public func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (effects, done) = state.withLock { state in
                let effects = apply(state.machine.shutdown(), &state)
                if state.machine.isShutDown { return (effects, true) }
                state.shutdownWaiters.append(continuation)
                return (effects, false)
            }
            run(effects)
            if done { continuation.resume() }
        }
        if identity != name { metrics.destroy() }
    }

    /// PostgreSQL's version (e.g. 150018) as the last connection opened reported it; `nil` before any.
    public var serverVersion: Int? { state.withLock { $0.serverVersion } }

    public func snapshot() -> PoolStateMachine.Snapshot {
        state.withLock { $0.machine.snapshot() }
    }

    // MARK: - Running actions

    /// What to do once the lock is released.
    enum Effect {
        case resume(CheckedContinuation<PooledConnection, any Error>, PooledConnection)
        case fail(CheckedContinuation<PooledConnection, any Error>, PoolError)
        case connect(ConnectionID)
        case close(ConnectionID, PGConnection?, PoolStateMachine.CloseReason)
        case check(ConnectionID, PGConnection)
        case finishShutdown([CheckedContinuation<Void, Never>])
    }

    /// Arms the pool's timer for `deadline` unless it is already set to fire no later.
    private func armTimer(for deadline: ContinuousClock.Instant, _ state: inout State) {
        if let timer = state.timer {
            if timer.deadline <= deadline { return }
            timer.task.cancel()
        }
        let task = Task { [weak self] in
            guard (try? await Task.sleep(until: deadline, clock: .continuous)) != nil else { return }
            self?.expireWaiters()
        }
        state.timer = (deadline, task)
    }

    /// Fails every waiting request whose deadline has passed, and re-arms for the next one.
    private func expireWaiters() {
        run(
            state.withLock { state in
                state.timer = nil
                let now = ContinuousClock.now
                var effects: [Effect] = []
                for (request, deadline) in state.deadlines where deadline <= now {
                    state.deadlines[request] = nil
                    effects += apply(state.machine.leaseTimedOut(request, now: now), &state)
                }
                if let next = state.deadlines.values.min() { armTimer(for: next, &state) }
                return effects
            })
    }

    /// Turns actions into effects, taking the continuations and connections they need (under the lock).
    func apply(_ actions: [PoolStateMachine.Action], _ state: inout State) -> [Effect] {
        var effects: [Effect] = []
        for action in actions {
            switch action {
            case .lease(let id, let request):
                state.deadlines.removeValue(forKey: request)
                guard let continuation = state.waiters.removeValue(forKey: request), let connection = state.connections[id] else { continue }
                effects.append(.resume(continuation, PooledConnection(id: id, connection: connection, pool: self)))
            case .fail(let request, let failure):
                state.deadlines.removeValue(forKey: request)
                guard let continuation = state.waiters.removeValue(forKey: request) else { continue }
                effects.append(.fail(continuation, PoolError(database: name, failure: failure)))
            case .connect(let id):
                effects.append(.connect(id))
            case .close(let id, let reason):
                effects.append(.close(id, state.connections.removeValue(forKey: id), reason))
            case .check(let id):
                if let connection = state.connections[id] { effects.append(.check(id, connection)) }
            }
        }
        if state.machine.isShutDown, let timer = state.timer {
            timer.task.cancel()
            state.timer = nil
        }
        if state.machine.isShutDown && !state.shutdownWaiters.isEmpty {
            effects.append(.finishShutdown(state.shutdownWaiters))
            state.shutdownWaiters = []
        }
        metrics.update(state.machine.snapshot())
        return effects
    }

    func run(_ effects: [Effect]) {
        for effect in effects {
            switch effect {
            case .resume(let continuation, let lease):
                continuation.resume(returning: lease)
            case .fail(let continuation, let error):
                continuation.resume(throwing: error)
            case .connect(let id):
                Task { await connect(id) }
            case .close(let id, let connection, let reason):
                metrics.recordClose(reason)
                logger.info(
                    "closing connection", metadata: ["database": "\(name)", "reason": "\(reason.rawValue)", "pid": "\(connection?.backendPID ?? 0)"])
                Task {
                    await connection?.close()
                    run(state.withLock { apply($0.machine.connectionClosed(id, now: .now), &$0) })
                }
            case .check(let id, let connection):
                Task {
                    var problem: String?
                    do {
                        // Bounded: a frozen server must not leave the connection checking for ever
                        // (shutdown waits for checks to end).
                        try await connection.bounded(by: connectTimeout) { try await connection.command("SELECT 1") }
                        if connection.transactionStatus != .idle { problem = "the connection was left inside a transaction" }
                    } catch {
                        problem = parameters.reason(for: error)
                    }
                    run(
                        state.withLock { state in
                            guard let problem else { return apply(state.machine.checkSucceeded(id, now: .now), &state) }
                            return apply(state.machine.checkFailed(id, reason: problem, now: .now), &state)
                        })
                }
            case .finishShutdown(let waiters):
                for waiter in waiters { waiter.resume() }
            }
        }
    }
}

/// A connection on loan from a pool. Give it back with `ConnectionPool.release`.
public struct PooledConnection: Sendable {
    public let id: ConnectionPool.ConnectionID
    public let connection: PGConnection
    public let pool: ConnectionPool
}
