import Synchronization

/// Runs a registry's pools: every pool's `run()` (its connects, closes, checks and timer) is a
/// child task of `run()` here, pools added later (dynamic connections, session copies) included.
/// `close()` (the registry's shutdown) lets `run()` return once every pool it runs has shut down.
public final class PoolGroup: Sendable {
    /// Pools added and not started yet.
    private let toStart = WorkQueue<ConnectionPool>()
    private let state = Mutex(State())

    private struct State {
        /// Added and not finished, by serial: shut down if the group closes first.
        var pools: [UInt64: ConnectionPool] = [:]
        var isRunning = false
        var closed = false
    }

    public init() {}

    /// Puts `pool` under this group: `run()` runs it. A pool added once the group is closed is shut
    /// down at once (nothing would run it).
    public func add(_ pool: ConnectionPool) {
        let added = state.withLock { state in
            guard !state.closed else { return false }
            state.pools[pool.serial] = pool
            return true
        }
        if added { toStart.add(pool) } else { pool.beginShutdown() }
    }

    /// No pool is added from now on; those not finished are shut down (leased connections close as
    /// they come back), and `run()` returns once they are.
    public func close() {
        let pools = state.withLock { state in
            state.closed = true
            return Array(state.pools.values)
        }
        for pool in pools { pool.beginShutdown() }
        toStart.finish()
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
                while let pools = await toStart.next() {
                    for pool in pools {
                        group.addTask {
                            await pool.run()
                            self.state.withLock { _ = $0.pools.removeValue(forKey: pool.serial) }
                        }
                    }
                }
            }
        } onCancel: {
            close()
        }
    }
}
