import Foundation
import PGClient
import PGConfig
import Synchronization

/// One work session: its active database, its dynamic connections, its transactions, its
/// in-flight calls (each a task the session can cancel), its statistics and its last activity.
/// Created by the registry; it owns its lifecycle (select, dynamic add and remove, touch, end, in
/// WorkSession+Lifecycle.swift) on one clock, the registry's.
public final class WorkSession: Sendable {
    public let handle: SessionHandle
    /// The name its client gave it, cut short and cleaned on the way in (`SessionLabel`).
    public let label: String?
    /// Whoever created it. To any other caller the session does not exist.
    public let ownedBy: SessionOwner
    /// False for a session that lives as long as its transport (stdio), whatever the idle timeout.
    public let expiresWhenIdle: Bool
    /// The registry's clock: every stamp of this session (activity, transactions) is on it.
    let clock: @Sendable () -> ContinuousClock.Instant
    /// When it was made, on that clock and as a date: later stamps become dates from these two.
    let created: ContinuousClock.Instant
    public let createdAt: Date
    let slots: SessionSlots
    /// Its running calls: ending the session cancels them (all, or a pool's: never one by key).
    let calls = CancellableCalls<Never>()
    let state: Mutex<State>

    enum Phase: Equatable { case active, ending, ended }

    struct State {
        var phase = Phase.active
        var activeDatabase: String
        /// The caller named its database in this session (select_database, open_session's
        /// `database`, a dynamic connection): only then may a write go to the active database
        /// without naming it (see `ConnectionPoolRegistry.target(_:for:access:)`).
        var databaseChosen = false
        var lastActivity: ContinuousClock.Instant
        var dynamic: [String: DatabaseTarget] = [:]
        /// Copies of `"isolation": "clone"` entries, by entry name (made on first use).
        var clones: [String: Clone] = [:]
        /// Transactions held open across calls (`begin_transaction`), and the calls waiting for
        /// their turn in one.
        var transactions = TransactionTable<PinnedConnection>()
        var turns = TurnWaiters()
        /// Query cursors held open across calls (`nextCursor`), at most one per database, and the
        /// calls waiting for their turn on one: the same machine as transactions, another instance.
        var cursors = TransactionTable<PinnedConnection>()
        var cursorTurns = TurnWaiters()
        /// A session of a single call (MCP 2026-07-28 without a handle) that opened a cursor: kept
        /// after its call, for the cursor, and ended when its last cursor closes.
        var keptForCursor = false
        /// Running calls with no deadline of ours (their database has no statement timeout).
        var unboundedCalls = 0
        var queries = 0
        var errors = 0
        var rowsReturned = 0
        var endWaiters: [CheckedContinuation<Void, Never>] = []
    }

    init(
        handle: SessionHandle, label: String?, ownedBy: SessionOwner, database: String, databaseChosen: Bool = false,
        expiresWhenIdle: Bool = true, connectionLimit: Int, clock: @escaping @Sendable () -> ContinuousClock.Instant
    ) {
        self.handle = handle
        self.expiresWhenIdle = expiresWhenIdle
        self.label = SessionLabel.cleaned(label)
        self.ownedBy = ownedBy
        self.clock = clock
        created = clock()
        createdAt = Date()
        slots = SessionSlots(limit: connectionLimit)
        state = Mutex(State(activeDatabase: database, databaseChosen: databaseChosen, lastActivity: created))
    }

    /// The credential fingerprint of its owner; nil for anyone.
    public var owner: String? { ownedBy.credential }
    /// Its owner's principal patterns under OAuth; nil without OAuth (every database).
    public var identities: [String]? { ownedBy.identities }

    /// Whether `caller` is the one that made this session (`SessionOwner`'s equality).
    public func belongs(to caller: SessionOwner) -> Bool { ownedBy == caller }

    public var activeDatabase: String { state.withLock { $0.activeDatabase } }

    public var isActive: Bool { state.withLock { $0.phase == .active } }

    /// `instant` of this session's clock as a date.
    func date(of instant: ContinuousClock.Instant) -> Date {
        createdAt.addingTimeInterval((instant - created).timeInterval)
    }

    /// A snapshot for `current_database` and friends.
    public var info: SessionInfo {
        state.withLock { state in
            SessionInfo(
                handle: handle, label: label, activeDatabase: state.activeDatabase, queries: state.queries,
                errors: state.errors, rowsReturned: state.rowsReturned, connectionsHeld: slots.inUse,
                connectionLimit: slots.limit, createdAt: createdAt, lastActivityAt: date(of: state.lastActivity))
        }
    }

    /// Counts rows a call returned (the tool layer knows how many).
    public func recordRowsReturned(_ count: Int) {
        state.withLock { $0.rowsReturned += count }
    }

    var reaperCandidate: SessionReaper.Candidate {
        let running = calls.count
        return state.withLock {
            SessionReaper.Candidate(
                handle: handle, lastActivity: $0.lastActivity, expiresWhenIdle: expiresWhenIdle, callsInFlight: running,
                unboundedCallsInFlight: $0.unboundedCalls)
        }
    }

    /// The session's own dynamic databases.
    var dynamicDatabases: [DatabaseTarget] { state.withLock { Array($0.dynamic.values) } }

    /// Its own pools: dynamic databases and the copies of clone entries.
    var ownPools: [DatabaseTarget] {
        state.withLock { state in
            Array(state.dynamic.values) + state.clones.values.compactMap { if case .made(let target) = $0 { target } else { nil } }
        }
    }

    /// A session's copy of a clone entry: being made (calls racing for it share the task), or made.
    enum Clone {
        case making(Task<DatabaseTarget, any Error>)
        case made(DatabaseTarget)
    }
}

/// What `current_database` reports about a session.
public struct SessionInfo: Sendable {
    public var handle: SessionHandle
    public var label: String?
    public var activeDatabase: String
    public var queries: Int
    public var errors: Int
    public var rowsReturned: Int
    public var connectionsHeld: Int
    public var connectionLimit: Int
    public var createdAt: Date
    public var lastActivityAt: Date
}

/// A database a session can use: a configured one (pool shared) or one of its dynamic connections
/// (pool private to it).
///
/// A class, not a struct: a call passes its target through every layer and across its awaits, and
/// a copy of a struct holding a `DatabaseConfig` retained each of its strings and references (about
/// 65 retains per `query`, counted); a reference is one. Immutable: a changed target is a new one (`with`).
public final class DatabaseTarget: Sendable {
    public enum Kind: String, Sendable { case configured, dynamic }
    public let config: DatabaseConfig
    public let kind: Kind
    public let pool: ConnectionPool
    /// For a session's copy of a clone entry: the entry it was copied from.
    public let cloneOf: DatabaseConfig?
    /// For a configured entry with `roles`: the pools of its roles, one opened on first use each.
    /// `DatabaseVisibility.asSeen` puts the caller's role's config and pool in the target it returns.
    public let rolePools: RolePools?
    public var name: String { config.id }
    /// What `server_status` calls its pool: the database's name, and for a caller's role (`roles`)
    /// the role's too (`prod/analyst`), never the caller's.
    public var poolName: String { config.role.map { "\(config.id)/\($0)" } ?? config.id }

    public init(config: DatabaseConfig, kind: Kind, pool: ConnectionPool, cloneOf: DatabaseConfig? = nil, rolePools: RolePools? = nil) {
        self.config = config
        self.kind = kind
        self.pool = pool
        self.cloneOf = cloneOf
        self.rolePools = rolePools
    }

    /// This target with another config and pool (a caller's role, or read-only for a caller who may
    /// not write), the rest kept.
    public func with(config: DatabaseConfig, pool: ConnectionPool? = nil) -> DatabaseTarget {
        DatabaseTarget(config: config, kind: kind, pool: pool ?? self.pool, cloneOf: cloneOf, rolePools: rolePools)
    }
}
