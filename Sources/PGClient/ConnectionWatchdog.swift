import Dispatch
import Synchronization

/// Deadlines of our own for work on a connection, so that a PostgreSQL that stops answering (a
/// frozen backend, a frozen postmaster, a network that drops packets) cannot hold a call, a cancel
/// request, a close, a session's end or shutdown for ever: the statement timeout is PostgreSQL's,
/// and a frozen server enforces nothing. Work without a connection (a host name lookup) can be
/// watched too: its deadline only runs `onExpired`.
///
/// Every watched piece of work has a deadline; a cancelled call's deadline can move to now plus a
/// grace period (`shorten`), since a healthy server ends a cancelled statement at once. Past its
/// deadline the connection is abandoned: its socket is shut down, whatever waits on it fails, and
/// its pool closes it instead of taking it back. One process-wide one-shot timer is armed for the
/// earliest deadline (`DeadlineSchedule` decides when), on a queue of its own that nothing blocked
/// can starve — a lock and a dictionary entry per watch, no task or timer each, so calls can be
/// watched on the hot path.
public final class ConnectionWatchdog: Sendable {
    /// The one watchdog every connection and registry uses.
    public static let shared = ConnectionWatchdog()

    private struct Watch {
        /// Abandoned past the deadline; `nil` for work that only needs `onExpired`.
        var connection: PGConnection?
        /// Run once the deadline passed (after the connection was abandoned), outside the lock.
        var onExpired: (@Sendable () -> Void)?
        var fired = false
    }

    private struct State {
        var next: UInt64 = 0
        var watches: [UInt64: Watch] = [:]
        var schedule = DeadlineSchedule()
    }

    private let state = Mutex(State())
    // Set up once in init and never changed; DispatchSource is thread-safe.
    nonisolated(unsafe) private let timer: DispatchSourceTimer

    private init() {
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "pgmcp.deadlines"))
        timer.setEventHandler { [weak self] in self?.fire(now: .now) }
        timer.resume()
    }

    /// Watches `connection` until `unwatch`; `limit` nil means no deadline until `shorten`.
    public func watch(_ connection: PGConnection, limit: Duration?, onExpired: (@Sendable () -> Void)? = nil) -> UInt64 {
        add(Watch(connection: connection, onExpired: onExpired), limit: limit)
    }

    /// Runs `onExpired` once `limit` from now has passed, unless `unwatch` came first: a deadline
    /// for work that holds no connection.
    public func watch(limit: Duration, onExpired: @escaping @Sendable () -> Void) -> UInt64 {
        add(Watch(connection: nil, onExpired: onExpired), limit: limit)
    }

    /// Moves the deadline of watch `id` to at most `limit` from now (a cancelled call's grace).
    public func shorten(_ id: UInt64, to limit: Duration) {
        let soon = ContinuousClock.now + limit
        state.withLock { state in
            guard let watch = state.watches[id], !watch.fired else { return }
            if let instant = state.schedule.shorten(id, to: soon) { arm(at: instant) }
        }
    }

    /// Stops watching; true when the deadline had passed (and the connection, if any, was abandoned).
    @discardableResult
    public func unwatch(_ id: UInt64) -> Bool {
        state.withLock { state in
            state.schedule.remove(id)
            return state.watches.removeValue(forKey: id)?.fired ?? false
        }
    }

    private func add(_ watch: Watch, limit: Duration?) -> UInt64 {
        let deadline = limit.map { ContinuousClock.now + $0 }
        return state.withLock { state in
            state.next += 1
            state.watches[state.next] = watch
            if let deadline, let instant = state.schedule.set(state.next, deadline: deadline) { arm(at: instant) }
            return state.next
        }
    }

    /// Arms the timer for `instant`, under the lock, so that two threads arming at once leave it
    /// armed for the earlier of the two.
    private func arm(at instant: ContinuousClock.Instant) {
        let delay = max(.zero, instant - .now).clampedNanoseconds
        timer.schedule(deadline: .now() + .nanoseconds(delay), leeway: .milliseconds(5))
    }

    func fire(now: ContinuousClock.Instant) {
        // Abandoned under the lock that `unwatch` takes: work that finished (a call whose connection
        // went back to its pool) is never abandoned afterwards, under the connection's next use.
        let expired = state.withLock { state -> [@Sendable () -> Void] in
            let (ids, next) = state.schedule.fire(now: now)
            if let next { arm(at: next) }
            var expired: [@Sendable () -> Void] = []
            for id in ids {
                guard var watch = state.watches[id] else { continue }
                watch.fired = true
                state.watches[id] = watch
                watch.connection?.abandon()
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
