import Logging
import PGClient

/// Opening a connection for the pool: connect, the entry's `prepare` check, and recording the
/// outcome in the state machine, whichever it is.
extension ConnectionPool {
    func connect(_ id: ConnectionID) async {
        do {
            let connection = try await PGConnection.connect(parameters, applicationName: applicationName, timeout: connectTimeout)
            if let prepare {
                do { try await connection.bounded(by: connectTimeout) { try await prepare(connection) } } catch {
                    await connection.close()
                    throw error
                }
            }
            logger.debug("opened connection", metadata: ["database": "\(name)", "pid": "\(connection.backendPID)"])
            // Lifetimes spread over the last fifth of the maximum, so connections opened together recycle apart.
            let lifetime = state.withLock { $0.machine.configuration.maxLifetime }.map { $0 * Double.random(in: 0.8...1.0) }
            finishConnect { state in
                state.connections[id] = connection
                state.serverVersion = connection.serverVersion
                return state.machine.connectionEstablished(id, now: .now, lifetime: lifetime)
            }
        } catch {
            // libpq's messages hold no password, but a connection string's parse error may quote one.
            let reason = parameters.reason(for: error)
            metrics.recordConnectFailure()
            logger.warning("cannot connect", metadata: ["database": "\(name)", "reason": "\(reason)"])
            finishConnect { $0.machine.connectionFailed(id, reason: reason, lasting: error is any LastingRefusal, now: .now) }
        }
    }

    /// A connect finished, either way: `transition` records it in the state machine, its actions
    /// run, and whoever waits for the pool's health (`probedSnapshot`) has its answer.
    func finishConnect(_ transition: (inout State) -> [PoolStateMachine.Action]) {
        let (effects, waiters) = state.withLock { state in
            (apply(transition(&state), &state), wakeProbeWaiters(&state))
        }
        run(effects)
        for waiter in waiters { waiter.resume() }
    }
}

/// A connect refused for a reason that lasts until someone changes something (a role with more
/// power than its entry allows), not an outage that may pass: what `prepare` throws to say so.
protocol LastingRefusal: Error {}
