import Synchronization

/// Runs a registry's pools: every pool's `run()` (its connects, closes, checks and timer) is a
/// child task of `run()` here, pools added later (dynamic connections, session copies) included.
/// `close()` (the registry's shutdown) lets `run()` return once every pool it runs has shut down.
public final class PoolGroup: Sendable {
    private let state = Mutex(State())

    private struct State {
        /// Added and not started yet.
        var pending: [ConnectionPool] = []
        /// Started and not finished, by serial: shut down if the group closes first.
        var running: [UInt64: ConnectionPool] = [:]
        var runner: CheckedContinuation<Void, Never>?
        var isRunning = false
        var closed = false
    }

    public init() {}

    /// Puts `pool` under this group: `run()` runs it. A pool added once the group is closed is shut
    /// down at once (nothing would run it).
    public func add(_ pool: ConnectionPool) {
        let (runner, closed) = state.withLock { state in
            guard !state.closed else { return (nil as CheckedContinuation<Void, Never>?, true) }
            state.pending.append(pool)
            defer { state.runner = nil }
            return (state.runner, false)
        }
        if closed { pool.beginShutdown() }
        runner?.resume()
    }

    /// No pool is added from now on; those still running are shut down (leased connections close as
    /// they come back), and `run()` returns once they are.
    public func close() {
        let (pools, runner) = state.withLock { state in
            state.closed = true
            defer { state.runner = nil }
            return (Array(state.running.values) + state.pending, state.runner)
        }
        for pool in pools { pool.beginShutdown() }
        runner?.resume()
    }

    /// Runs every pool added, until `close()` and every pool has shut down. Cancelled, it closes the
    /// group: its pools shut down, and it returns once they have. A second call returns at once.
    public func run() async {
        let first = state.withLock { state in
            defer { state.isRunning = true }
            return !state.isRunning
        }
        guard first else { return }
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                while let pools = await nextPools() {
                    for pool in pools {
                        group.addTask {
                            await pool.run()
                            self.state.withLock { _ = $0.running.removeValue(forKey: pool.serial) }
                        }
                    }
                }
            }
        } onCancel: {
            close()
        }
    }

    /// Pools to start; waits for some; `nil` once the group is closed.
    private func nextPools() async -> [ConnectionPool]? {
        while true {
            let (pools, closed) = state.withLock { state -> ([ConnectionPool], Bool) in
                let pools = state.pending
                state.pending = []
                for pool in pools { state.running[pool.serial] = pool }
                return (pools, state.closed)
            }
            if !pools.isEmpty { return pools }
            if closed { return nil }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.closed || !state.pending.isEmpty { return true }
                    state.runner = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }
}
