import PGClient
import Synchronization

/// Running calls, each cancellable from outside by key — without a task of its own.
///
/// Wrapping a call in `Task { }` so it can be cancelled costs a schedule and a wake-up per call
/// (measured: scheduler work was a quarter of the server's CPU). Instead the call registers the task
/// it already runs in. `UnsafeCurrentTask.cancel()` is safe from any thread while that task lives,
/// and the task lives while it is registered: registration ends, under the same lock that cancel
/// takes, before the call returns.
public final class CancellableCalls<Key: Hashable & Sendable>: Sendable {
    private struct TaskRef: @unchecked Sendable { let task: UnsafeCurrentTask }

    private struct State {
        var running: [Key: TaskRef] = [:]
        var closed = false
        var drained: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Runs `body` registered under `key`. Returns `nil` without running it once `close()` was called.
    public func run<R>(_ key: Key, _ body: () async throws -> R) async rethrows -> R? {
        let registered = withUnsafeCurrentTask { task -> Bool in
            guard let task else { return true }
            return state.withLock { state in
                guard !state.closed else { return false }
                state.running[key] = TaskRef(task: task)
                return true
            }
        }
        guard registered else { return nil }
        defer {
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.running[key] = nil
                guard state.running.isEmpty else { return [] }
                defer { state.drained = [] }
                return state.drained
            }
            for waiter in waiters { waiter.resume() }
        }
        return try await body()
    }

    public func cancel(_ key: Key) {
        state.withLock { $0.running[key]?.task.cancel() }
    }

    public var count: Int { state.withLock { $0.running.count } }

    /// Refuses new calls, cancels every running one, and returns when they have all returned.
    public func closeAndDrain() async {
        await state.wait { state, continuation in
            state.closed = true
            for call in state.running.values { call.task.cancel() }
            if state.running.isEmpty { return true }
            state.drained.append(continuation)
            return false
        }
    }
}
