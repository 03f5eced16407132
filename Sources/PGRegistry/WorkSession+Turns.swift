import PGClient

/// Which of a session's pin tables an event is for: its transactions (`begin_transaction`) or its
/// query cursors (`nextCursor`). Both are a `TransactionTable` with its own waiters: the same
/// machine, kept apart because a database may have one of each.
enum PinKind: Sendable {
    case transaction, cursor

    /// Its table in the session's state (a key path: changed in place, never copied).
    var pins: WritableKeyPath<WorkSession.State, TransactionTable<PinnedConnection>> {
        self == .transaction ? \.transactions : \.cursors
    }

    /// The calls waiting for their turn in its pins (each table numbers its own waiters).
    var turns: WritableKeyPath<WorkSession.State, TurnWaiters> {
        self == .transaction ? \.turns : \.cursorTurns
    }
}

/// The shell of a session's `TransactionTable`s: runs their events under the session's lock,
/// resumes the calls their actions decide, and holds the calls that wait for their turn in a
/// transaction (or on a cursor).
extension WorkSession {
    /// A transaction whose connection is to go back to its pool, and why (logged).
    typealias GiveBack = (pinned: PinnedConnection, reason: String)

    /// Runs `event` on the session's state (its transaction table, and what else changes with it)
    /// under its lock; after the lock, resumes the waiters the table's actions decide. Returns the
    /// event's value and the connections to give back.
    func update<T>(_ kind: PinKind = .transaction, _ event: (inout State) -> (T, [TransactionTable<PinnedConnection>.Action])) -> (T, [GiveBack]) {
        let (value, resumes, giveBacks) = state.withLock { state in
            let (value, actions) = event(&state)
            var resumes: [(CheckedContinuation<PinnedConnection, any Error>, Result<PinnedConnection, RegistryError>)] = []
            var giveBacks: [GiveBack] = []
            func decide(_ id: Int, _ result: Result<PinnedConnection, RegistryError>) {
                if let waiting = state[keyPath: kind.turns].decide(id, result) { resumes.append((waiting, result)) }
            }
            for action in actions {
                switch action {
                case .giveBack(let pinned, let reason): giveBacks.append((pinned, reason))
                case .grant(let id, let pinned): decide(id, .success(pinned))
                case .fail(let id, let error): decide(id, .failure(error))
                }
            }
            return (value, resumes, giveBacks)
        }
        for (waiting, result) in resumes { waiting.resume(with: result.mapError { $0 }) }
        return (value, giveBacks)
    }

    /// Waits for the turn `id` in a transaction (`TransactionTable.CallStart.wait`): the
    /// transaction's connection, or the error that ended the wait (the transaction ended, `timeout`
    /// passed, the call was cancelled).
    func waitTurn(
        _ id: Int, _ kind: PinKind = .transaction, timeout: Duration, timedOut: @escaping @Sendable (Duration) -> RegistryError
    ) async throws -> PinnedConnection {
        try await withThrowingTaskGroup(of: PinnedConnection?.self) { group in
            group.addTask {
                // Cancelled when the turn came first.
                guard (try? await Task.sleep(for: timeout)) != nil else { return nil }
                self.giveUp(id, kind, timedOut(timeout))
                return nil
            }
            group.addTask {
                try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { (waiting: CheckedContinuation<PinnedConnection, any Error>) in
                        if let decided = self.state.withLock({ $0[keyPath: kind.turns].register(id, waiting) }) { waiting.resume(with: decided.mapError { $0 }) }
                    }
                } onCancel: {
                    self.giveUp(id, kind, RegistryError(.cancelled, "the call was cancelled while waiting for its turn in the transaction"))
                }
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let pinned = next { return pinned }
            }
            throw RegistryError(.cancelled, "the call was cancelled while waiting for its turn in the transaction")
        }
    }

    /// Gives up the wait `id` of a call that never ran (the session ended first): the transaction
    /// when its turn had already come (it is the caller's to give back), else nil.
    func abandonTurn(_ id: Int, _ kind: PinKind = .transaction) -> PinnedConnection? {
        state.withLock { state in
            if state[keyPath: kind.pins].giveUp(id) { return nil }
            return state[keyPath: kind.turns].take(id)
        }
    }

    /// Ends the wait `id` with `error`, unless its turn (or its failure) was decided first.
    private func giveUp(_ id: Int, _ kind: PinKind, _ error: RegistryError) {
        let waiting = state.withLock { state -> CheckedContinuation<PinnedConnection, any Error>? in
            guard state[keyPath: kind.pins].giveUp(id) else { return nil }
            return state[keyPath: kind.turns].decide(id, .failure(error))
        }
        waiting?.resume(throwing: error)
    }
}

/// The calls waiting for their turn in a session's transactions, by the table's waiter id. A turn
/// may be decided before its waiter has suspended: the decision is kept for it.
struct TurnWaiters {
    private enum Entry {
        case waiting(CheckedContinuation<PinnedConnection, any Error>)
        case decided(Result<PinnedConnection, RegistryError>)
    }

    private var entries: [Int: Entry] = [:]

    /// Decides `id`'s wait: its continuation to resume with `result`, or nil when it has not
    /// suspended yet (it finds `result` when it does).
    mutating func decide(_ id: Int, _ result: Result<PinnedConnection, RegistryError>) -> CheckedContinuation<PinnedConnection, any Error>? {
        if case .waiting(let waiting)? = entries.removeValue(forKey: id) { return waiting }
        entries[id] = .decided(result)
        return nil
    }

    /// The transaction granted to `id` and not yet taken by it; nil otherwise. `id` is forgotten.
    mutating func take(_ id: Int) -> PinnedConnection? {
        if case .decided(.success(let pinned))? = entries.removeValue(forKey: id) { return pinned }
        return nil
    }

    /// `id` suspends with `waiting`: the decision when it was already made, else nil (kept).
    mutating func register(_ id: Int, _ waiting: CheckedContinuation<PinnedConnection, any Error>) -> Result<PinnedConnection, RegistryError>? {
        if case .decided(let result)? = entries.removeValue(forKey: id) { return result }
        entries[id] = .waiting(waiting)
        return nil
    }
}
