import Dispatch
import Synchronization

/// Deadlines of our own for work on a connection, so that a PostgreSQL that stops answering (a
/// frozen backend, a frozen postmaster, a network that drops packets) cannot hold a call, a cancel
/// request, a close, a session's end or shutdown for ever: the statement timeout is PostgreSQL's,
/// and a frozen server enforces nothing.
///
/// Every watched piece of work has a deadline; a cancelled call's deadline can move to now plus a
/// grace period (`shorten`), since a healthy server ends a cancelled statement at once. Past its
/// deadline the connection is abandoned: its socket is shut down, whatever waits on it fails, and
/// its pool closes it instead of taking it back. One process-wide timer sweeps every watch ten times
/// a second (a deadline is kept to a tenth of a second: a session's end answers by its grace
/// period, not half a second past it), on a queue of its own that nothing blocked can starve — a
/// lock and a dictionary entry per watch, no task or timer each, so calls can be watched on the
/// hot path.
public final class ConnectionWatchdog: Sendable {
    /// The one watchdog every connection and registry uses.
    public static let shared = ConnectionWatchdog()

    private struct Watch {
        var connection: PGConnection
        var deadline: ContinuousClock.Instant?
        /// Run once the connection was abandoned for this watch (outside the lock).
        var onExpired: (@Sendable () -> Void)?
        var fired = false
    }

    private let watches = Mutex<(next: UInt64, byID: [UInt64: Watch])>((0, [:]))
    // Set up once in init and never changed; DispatchSource is thread-safe.
    nonisolated(unsafe) private let timer: DispatchSourceTimer

    private init() {
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "pgmcp.deadlines"))
        timer.schedule(deadline: .now() + .milliseconds(100), repeating: .milliseconds(100), leeway: .milliseconds(20))
        timer.setEventHandler { [weak self] in self?.sweep(now: .now) }
        timer.resume()
    }

    /// Watches `connection` until `unwatch`; `limit` nil means no deadline until `shorten`.
    public func watch(_ connection: PGConnection, limit: Duration?, onExpired: (@Sendable () -> Void)? = nil) -> UInt64 {
        let deadline = limit.map { ContinuousClock.now + $0 }
        return watches.withLock { state in
            state.next += 1
            state.byID[state.next] = Watch(connection: connection, deadline: deadline, onExpired: onExpired)
            return state.next
        }
    }

    /// Moves the deadline of watch `id` to at most `limit` from now (a cancelled call's grace).
    public func shorten(_ id: UInt64, to limit: Duration) {
        let soon = ContinuousClock.now + limit
        watches.withLock { state in
            if let deadline = state.byID[id]?.deadline, deadline <= soon { return }
            state.byID[id]?.deadline = soon
        }
    }

    /// Stops watching; true when the deadline had passed and the connection was abandoned.
    @discardableResult
    public func unwatch(_ id: UInt64) -> Bool {
        watches.withLock { $0.byID.removeValue(forKey: id)?.fired ?? false }
    }

    func sweep(now: ContinuousClock.Instant) {
        // Abandoned under the lock that `unwatch` takes: work that finished (a call whose connection
        // went back to its pool) is never abandoned afterwards, under the connection's next use.
        let expired = watches.withLock { state -> [@Sendable () -> Void] in
            var expired: [@Sendable () -> Void] = []
            for (id, watch) in state.byID where !watch.fired {
                guard let deadline = watch.deadline, deadline <= now else { continue }
                state.byID[id]?.fired = true
                watch.connection.abandon()
                if let onExpired = watch.onExpired { expired.append(onExpired) }
            }
            return expired
        }
        for callback in expired { callback() }
    }

    /// Runs `body` under a watch of `connection`; if the task is cancelled, the deadline moves to
    /// `cancelGrace` from then. Throws `expired()`'s error instead of `body`'s when it passed.
    @discardableResult
    public func run<R>(
        _ connection: PGConnection, limit: Duration?, cancelGrace: Duration, expired: () -> any Error, _ body: () async throws -> R
    ) async throws -> R {
        let id = watch(connection, limit: limit)
        do {
            let result = try await withTaskCancellationHandler {
                try await body()
            } onCancel: {
                shorten(id, to: cancelGrace)
            }
            unwatch(id)
            return result
        } catch {
            if unwatch(id) { throw expired() }
            throw error
        }
    }
}
