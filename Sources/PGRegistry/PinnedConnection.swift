import Foundation
import PGClient
import Synchronization

/// A connection held by one work session across calls, for a transaction it keeps open
/// (`begin_transaction` … `commit_transaction`). It counts against the session's connection limit
/// from the moment it is pinned until it goes back to its pool, reset.
///
/// One call at a time uses it (a gate of one slot): a second call of the same session on the same
/// database waits its turn rather than failing with a busy connection.
public final class PinnedConnection: Sendable {
    public let target: DatabaseTarget
    /// The transaction is read-only (`BEGIN READ ONLY`).
    public let readOnly: Bool
    public let openedAt: Date
    let lease: PooledConnection
    let gate = SessionSlots(limit: 1)
    let state: Mutex<State>

    struct State {
        var lastUsed: ContinuousClock.Instant
        var callsRunning = 0
        var released = false
        /// Why it ended, when the caller did not end it (idle timeout, lost connection).
        var endReason: String?
    }

    init(target: DatabaseTarget, readOnly: Bool, lease: PooledConnection, now: ContinuousClock.Instant) {
        self.target = target
        self.readOnly = readOnly
        self.lease = lease
        openedAt = Date()
        state = Mutex(State(lastUsed: now))
    }

    public var connection: PGConnection { lease.connection }

    /// When a call last finished on it (or it was opened).
    public var lastUsed: ContinuousClock.Instant { state.withLock { $0.lastUsed } }

    /// PostgreSQL's view of the transaction: `.inFailedTransaction` after a statement failed.
    public var transactionStatus: PGTransactionStatus { lease.connection.transactionStatus }

    /// Whether it is a connection of `target`'s database: its pool, not only its name.
    func serves(_ target: DatabaseTarget) -> Bool {
        self.target.pool === target.pool || self.target.cloneOf != nil && target.config.isolation == .clone
    }

    /// Idle longer than `timeout` with no call running on it.
    func isIdle(now: ContinuousClock.Instant, timeout: Duration) -> Bool {
        state.withLock { !$0.released && $0.callsRunning == 0 && now - $0.lastUsed >= timeout }
    }
}

/// A session's transaction slot on one database: being opened (a second begin is refused), or open.
enum PinnedSlot {
    case opening
    case open(PinnedConnection)
}
