import PGClient

/// A pool's health, found out first-hand when someone asks (list_databases, server_status,
/// select_database) and nothing open says it.
extension ConnectionPool {
    /// The snapshot, with health found out first-hand when it is unknown or stale and nothing is
    /// open (see `PoolStateMachine.isHealthProbeDue`): one connection is opened (then parked idle)
    /// and its outcome awaited, as is one already opening while health is unknown. Waits at most
    /// `PGMCP_CONNECT_TIMEOUT` (and a second for the role check); holds no connection.
    public func probedSnapshot() async -> PoolStateMachine.Snapshot {
        let waiter = state.withLock { state in
            defer { state.nextRequestID += 1 }
            return state.nextRequestID
        }
        let wait = connectTimeout + .seconds(1)
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let (effects, waits) = state.withLock { state in
                    let actions = state.machine.healthProbeRequested(now: .now)
                    let effects = apply(actions, &state)
                    let snapshot = state.machine.snapshot()
                    let waits = snapshot.connecting > 0 && (!actions.isEmpty || snapshot.health == .unknown)
                    if waits {
                        let limit = Task { [weak self] in
                            guard (try? await Task.sleep(for: wait)) != nil else { return }
                            self?.wakeProbeWaiter(waiter)
                        }
                        state.probeWaiters[waiter] = (continuation, limit)
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
                state.machine.probeFinished(problem: problem, now: .now)
                return apply([], &state)
            })
    }

    /// Whether `probedSnapshot` would connect now; for pools that probe outside themselves.
    public var isHealthProbeDue: Bool { state.withLock { $0.machine.isHealthProbeDue(now: .now) } }

    private func wakeProbeWaiter(_ waiter: Int) {
        guard let (continuation, limit) = state.withLock({ $0.probeWaiters.removeValue(forKey: waiter) }) else { return }
        limit.cancel()
        continuation.resume()
    }

    /// A connect finished (either way): whoever waits for the pool's health has its answer.
    func wakeProbeWaiters(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        defer { state.probeWaiters = [:] }
        return state.probeWaiters.values.map { waiter in
            waiter.limit.cancel()
            return waiter.continuation
        }
    }
}
