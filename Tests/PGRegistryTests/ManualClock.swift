import Synchronization

/// Time that moves only when told to: a `Clock` on `ContinuousClock`'s timeline (the pool's
/// instants), whose sleepers wake when `advance` passes their deadline. Tests wait for a sleeper
/// (`sleeperUntil`) instead of sleeping themselves.
final class ManualClock: Clock, Sendable {
    typealias Instant = ContinuousClock.Instant
    typealias Duration = Swift.Duration

    let start = ContinuousClock.now
    private let state = Mutex(State())

    private struct State {
        var offset = Duration.zero
        var sleepers: [(id: Int, deadline: Instant, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID = 0
        /// Tests waiting for someone to sleep until a deadline of theirs.
        var watchers: [(deadline: Instant, continuation: CheckedContinuation<Void, Never>)] = []
    }

    var now: Instant { start + state.withLock { $0.offset } }
    var minimumResolution: Duration { .zero }

    /// How many wait on this clock now.
    var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    func advance(by duration: Duration) {
        let due = state.withLock { state in
            state.offset += duration
            let now = start + state.offset
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (now, watchers) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                    if deadline <= start + state.offset { return (true, []) }
                    state.sleepers.append((id, deadline, continuation))
                    let woken = state.watchers.filter { $0.deadline == deadline }.map(\.continuation)
                    state.watchers.removeAll { $0.deadline == deadline }
                    return (false, woken)
                }
                if now { continuation.resume() }
                for watcher in watchers { watcher.resume() }
                if Task.isCancelled { cancel(id) }
            }
        } onCancel: {
            cancel(id)
        }
    }

    /// Returns once someone sleeps on this clock until `after` from its start (a pool armed its
    /// timer for a deadline, say).
    func sleeperUntil(_ after: Duration) async {
        let deadline = start + after
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let reached = state.withLock { state in
                if state.sleepers.contains(where: { $0.deadline == deadline }) { return true }
                state.watchers.append((deadline, continuation))
                return false
            }
            if reached { continuation.resume() }
        }
    }

    private func cancel(_ id: Int) {
        let sleeper = state.withLock { state in
            state.sleepers.firstIndex { $0.id == id }.map { state.sleepers.remove(at: $0) }
        }
        sleeper?.continuation.resume(throwing: CancellationError())
    }
}
