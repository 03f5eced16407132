import PGClient
import Synchronization

/// Running calls, each cancellable from outside by key — without a task of its own — and, by a
/// tag they share (the pool they run on), together: what closing one database of a session needs.
///
/// Wrapping a call in `Task { }` so it can be cancelled costs a schedule and a wake-up per call
/// (measured: scheduler work was a quarter of the server's CPU). Instead the call registers the task
/// it already runs in. `UnsafeCurrentTask.cancel()` is safe from any thread while that task lives,
/// and the task lives while it is registered: registration ends, under the same lock that cancel
/// takes, before the call returns.
///
/// Each registration has a serial of its own, so a key need not be unique (a client may reuse a
/// JSON-RPC id while the first request still runs: `cancel` reaches both, and the first one's end
/// leaves the second registered), and a caller that never cancels by key passes none.
///
/// `run` and `cancel` are inlinable so that a caller in another module gets them specialized for
/// its key: unspecialized, each call looked up the generic metadata of the state's types about
/// ten times (measured with a uprobe on `swift_getGenericMetadata`, see `BENCHMARKS.md`).
public final class CancellableCalls<Key: Equatable & Sendable>: Sendable {
    @usableFromInline
    struct Registration: @unchecked Sendable {
        @usableFromInline let task: UnsafeCurrentTask
        @usableFromInline let tag: UInt64?
        @usableFromInline let key: Key?

        @inlinable
        init(task: UnsafeCurrentTask, tag: UInt64?, key: Key?) {
            self.task = task
            self.tag = tag
            self.key = key
        }
    }

    @usableFromInline
    struct State {
        /// By serial.
        @usableFromInline var running: [UInt64: Registration] = [:]
        @usableFromInline var nextSerial: UInt64 = 0
        @usableFromInline var closed = false
        @usableFromInline var drained: [CheckedContinuation<Void, Never>] = []
        /// Waiting until no call with their tag runs.
        @usableFromInline var tagDrained: [(tag: UInt64, continuation: CheckedContinuation<Void, Never>)] = []

        @usableFromInline
        init() {}

        @inlinable
        func isRunning(tagged tag: UInt64) -> Bool { running.values.contains { $0.tag == tag } }
    }

    @usableFromInline
    let state = Mutex(State())

    public init() {}

    /// Runs `body` registered under `key` (when given, for `cancel`) and `tag` (when given, for
    /// `cancelAndDrain`). Returns `nil` without running it once `close()` was called.
    ///
    /// Always inlined, so that a caller generic over `R` (the registry's lease path) still calls
    /// `register` and `unregister` specialized for its concrete key.
    @inlinable @inline(__always)
    public func run<R>(_ key: Key? = nil, tag: UInt64? = nil, _ body: () async throws -> R) async rethrows -> R? {
        guard let serial = register(key, tag: tag) else { return nil }
        // Not a `defer`: that is a function of its own, generic over `R` too, which called
        // `unregister` unspecialized.
        do {
            let result = try await body()
            unregister(serial, tag: tag)
            return result
        } catch {
            unregister(serial, tag: tag)
            throw error
        }
    }

    /// Registers the current task; its serial, or nil once `close()` was called.
    @inlinable
    func register(_ key: Key?, tag: UInt64?) -> UInt64? {
        withUnsafeCurrentTask { task -> UInt64? in
            state.withLock { state in
                guard !state.closed else { return nil }
                defer { state.nextSerial += 1 }
                if let task { state.running[state.nextSerial] = Registration(task: task, tag: tag, key: key) }
                return state.nextSerial
            }
        }
    }

    /// Ends the registration `serial`, and wakes whoever waits for the calls it was the last of.
    @inlinable
    func unregister(_ serial: UInt64, tag: UInt64?) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.running[serial] = nil
            // Only this call's own tag can have just drained; nothing to do when nobody waits.
            var waiters: [CheckedContinuation<Void, Never>] = []
            if let tag, !state.tagDrained.isEmpty, !state.isRunning(tagged: tag) {
                waiters = state.tagDrained.filter { $0.tag == tag }.map(\.continuation)
                state.tagDrained.removeAll { $0.tag == tag }
            }
            guard state.running.isEmpty, !state.drained.isEmpty else { return waiters }
            defer { state.drained = [] }
            return waiters + state.drained
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Cancels every running call registered under `key`.
    @inlinable
    public func cancel(_ key: Key) {
        state.withLock { state in
            for call in state.running.values where call.key == key { call.task.cancel() }
        }
    }

    public var count: Int { state.withLock { $0.running.count } }

    /// Cancels every running call registered with `tag`, and returns when they have all returned.
    /// Calls that start meanwhile are not refused: stop what they would use first (close the pool).
    /// Never from a call with that tag: it would wait for itself.
    public func cancelAndDrain(tag: UInt64) async {
        await state.wait { state, continuation in
            for call in state.running.values where call.tag == tag { call.task.cancel() }
            if !state.isRunning(tagged: tag) { return true }
            state.tagDrained.append((tag, continuation))
            return false
        }
    }

    /// Refuses new calls and cancels every running one, without waiting for them to return: for a
    /// caller that cannot wait (a NIO handler seeing its client leave).
    public func close() {
        state.withLock { Self.close(&$0) }
    }

    /// Whether `close()` or `closeAndDrain()` was called.
    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Refuses new calls, cancels every running one, and returns when they have all returned.
    public func closeAndDrain() async {
        await state.wait { state, continuation in
            Self.close(&state)
            if state.running.isEmpty { return true }
            state.drained.append(continuation)
            return false
        }
    }

    private static func close(_ state: inout State) {
        state.closed = true
        for call in state.running.values { call.task.cancel() }
    }
}
