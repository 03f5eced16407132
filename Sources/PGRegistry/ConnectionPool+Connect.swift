/// Opening a connection for the pool (`run()`'s work): the factory's connect, and recording the
/// outcome in the state machine, whichever it is.
extension Pool {
    func connect(_ id: ConnectionID) async {
        do {
            let connection = try await factory.connect()
            let facts = factory.facts(connection)
            logger.debug("opened connection", metadata: ["database": "\(name)", "pid": "\(facts.processID)"])
            // Lifetimes spread over the last fifth of the maximum, so connections opened together recycle apart.
            let lifetime = state.withLock { $0.machine.configuration.maxLifetime }.map { $0 * Double.random(in: 0.8...1.0) }
            finishConnect { state in
                state.connections[id] = connection
                state.serverVersion = facts.serverVersion
                return state.machine.connectionEstablished(id, now: clock.now, lifetime: lifetime)
            }
        } catch {
            let (reason, lasting) = factory.failure(error)
            metrics.recordConnectFailure()
            logger.warning("cannot connect", metadata: ["database": "\(name)", "reason": "\(reason)"])
            finishConnect { $0.machine.connectionFailed(id, reason: reason, lasting: lasting, now: clock.now) }
        }
    }

    /// A connect finished, either way: `transition` records it in the state machine, its actions
    /// run, and whoever waits for the pool's health (`probedSnapshot`) has its answer.
    func finishConnect(_ transition: (inout State) -> [PoolStateMachine.Action]) {
        run(
            state.withLock { state in
                var effects = apply(transition(&state), &state)
                for waiter in state.probeWaiters.removeAll() { effects.append(.wake(waiter.value)) }
                return effects
            })
    }
}
