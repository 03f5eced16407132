import Foundation
import PGClient

/// A connection held by one work session across calls, for a transaction it keeps open
/// (`begin_transaction` … `commit_transaction`). It keeps its lease (and so one of the session's
/// connection slots) until it goes back to its pool, reset. What happens to it is decided by the
/// session's `TransactionTable`; this is only what it is.
public final class PinnedConnection: Sendable {
    public let lease: SessionLease
    /// The transaction is read-only (`BEGIN READ ONLY`).
    public let readOnly: Bool
    /// When `BEGIN` succeeded, on the registry's clock.
    public let opened: ContinuousClock.Instant
    /// The same moment as a date, for reports.
    public let openedAt: Date
    /// For a query's cursor (`nextCursor`) rather than a transaction: its id and place.
    public let cursor: CursorPlace?

    init(lease: SessionLease, readOnly: Bool, opened: ContinuousClock.Instant, openedAt: Date, cursor: CursorPlace? = nil) {
        self.lease = lease
        self.readOnly = readOnly
        self.opened = opened
        self.openedAt = openedAt
        self.cursor = cursor
    }

    public var target: DatabaseTarget { lease.target }
    public var connection: PGConnection { lease.connection }

    /// PostgreSQL's view of the transaction: `.inFailedTransaction` after a statement failed.
    public var transactionStatus: PGTransactionStatus { lease.connection.transactionStatus }

    /// Whether it is a connection of `target`'s database: its pool, not only its name.
    func serves(_ target: DatabaseTarget) -> Bool {
        self.target.pool === target.pool || self.target.cloneOf != nil && target.config.isolation == .clone
    }
}

/// An open transaction as reported (`current_database`, `begin_transaction`): the connection and
/// how long ago it was opened and last used, on the registry's clock.
public struct OpenTransaction: Sendable {
    public let pinned: PinnedConnection
    public let age: Duration
    public let idle: Duration

    public init(pinned: PinnedConnection, age: Duration, idle: Duration) {
        self.pinned = pinned
        self.age = age
        self.idle = idle
    }
}
