import Logging
import PGClient
import Synchronization

/// The production pool: libpq connections on the real clock.
public typealias ConnectionPool = Pool<LibpqConnectionFactory, ContinuousClock>
/// A libpq connection on loan from a `ConnectionPool`.
public typealias PooledConnection = PoolLease<LibpqConnectionFactory, ContinuousClock>

/// A pool of connections to one database: the thin shell around `PoolStateMachine`.
/// State changes happen under a lock; the actions they produce are run outside it: handing a
/// connection over (or failing a request) at once, in the caller; connects, closes, checks and the
/// one timer inside `run()` (ConnectionPool+Run.swift), which whoever owns the pool runs in a task
/// group. Shared by every session on a configured database; a dynamic connection's pool belongs to
/// its session alone.
///
/// Generic over where connections come from (`PoolConnectionFactory`) and the clock, so that its
/// tests run on a fake factory and a manual clock. Its instants are `ContinuousClock`'s, those of
/// `PoolStateMachine`: a test clock moves along the same timeline by hand.
public final class Pool<Factory: PoolConnectionFactory, PoolClock: Clock>: Sendable
where PoolClock.Instant == ContinuousClock.Instant {
    public typealias ConnectionID = PoolStateMachine.ConnectionID
    public typealias Lease = PoolLease<Factory, PoolClock>
    typealias Instant = ContinuousClock.Instant

    /// The database's id, used in messages and logs.
    public let name: String
    /// Unique in this process (never reused, unlike an object's address): what per-pool caches
    /// are keyed by. Several pools can serve one name (each session's copy of a clone entry).
    public let serial: UInt64
    /// The pool's own name in metric labels (`pool`): a configured database's pool is its name; a
    /// session copy's or a dynamic connection's adds its serial, so their gauges do not overwrite
    /// each other (never a session handle, which is a credential).
    public let identity: String
    let factory: Factory
    let clock: PoolClock
    /// How long a connect may take: the health probe waits this long (and a second more).
    let connectTimeout: Duration
    let logger: Logger
    let metrics: PoolMetrics
    let state: Mutex<State>
    /// Connects, closes, checks and timers for `run()` to start.
    let work = WorkQueue<Work>()

    struct State: ~Copyable {
        var machine: PoolStateMachine
        var connections: [ConnectionID: Factory.Connection] = [:]
        var waiters: [PoolStateMachine.RequestID: CheckedContinuation<Lease, any Error>] = [:]
        /// Requests decided before their caller suspended (granted or failed between the lock that
        /// asked and the one that registers the continuation): the caller takes the outcome here.
        var decided: [PoolStateMachine.RequestID: Result<Lease, any Error>] = [:]
        /// When each waiting request gives up.
        var deadlines = DeadlineQueue<PoolStateMachine.RequestID, Void>()
        /// Callers of `probedSnapshot` waiting for a connect to finish, until their own deadline.
        var probeWaiters = DeadlineQueue<Int, CheckedContinuation<Void, Never>>()
        /// The pool's one timer, armed for the earliest deadline of either queue.
        var timer: ArmedTimer?
        var nextTimerID = 0
        var running = false
        var nextRequestID = 0
        var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
        var serverVersion: Int?
    }

    /// - Parameters:
    ///   - sharedByName: a configured database's pool (named by its database in metrics), not a
    ///     session's own.
    ///   - database: the `database` label of its metrics when it is not `name` (a role's pool,
    ///     `prod/analyst`, is the database `prod`'s).
    public init(
        name: String, factory: Factory, configuration: PoolStateMachine.Configuration, clock: PoolClock, connectTimeout: Duration,
        logger: Logger, sharedByName: Bool = true, database: String? = nil
    ) {
        self.name = name
        serial = serials.add(1, ordering: .relaxed).newValue
        identity = sharedByName ? name : "\(name)#\(serial)"
        self.factory = factory
        self.clock = clock
        self.connectTimeout = connectTimeout
        self.logger = logger
        self.metrics = PoolMetrics(database: database ?? name, pool: identity)
        self.state = Mutex(State(machine: PoolStateMachine(configuration: configuration)))
    }

    /// Leases a connection, waiting at most `timeout`. A leased connection found dead (its server
    /// went away while it sat idle) is replaced without the caller seeing an error.
    public func lease(timeout: Duration) async throws -> Lease {
        let started = clock.now
        let deadline = started + timeout
        while true {
            let lease = try await leaseOnce(deadline: deadline)
            if await factory.isAlive(lease.connection) {
                metrics.recordAcquire(clock.now - started)
                return lease
            }
            release(lease, outcome: .close(.broken))
        }
    }

    /// One request. An idle connection (or a refusal) is decided under one lock, with no
    /// continuation, cancellation handler or waiter entry: the common case, on every call. Only a
    /// request that must wait suspends.
    private func leaseOnce(deadline: Instant) async throws -> Lease {
        let (request, decided, effects) = state.withLock { state in
            let request = state.nextRequestID
            state.nextRequestID += 1
            var effects = apply(state.machine.leaseRequested(request, now: clock.now), &state)
            let decided = state.decided.removeValue(forKey: request)
            if decided == nil {
                state.deadlines.insert(request, (), deadline: deadline)
                armTimer(&state, &effects)
            }
            return (request, decided, effects)
        }
        run(effects)
        if let decided { return try decided.get() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                let decided = state.withLock { state -> Result<Lease, any Error>? in
                    if let decided = state.decided.removeValue(forKey: request) { return decided }
                    state.waiters[request] = continuation
                    return nil
                }
                if let decided { continuation.resume(with: decided) }
            }
        } onCancel: {
            // Before or after the continuation was registered: either way the failure reaches it.
            run(state.withLock { apply($0.machine.leaseCancelled(request), &$0) })
        }
    }

    /// Returns a connection. `outcome` says whether it is clean enough to serve someone else.
    public func release(_ lease: Lease, outcome: PoolStateMachine.ReleaseOutcome) {
        run(state.withLock { apply($0.machine.connectionReleased(lease.id, outcome: outcome, now: clock.now), &$0) })
    }

    /// Idle timeouts, lifetimes, health checks, the minimum, reconnects. Call about once a second.
    public func tick() {
        run(state.withLock { apply($0.machine.tick(now: clock.now), &$0) })
        publishGauges()
    }

    /// Starts `shutdown` without waiting for it: from now on no lease is granted (waiters fail),
    /// idle connections close, and leased ones close as they come back. `run()` returns once all
    /// are closed.
    public func beginShutdown() {
        run(state.withLock { apply($0.machine.shutdown(), &$0) })
    }

    /// Fails waiters, closes idle connections now and leased ones as they come back, and returns
    /// once every connection is closed (closing is `run()`'s work: someone must run the pool).
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
}

private let serials = Atomic<UInt64>(0)

/// A connection on loan from a pool. Give it back with `Pool.release`.
public struct PoolLease<Factory: PoolConnectionFactory, PoolClock: Clock>: Sendable
where PoolClock.Instant == ContinuousClock.Instant {
    public let id: PoolStateMachine.ConnectionID
    public let connection: Factory.Connection
    public let pool: Pool<Factory, PoolClock>
}

extension Pool where Factory == LibpqConnectionFactory, PoolClock == ContinuousClock {
    /// A pool of libpq connections on the real clock.
    /// - Parameters:
    ///   - applicationName: what `pg_stat_activity.application_name` shows for this pool's backends.
    ///   - prepare: runs on every new connection before it is used; a throw makes the connect a failure.
    public convenience init(
        name: String, parameters: PGConnectionParameters, configuration: PoolStateMachine.Configuration,
        applicationName: String, connectTimeout: Duration, logger: Logger, sharedByName: Bool = true, database: String? = nil,
        prepare: (@Sendable (PGConnection) async throws -> Void)? = nil
    ) {
        let factory = LibpqConnectionFactory(
            parameters: parameters, applicationName: applicationName, connectTimeout: connectTimeout, prepare: prepare)
        self.init(
            name: name, factory: factory, configuration: configuration, clock: ContinuousClock(), connectTimeout: connectTimeout,
            logger: logger, sharedByName: sharedByName, database: database)
    }
}
