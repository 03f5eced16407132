import Dispatch
import PGClient
import Synchronization

/// Deadlines of our own for work on a leased connection, so that a PostgreSQL that stops answering
/// (a frozen backend, a network that drops packets) cannot hold a call, a session's end or shutdown
/// forever: the statement timeout is PostgreSQL's, and a frozen server enforces nothing.
///
/// Each watched connection has a deadline (a call's statement timeout plus a grace period, or
/// just the grace for a reset); a cancelled call's deadline moves to now plus the grace, since a
/// healthy server ends a cancelled statement at once. Past its deadline the connection is
/// abandoned: its socket is shut down, the waiting statement fails, and the pool closes it
/// instead of taking it back. One timer sweeps every watch twice a second — a lock and a
/// dictionary entry per call on the hot path, no task or timer each.
final class CallWatchdog: Sendable {
    private struct Watch {
        var connection: PGConnection
        var deadline: ContinuousClock.Instant?
        var fired = false
    }

    private let watches = Mutex<(next: UInt64, byID: [UInt64: Watch])>((0, [:]))
    // Set up once in init, then touched only by deinit; DispatchSource is thread-safe.
    nonisolated(unsafe) private let timer: DispatchSourceTimer
    /// How long a healthy server may take to end a cancelled statement or answer a reset.
    let grace: Duration

    init(grace: Duration) {
        self.grace = grace
        timer = DispatchSource.makeTimerSource(queue: PGConnection.deadlines)
        timer.schedule(deadline: .now() + .milliseconds(500), repeating: .milliseconds(500), leeway: .milliseconds(100))
        timer.setEventHandler { [weak self] in self?.sweep(now: .now) }
        timer.resume()
    }

    deinit { timer.cancel() }

    /// Watches `connection` until `unwatch`; `limit` nil means no deadline until cancelled.
    func watch(_ connection: PGConnection, limit: Duration?) -> UInt64 {
        let deadline = limit.map { ContinuousClock.now + $0 }
        return watches.withLock { state in
            state.next += 1
            state.byID[state.next] = Watch(connection: connection, deadline: deadline)
            return state.next
        }
    }

    /// The call was cancelled: give its statement the grace period to end.
    func cancelled(_ id: UInt64) {
        let soon = ContinuousClock.now + grace
        watches.withLock { state in
            if let deadline = state.byID[id]?.deadline, deadline <= soon { return }
            state.byID[id]?.deadline = soon
        }
    }

    /// Stops watching; true when the deadline had passed and the connection was abandoned.
    @discardableResult
    func unwatch(_ id: UInt64) -> Bool {
        watches.withLock { $0.byID.removeValue(forKey: id)?.fired ?? false }
    }

    func sweep(now: ContinuousClock.Instant) {
        // Abandoned under the lock that `unwatch` takes: a call that finished and went back to its
        // pool is never abandoned afterwards, under its next lease.
        watches.withLock { state in
            for (id, watch) in state.byID where !watch.fired {
                guard let deadline = watch.deadline, deadline <= now else { continue }
                state.byID[id]?.fired = true
                watch.connection.abandon()
            }
        }
    }

    /// Runs `body` under a watch of `connection`, moving its deadline to the grace period if the
    /// task is cancelled. Throws `expired()`'s error instead of `body`'s when the deadline passed.
    @discardableResult
    func run<R>(
        _ connection: PGConnection, limit: Duration?, expired: () -> any Error, _ body: () async throws -> R
    ) async throws -> R {
        let id = watch(connection, limit: limit)
        do {
            let result = try await withTaskCancellationHandler { try await body() } onCancel: { cancelled(id) }
            unwatch(id)
            return result
        } catch {
            if unwatch(id) { throw expired() }
            throw error
        }
    }
}
