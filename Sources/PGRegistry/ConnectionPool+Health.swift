/// A pool's health, found out first-hand when someone asks (list_databases, server_status,
/// select_database) and nothing open says it.
extension Pool {
    /// The snapshot, with health found out first-hand when it is unknown or stale and nothing is
    /// open (see `PoolStateMachine.isHealthProbeDue`): one connection is opened (then parked idle)
    /// and its outcome awaited, as is one already opening while health is unknown. Waits at most
    /// the connect timeout (and a second for the role check); holds no connection.
    public func probedSnapshot() async -> PoolStateMachine.Snapshot {
        let waiter = state.withLock { state in
            defer { state.nextRequestID += 1 }
            return state.nextRequestID
        }
        let deadline = clock.now + connectTimeout + .seconds(1)
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let (effects, waits) = state.withLock { state in
                    let actions = state.machine.healthProbeRequested(now: clock.now)
                    var effects = apply(actions, &state)
                    let snapshot = state.machine.snapshot()
                    let waits = snapshot.connecting > 0 && (!actions.isEmpty || snapshot.health == .unknown)
                    if waits {
                        state.probeWaiters.insert(waiter, continuation, deadline: deadline)
                        armTimer(&state, &effects)
                    }
                    return (effects, waits)
                }
                run(effects)
                if !waits { continuation.resume() }
                // Cancelled before it was registered, the handler below found nothing to wake.
                if Task.isCancelled { wakeProbeWaiter(waiter) }
            }
        } onCancel: {
            wakeProbeWaiter(waiter)
        }
        return snapshot()
    }

    /// Records a probe made outside the pool (a clone entry's template, which must hold no pooled
    /// connection): `problem` is `nil` when the database answered.
    public func recordProbe(problem: String?) {
        run(
            state.withLock { state in
                state.machine.probeFinished(problem: problem, now: clock.now)
                return apply([], &state)
            })
    }

    /// Whether `probedSnapshot` would connect now; for pools that probe outside themselves.
    public var isHealthProbeDue: Bool { state.withLock { $0.machine.isHealthProbeDue(now: clock.now) } }

    private func wakeProbeWaiter(_ waiter: Int) {
        state.withLock { $0.probeWaiters.remove(waiter) }?.resume()
    }
}
