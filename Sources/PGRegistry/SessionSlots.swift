import Synchronization

/// A work session's connection allowance (`PGMCP_SESSION_MAX_CONNECTIONS`): a FIFO async
/// semaphore whose waiters give up at a deadline, on cancellation, or when the session ends.
final class SessionSlots: Sendable {
    let limit: Int
    private let clock: any Clock<Duration>
    private let state: Mutex<State>

    struct State {
        var inUse = 0
        /// Served first come first served (every wait of a session has the same timeout, so this is
        /// also the order they give up in; each wait's own timer does that).
        var waiters: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID = 0
        var closedError: RegistryError?
        /// Waits begun and not yet ended, queued or not.
        var pending: Set<Int> = []
        /// A deadline or a cancellation that came before its wait had queued: the wait takes it
        /// when it queues (a cancellation handler runs at once in a task already cancelled).
        var early: [Int: RegistryError] = [:]
    }

    /// - Parameter clock: what waits are timed by; a test's manual clock, or the real one.
    init(limit: Int, clock: any Clock<Duration> = ContinuousClock()) {
        self.limit = limit
        self.clock = clock
        state = Mutex(State())
    }

    var inUse: Int { state.withLock { $0.inUse } }
    /// How many wait in line (for tests: an `acquire` is in line once this counts it).
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// Takes a slot, waiting at most `timeout`; `timedOut` builds the error then.
    func acquire(timeout: Duration, timedOut: @escaping @Sendable (Duration) -> RegistryError) async throws {
        let fast = try state.withLock { state throws(RegistryError) -> Bool in
            if let error = state.closedError { throw error }
            guard state.inUse < limit, state.waiters.isEmpty else { return false }
            state.inUse += 1
            return true
        }
        if fast { return }
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            state.pending.insert(state.nextID)
            return state.nextID
        }
        defer {
            state.withLock { state in
                state.pending.remove(id)
                state.early[id] = nil
            }
        }
        try await withThrowingDiscardingTaskGroup { group in
            // The timer, a child of this wait (ended when the wait ends): no task outlives it.
            group.addTask { [clock] in
                guard (try? await clock.sleep(for: timeout)) != nil else { return }
                self.fail(id, with: timedOut(timeout))
            }
            defer { group.cancelAll() }
            try await wait(id)
        }
    }

    private func wait(_ id: Int) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Result<Void, RegistryError>? = state.withLock { state in
                    if let error = state.closedError ?? state.early.removeValue(forKey: id) { return .failure(error) }
                    if state.inUse < limit && state.waiters.isEmpty {
                        state.inUse += 1
                        return .success(())
                    }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let resumeNow { continuation.resume(with: resumeNow.mapError { $0 }) }
            }
        } onCancel: {
            fail(id, with: RegistryError(.cancelled, "the call was cancelled while waiting for a connection slot"))
        }
    }

    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst().continuation }
            state.inUse -= 1
            return nil
        }
        next?.resume()
    }

    /// Fails every waiter and every later `acquire` with `error` (the session ended).
    func close(with error: RegistryError) {
        let waiters = state.withLock { state in
            state.closedError = error
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume(throwing: error) }
    }

    private func fail(_ id: Int, with error: RegistryError) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else {
                if state.pending.contains(id) { state.early[id] = error }
                return nil
            }
            return state.waiters.remove(at: index).continuation
        }
        waiter?.resume(throwing: error)
    }
}
