/// What happens to a work session, each under its one lock and stamped by its one clock: the
/// database it works on, its dynamic connections, its activity, its calls and its end.
extension WorkSession {
    /// Refreshes its last activity (a request for it arrived).
    public func touch() {
        let now = clock()
        state.withLock { $0.lastActivity = now }
    }

    /// A call of the session ended: counted, and its activity stamped.
    func finishCall(failed: Bool) {
        let now = clock()
        state.withLock { state in
            state.queries += 1
            if failed { state.errors += 1 }
            state.lastActivity = now
        }
    }

    /// Makes `name` its active database, as the caller's choice.
    func select(_ name: String) {
        state.withLock { state in
            state.activeDatabase = name
            state.databaseChosen = true
        }
    }

    /// Adds the dynamic database `target` unless the session ended, has `limit` of them already,
    /// or has one of that name (another call added it meanwhile): false then.
    func addDynamic(_ target: DatabaseTarget, limit: Int) -> Bool {
        state.withLock { state in
            guard state.phase == .active, state.dynamic[target.name] == nil, state.dynamic.count < limit else { return false }
            state.dynamic[target.name] = target
            return true
        }
    }

    /// Takes the dynamic database `name` out of the session, with the transaction it had open there
    /// (the caller gives it back once the calls on it are over). A session that had it active goes
    /// back to `fallback`, and not as a choice: a write without 'database' must not go to the
    /// default just because the session had chosen the connection that closed.
    func removeDynamic(_ name: String, fallback: String) -> (DatabaseTarget, PinnedConnection?)? {
        let reason = "its connection was closed (disconnect_database)"
        return update { state -> ((DatabaseTarget, PinnedConnection?)?, [TransactionTable<PinnedConnection>.Action]) in
            guard let target = state.dynamic.removeValue(forKey: name) else { return (nil, []) }
            if state.activeDatabase == name {
                state.activeDatabase = fallback
                state.databaseChosen = false
            }
            let (pinned, actions) = state.transactions.remove(name, reason: reason)
            return ((target, pinned), actions)
        }.0
    }

    /// Takes the cursor on `name` out of the session (its database is being disconnected): the
    /// caller gives it back once the calls on it are over.
    func removeCursor(_ name: String) -> PinnedConnection? {
        update(.cursor) { state in state.cursors.remove(name, reason: "its database was disconnected (disconnect_database)") }.0
    }

    /// Starts the session's end, once: true for the caller that ends it; false when it is already
    /// ending (after `waitForEnd`, it has ended) or ended.
    func beginEnd() -> Bool {
        state.withLock { state in
            guard state.phase == .active else { return false }
            state.phase = .ending
            return true
        }
    }

    /// Returns when the session's end (begun by another caller) is over.
    func waitForEnd() async {
        await state.wait { state, continuation in
            if state.phase == .ended { return true }
            state.endWaiters.append(continuation)
            return false
        }
    }

    /// What the session still holds once its calls are over: its open transactions and cursors
    /// (their waiters failed), dynamic databases and copies, taken out of it.
    func takeHoldings(reason: String) -> (transactions: [PinnedConnection], dynamic: [DatabaseTarget], clones: [Clone]) {
        let cursors = update(.cursor) { state in state.cursors.removeAll(reason: reason) }.0
        return update { state in
            let (pinned, actions) = state.transactions.removeAll(reason: reason)
            defer {
                state.dynamic = [:]
                state.clones = [:]
            }
            return ((pinned + cursors, Array(state.dynamic.values), Array(state.clones.values)), actions)
        }.0
    }

    /// The end is over: whoever waited for it goes on.
    func finishEnd() {
        let waiters = state.withLock { state in
            state.phase = .ended
            defer { state.endWaiters = [] }
            return state.endWaiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
