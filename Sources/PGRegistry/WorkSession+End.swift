/// A work session's end: what it holds goes back, once, within one deadline.
extension WorkSession {
    /// The session's end, once: waiting calls fail, running ones are cancelled and awaited (their
    /// connections go back reset), open transactions roll back, dynamic pools close, copies are
    /// dropped. Later callers wait for the first to finish.
    ///
    /// Bounded as a whole, whatever PostgreSQL does (a frozen backend answers nothing): the grace
    /// period (`PGMCP_CONNECT_TIMEOUT`) from now is one deadline for all of it, not one per step.
    /// A cancelled call gives its connection up by then (its watchdog), and what is returned after
    /// that is returned concurrently, each reset bounded by what is left of it; a connection not
    /// reset by then is abandoned (PostgreSQL rolls back the transaction of a connection that
    /// ends). Only dropping a copy keeps its own bound (a large copy may take a while to drop).
    func end(registry: ConnectionPoolRegistry, reason: String) async {
        guard beginEnd() else { return await waitForEnd() }
        // A real deadline for real waits (the session's clock stamps activity).
        let deadline = ContinuousClock.now + registry.grace
        // A copy still being made is cancelled first: a call waiting for it waits on that task, which
        // would otherwise hold the drain below for as long as the copy may take.
        let making = state.withLock { $0.clones.values.compactMap { if case .making(let task) = $0 { task } else { nil } } }
        for task in making { task.cancel() }
        slots.close(with: RegistryError(.sessionEnded, "the session ended (\(reason))"))
        await calls.closeAndDrain()
        let held = takeHoldings(reason: "the session ended (\(reason))")
        registry.cursorRoutes.remove(held.transactions.compactMap(\.cursor?.id))
        // Most sessions (every stateless call's) hold none of these: no group for them.
        if !(held.transactions.isEmpty && held.dynamic.isEmpty && held.clones.isEmpty) {
            await withTaskGroup(of: Void.self) { group in
                // Each on its own, so that none waits for another's PostgreSQL. Open transactions
                // roll back (the reset's ROLLBACK) and release their locks.
                for pinned in held.transactions {
                    group.addTask { await registry.rollBack((pinned, "the session ended (\(reason))"), before: deadline) }
                }
                for target in held.dynamic { group.addTask { await target.pool.shutdown() } }
                for clone in held.clones {
                    group.addTask {
                        switch clone {
                        case .made(let target): await registry.dropClone(target)
                        case .making(let task): if let target = try? await task.value { await registry.dropClone(target) }
                        }
                    }
                }
            }
        }
        finishEnd()
    }
}
