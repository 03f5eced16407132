/// The pool's background work, structured: connects, closes, health checks and the one timer run
/// as child tasks of `run()`, never as tasks of their own. Leasing and releasing an idle
/// connection never pass through here.
extension Pool {
    /// Runs the pool's background work until the pool is shut down and every connection is closed.
    /// Cancelled, it shuts the pool down (waiters fail, idle connections close, leased ones close as
    /// they come back) and returns once that is done. Whoever owns the pool runs this in a task
    /// group (`PoolGroup` for a registry's pools); a second call returns at once.
    public func run() async {
        let first = state.withLock { state in
            defer { state.running = true }
            return !state.running
        }
        guard first else { return }
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                while let items = await work.next() {
                    for item in items { group.addTask { await self.perform(item) } }
                }
            }
        } onCancel: {
            beginShutdown()
        }
    }

    /// Whether `run()` has started (and so runs the pool's background work).
    var isRunning: Bool { state.withLock { $0.running } }

    private func perform(_ work: Work) async {
        switch work {
        case .connect(let id):
            await connect(id)
        case .close(let id, let connection, let reason):
            metrics.recordClose(reason)
            logger.info(
                "closing connection",
                metadata: ["database": "\(name)", "reason": "\(reason.rawValue)", "pid": "\(connection.map { factory.facts($0).processID } ?? 0)"])
            if let connection { await factory.close(connection) }
            run(state.withLock { apply($0.machine.connectionClosed(id, now: clock.now), &$0) })
        case .check(let id, let connection):
            let problem = await factory.check(connection)
            run(
                state.withLock { state in
                    guard let problem else { return apply(state.machine.checkSucceeded(id, now: clock.now), &state) }
                    return apply(state.machine.checkFailed(id, reason: problem, now: clock.now), &state)
                })
        case .timer(let id, let deadline):
            await runTimer(id, until: deadline)
        }
    }

    /// Sleeps until `deadline` unless the timer is cancelled first (re-armed for an earlier deadline,
    /// or the pool shut down), then fails whoever waits past it.
    private func runTimer(_ id: Int, until deadline: Instant) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                guard (try? await self.clock.sleep(until: deadline, tolerance: nil)) != nil else { return }
                self.timerFired(id)
            }
            group.addTask {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let ended = self.state.withLock { state -> Bool in
                        guard state.timer?.id == id else { return true }
                        state.timer?.cancel = continuation
                        return false
                    }
                    if ended { continuation.resume() }
                }
            }
            // Whichever ends first: fired (then it ended the other), or cancelled (end the sleep).
            _ = await group.next()
            group.cancelAll()
        }
    }

    /// The timer `id` went off: requests and probe callers past their deadline give up, and the
    /// timer is armed for the next deadline.
    private func timerFired(_ id: Int) {
        let (effects, probes) = state.withLock { state -> ([Effect], [(id: Int, value: CheckedContinuation<Void, Never>)]) in
            guard let timer = state.timer, timer.id == id else { return ([], []) }
            state.timer = nil
            let now = clock.now
            var effects: [Effect] = timer.cancel.map { [.wake($0)] } ?? []
            for (request, _) in state.deadlines.removeExpired(now: now) {
                effects += apply(state.machine.leaseTimedOut(request, now: now), &state)
            }
            let probes = state.probeWaiters.removeExpired(now: now)
            armTimer(&state, &effects)
            return (effects, probes)
        }
        run(effects)
        for probe in probes { probe.value.resume() }
    }
}
