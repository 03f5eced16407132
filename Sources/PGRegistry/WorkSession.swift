import Foundation
import PGConfig
import Synchronization

/// One work session: its active database, its dynamic connections, its in-flight calls (each a task
/// the session can cancel), its statistics and its last activity. Created and ended by the registry.
public final class WorkSession: Sendable {
    public let handle: SessionHandle
    /// The name its client gave it, cut short and cleaned on the way in (`SessionLabel`).
    public let label: String?
    /// Whoever created it (a credential fingerprint); `nil` for anyone.
    public let owner: String?
    /// Its caller's principal patterns it matches (`sub:…`, `group:…`, `scope:…`) under OAuth,
    /// which decide the databases it sees and writes; nil without OAuth (every database).
    public let identities: [String]?

    /// Whether a caller with `owner` and `identities` is the one that made this session: the same
    /// credential, and the same groups and scopes (a later token of the same subject with fewer
    /// rights does not inherit the session's). To any other caller the session does not exist.
    public func belongs(to owner: String?, identities: [String]?) -> Bool {
        self.owner == owner && self.identities.map(Set.init) == identities.map(Set.init)
    }
    public let createdAt: Date
    /// False for a session that lives as long as its transport (stdio), whatever the idle timeout.
    public let expiresWhenIdle: Bool
    let slots: SessionSlots
    /// Its running calls: ending the session cancels them.
    let calls = CancellableCalls<Int>()
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
        var lastActivityAt: Date
        var nextCallID = 0
        var dynamic: [String: DatabaseTarget] = [:]
        /// Copies of `"isolation": "clone"` entries, by entry name (made on first use).
        var clones: [String: Clone] = [:]
        /// Transactions held open across calls, by database name (`begin_transaction`).
        var transactions: [String: PinnedSlot] = [:]
        /// Why a transaction ended without the caller asking (idle timeout, lost connection), by
        /// database name: told once, to the next call on that database, so that it does not run
        /// outside a transaction its caller believes open.
        var endedTransactions: [String: String] = [:]
        /// Running calls with no deadline of ours (their database has no statement timeout).
        var unboundedCalls = 0
        var queries = 0
        var errors = 0
        var rowsReturned = 0
        var endWaiters: [CheckedContinuation<Void, Never>] = []
    }

    init(
        handle: SessionHandle, label: String?, owner: String?, identities: [String]? = nil, database: String, databaseChosen: Bool = false,
        expiresWhenIdle: Bool = true, connectionLimit: Int, now: ContinuousClock.Instant
    ) {
        self.handle = handle
        self.expiresWhenIdle = expiresWhenIdle
        self.label = SessionLabel.cleaned(label)
        self.owner = owner
        self.identities = identities
        createdAt = Date()
        slots = SessionSlots(limit: connectionLimit)
        state = Mutex(State(activeDatabase: database, databaseChosen: databaseChosen, lastActivity: now, lastActivityAt: createdAt))
    }

    public var activeDatabase: String { state.withLock { $0.activeDatabase } }

    public var isActive: Bool { state.withLock { $0.phase == .active } }

    /// A snapshot for `current_database` and friends.
    public var info: SessionInfo {
        state.withLock { state in
            SessionInfo(
                handle: handle, label: label, activeDatabase: state.activeDatabase, queries: state.queries,
                errors: state.errors, rowsReturned: state.rowsReturned, connectionsHeld: slots.inUse,
                connectionLimit: slots.limit, createdAt: createdAt, lastActivityAt: state.lastActivityAt)
        }
    }

    /// Counts rows a call returned (the tool layer knows how many).
    public func recordRowsReturned(_ count: Int) {
        state.withLock { $0.rowsReturned += count }
    }

    func touch(_ now: ContinuousClock.Instant) {
        state.withLock { state in
            state.lastActivity = now
            state.lastActivityAt = Date()
        }
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
public struct DatabaseTarget: Sendable {
    public enum Kind: String, Sendable { case configured, dynamic }
    public var config: DatabaseConfig
    public var kind: Kind
    public var pool: ConnectionPool
    /// For a session's copy of a clone entry: the entry it was copied from.
    public var cloneOf: DatabaseConfig?
    public var name: String { config.id }

    public init(config: DatabaseConfig, kind: Kind, pool: ConnectionPool, cloneOf: DatabaseConfig? = nil) {
        self.config = config
        self.kind = kind
        self.pool = pool
        self.cloneOf = cloneOf
    }
}
