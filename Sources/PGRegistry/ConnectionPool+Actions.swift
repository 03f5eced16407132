/// Turning the state machine's actions into what the shell does: under the lock, the
/// continuations and connections they need are taken and background work is queued for `run()`;
/// outside it, callers are resumed.
extension Pool {
    /// What to do once the lock is released.
    enum Effect {
        case resume(CheckedContinuation<Lease, any Error>, Lease)
        case fail(CheckedContinuation<Lease, any Error>, PoolError)
        /// Wakes a timer of `run()` that was re-armed earlier, or a caller waiting for shutdown or
        /// for the health probe.
        case wake(CheckedContinuation<Void, Never>)
    }

    /// Background work: what `run()` starts a child task for.
    enum Work: Sendable {
        case connect(ConnectionID)
        case close(ConnectionID, Factory.Connection?, PoolStateMachine.CloseReason)
        case check(ConnectionID, Factory.Connection)
        /// Sleep until `deadline`, then fail whoever waits past it (unless cancelled first).
        case timer(id: Int, deadline: Instant)
    }

    /// The pool's one timer: a use-case (the earliest deadline of the waiting requests and probe
    /// callers) and the continuation that cancels it once `run()`'s timer task has registered it.
    struct ArmedTimer {
        let id: Int
        let deadline: Instant
        var cancel: CheckedContinuation<Void, Never>?
    }

    /// Turns actions into effects, taking the continuations and connections they need (under the lock).
    func apply(_ actions: [PoolStateMachine.Action], _ state: inout State) -> [Effect] {
        var effects: [Effect] = []
        for action in actions {
            switch action {
            case .lease(let id, let request):
                _ = state.deadlines.remove(request)
                guard let connection = state.connections[id] else { continue }
                let lease = PoolLease(id: id, connection: connection, pool: self)
                if let continuation = state.waiters.removeValue(forKey: request) {
                    effects.append(.resume(continuation, lease))
                } else {
                    state.decided[request] = .success(lease)
                }
            case .fail(let request, let failure):
                _ = state.deadlines.remove(request)
                let error = PoolError(database: name, failure: failure)
                if let continuation = state.waiters.removeValue(forKey: request) {
                    effects.append(.fail(continuation, error))
                } else {
                    state.decided[request] = .failure(error)
                }
            case .connect(let id):
                work.add(.connect(id))
            case .close(let id, let reason):
                work.add(.close(id, state.connections.removeValue(forKey: id), reason))
            case .check(let id):
                if let connection = state.connections[id] { work.add(.check(id, connection)) }
            }
        }
        if state.machine.isShuttingDown, let timer = state.timer {
            // No request waits any more: a shut pool's `run()` must not wait for a timer.
            state.timer = nil
            if let cancel = timer.cancel { effects.append(.wake(cancel)) }
        }
        if state.machine.isShutDown {
            // Every connection is closed: `run()` ends once it has done what it was given.
            work.finish()
            for waiter in state.shutdownWaiters { effects.append(.wake(waiter)) }
            state.shutdownWaiters = []
        }
        // The gauges follow connects, closes, failures and shutdown at once. A plain lease or
        // release (every call, twice) leaves them to the next tick or scrape (`publishGauges`):
        // counting every connection's state twice per call cost more than the lease itself.
        if state.machine.isShutDown || actions.contains(where: { if case .lease = $0 { false } else { true } }) {
            metrics.update(state.machine.snapshot())
        }
        return effects
    }

    /// Sets the pool's gauges from its state now: what a scrape of `/metrics` does first, and
    /// every tick.
    public func publishGauges() {
        metrics.update(state.withLock { $0.machine.snapshot() })
    }

    /// Arms the pool's timer for the earliest deadline of whoever waits, unless it is already set
    /// to fire no later. A timer left armed when nobody waits any more fires and finds nothing.
    func armTimer(_ state: inout State, _ effects: inout [Effect]) {
        var earliest = state.deadlines.earliestDeadline
        if let probes = state.probeWaiters.earliestDeadline, earliest.map({ probes < $0 }) ?? true { earliest = probes }
        guard let earliest, !state.machine.isShuttingDown else { return }
        if let timer = state.timer {
            if timer.deadline <= earliest { return }
            if let cancel = timer.cancel { effects.append(.wake(cancel)) }
        }
        let id = state.nextTimerID
        state.nextTimerID += 1
        state.timer = ArmedTimer(id: id, deadline: earliest)
        work.add(.timer(id: id, deadline: earliest))
    }

    func run(_ effects: [Effect]) {
        for effect in effects {
            switch effect {
            case .resume(let continuation, let lease):
                continuation.resume(returning: lease)
            case .fail(let continuation, let error):
                continuation.resume(throwing: error)
            case .wake(let continuation):
                continuation.resume()
            }
        }
    }
}
