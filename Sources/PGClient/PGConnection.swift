import CLibPQ
import Dispatch
import IOReactor
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One PostgreSQL connection.
///
/// How it avoids blocking Swift's cooperative pool: libpq runs in non-blocking mode. A statement is
/// sent and its results parsed by the task that runs it; only the wait for PostgreSQL's answer is
/// handed to `IOReactor`, one epoll thread for every connection, which resumes the task when the
/// socket is ready. Connecting is non-blocking too (`PQconnectStartParams`/`PQconnectPoll`), on the
/// connection's own serial queue because DNS resolution inside it may block, so connect timeouts
/// are precise and a cancelled task abandons its connect at once.
///
/// Why this design, measured (see `BENCHMARKS.md` and `pgclient-driver-bench`): the first version
/// ran blocking libpq on a serial dispatch queue per connection, which measured cheaper than a
/// non-blocking driver woken by `DispatchSource`s for one connection in isolation. Under the
/// server's load it cost two thread hand-offs per call — to the statement's thread and back — and
/// a thread per running statement; the reactor needs neither: its thread sleeps in one
/// `epoll_wait` and wakes for many sockets at once. TCP keepalives (set unless the parameters choose
/// their own) bound how long a dead network can keep a statement waiting.
///
/// A connection runs one statement at a time; a second concurrent call fails with `.misuse`.
public final class PGConnection: @unchecked Sendable {
    /// PostgreSQL's process id for this connection, as `pg_stat_activity.pid` shows it.
    public let backendPID: Int32
    /// e.g. 150018 for 15.18.
    public let serverVersion: Int
    /// What it connected with; prints the password as `•••`.
    public let parameters: PGConnectionParameters

    let queue: DispatchQueue
    let tracker: SourceTracker
    /// The libpq connection. Touched only by the one operation that holds the connection busy, and
    /// by `close()` once none does.
    var pg: OpaquePointer?

    let shared: Mutex<SharedState>
    private let cancelHandle: OpaquePointer?
    /// The socket, fixed once connected.
    let socket: Int32
    /// How long a cancel request may take to reach the postmaster before the connection is given up
    /// instead (`abandon()`): the connect timeout it was opened with.
    let cancelTimeout: Duration

    struct SharedState {
        var closed = false
        var broken = false
        /// `abandon()` shut the socket down: nothing will run on this connection again.
        var abandoned = false
        /// PQfinish is about to close the socket: its number may belong to someone else after.
        var finished = false
        var busy = false
        var transactionStatus = PGTransactionStatus.idle
        /// The last statement was a successful `DISCARD ALL` and no transaction is open.
        var isReset = true
        /// A statement of a reset failed on its own (see `resetFailure`).
        var resetFailure: PGError?
        var nextOperationID: UInt64 = 0
        /// The operation whose statement is on the server now (cancel targets only it).
        var runningOperation: UInt64?
        var cancelRequested: UInt64?
        var cancelsInFlight = 0
        /// A finished operation waiting until every PQcancel aimed at it has returned, so a late
        /// cancel can never hit the next statement.
        var cancelsDelivered: CheckedContinuation<Void, Never>?
        /// `close()` waiting for the running operation to end.
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    init(pg: OpaquePointer, queue: DispatchQueue, tracker: SourceTracker, parameters: PGConnectionParameters, cancelTimeout: Duration) {
        self.pg = pg
        self.cancelTimeout = cancelTimeout
        self.queue = queue
        self.tracker = tracker
        self.parameters = parameters
        backendPID = PQbackendPID(pg)
        serverVersion = Int(PQserverVersion(pg))
        cancelHandle = PQgetCancel(pg)
        socket = PQsocket(pg)
        shared = Mutex(SharedState())
        PQsetnonblocking(pg, 1)
    }

    deinit {
        if let pg {
            IOReactor.shared.forget(socket, owner: ObjectIdentifier(self))
            PQfinish(pg)
        }
        if let cancelHandle { PQfreeCancel(cancelHandle) }
    }

    /// Transaction status after the last statement finished (`PQtransactionStatus`).
    public var transactionStatus: PGTransactionStatus { shared.withLock { $0.transactionStatus } }

    /// True when nothing ran since a successful `DISCARD ALL` (or since connecting): the session
    /// state is as fresh as a new connection's, so a pool can reuse it without resetting it again.
    public var isReset: Bool { shared.withLock { $0.isReset } }

    /// Why a reset of this connection failed, if one did: a statement of it failed on its own
    /// (a `statement_timeout` or session default the last user left, a lock), so the session state
    /// it left cannot be vouched for. Such a connection is not to be reset again and reused, but
    /// closed: a second reset would be a second sync, which a transaction-mode pooler may run on
    /// another server connection. Never cleared.
    public var resetFailure: PGError? { shared.withLock { $0.resetFailure } }

    /// True once the connection failed (network, server gone, protocol state it cannot leave): close it.
    public var isBroken: Bool { shared.withLock { $0.broken } }

    public var isClosed: Bool { shared.withLock { $0.closed } }

    /// A cheap check, without a round trip, that an idle connection was not dropped by its server
    /// (terminated backend, restart). We never LISTEN, so anything readable on an idle connection
    /// is a termination notice or end of file; such a connection is marked broken. Its socket has
    /// been watched since its last operation ended (`IOReactor.watchWhileIdle`), so a quiet one
    /// costs no system call; otherwise one zero-timeout `poll()` decides. Not meaningful while a
    /// statement runs.
    public func isAlive() async -> Bool {
        let usable = shared.withLock { !$0.closed && !$0.broken && !$0.busy }
        guard usable, socket >= 0 else { return false }
        if IOReactor.shared.idleStatus(socket, owner: ObjectIdentifier(self)) == .quiet { return true }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, 0) != 0 else { return true }
        shared.withLock { $0.broken = true }
        return false
    }

    /// Asks PostgreSQL to cancel the statement running now, if any, and returns once the request
    /// was delivered. The statement then fails with SQLSTATE 57014 and kind `.cancelled`.
    public func cancel() async {
        let id = shared.withLock { $0.runningOperation }
        guard let id else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            requestCancel(of: id, external: true) { continuation.resume() }
        }
    }

    /// Cancels what runs, then closes the connection. Safe to call more than once and concurrently.
    /// Bounded: a statement that does not end within `cancelTimeout` of its cancel (a frozen backend)
    /// has its connection abandoned.
    public func close() async {
        let alreadyClosed = shared.withLock { state -> Bool in
            defer { state.closed = true }
            return state.closed
        }
        if alreadyClosed { return }
        // A statement still running on the server would outlive our socket (PostgreSQL notices a
        // gone client only when it next writes), so cancel it first and let its task finish.
        await cancel()
        await bounded(by: cancelTimeout) {
            await shared.wait { state, continuation in
                if !state.busy { return true }
                state.idleWaiters.append(continuation)
                return false
            }
        }
        IOReactor.shared.forget(socket, owner: ObjectIdentifier(self))
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            // PQfinish writes a goodbye to the socket: off the cooperative pool.
            queue.async { [self] in
                tracker.whenQuiet { [self] in
                    shared.withLock { $0.finished = true }
                    if let pg { PQfinish(pg) }
                    pg = nil
                    continuation.resume()
                }
            }
        }
    }

    /// Gives the connection up at once, whatever runs on it: marks it broken and shuts its socket
    /// down, so that a statement waiting for PostgreSQL's answer fails now (its wait wakes on the
    /// closed socket) instead of waiting on a server that may never answer (frozen, unreachable).
    /// The pool then closes it. For deadlines of our own; safe from any thread, more than once.
    public func abandon() {
        let first = shared.withLock { state -> Bool in
            defer {
                state.abandoned = true
                state.broken = true
            }
            guard !state.abandoned else { return false }
            // Under the lock that `close()` takes before PQfinish: once the socket is closed its
            // number may be another connection's, which must not be shut down.
            if !state.finished, socket >= 0 { _ = Glibc.shutdown(socket, Int32(SHUT_RDWR)) }
            return true
        }
        guard first else { return }
        // An operation waiting for its cancels to be delivered need not: nothing runs after it.
        let waiter = shared.withLock { state in
            defer { state.cancelsDelivered = nil }
            return state.cancelsDelivered
        }
        waiter?.resume()
    }

    public var isAbandoned: Bool { shared.withLock { $0.abandoned } }

    /// Runs `body`, abandoning the connection if it has not finished within `limit`
    /// (`ConnectionWatchdog`): for work outside a call — a close, a health check, a new connection's
    /// privilege check, a probe.
    @discardableResult
    public func bounded<R>(by limit: Duration, _ body: () async throws -> R) async rethrows -> R {
        let watch = ConnectionWatchdog.shared.watch(self, limit: limit)
        defer { ConnectionWatchdog.shared.unwatch(watch) }
        return try await body()
    }

    /// Sends a cancel request for operation `id` on a utility thread (PQcancel blocks while it
    /// talks to the postmaster), then runs `delivered`. Bounded: a request not delivered within
    /// `cancelTimeout` (the postmaster unreachable or frozen) abandons the connection instead, so
    /// nothing waits on it; libpq 15's PQcancel has no timeout of its own, so its thread stays
    /// blocked until the postmaster answers or the network gives up.
    func requestCancel(of id: UInt64, external: Bool, delivered: (@Sendable () -> Void)? = nil) {
        let send = shared.withLock { state -> Bool in
            guard state.cancelRequested != id else { return false }
            if external { state.cancelRequested = id }
            guard state.runningOperation == id else { return false }
            state.cancelsInFlight += 1
            return true
        }
        guard send, let cancelHandle else {
            delivered?()
            return
        }
        let handle = UnsafeSendable(cancelHandle)
        // Undelivered within the timeout: the watchdog abandons the connection and runs `delivered`;
        // delivered in time, the unwatch says so and `delivered` runs here. Either way, once.
        let watch = ConnectionWatchdog.shared.watch(self, limit: cancelTimeout, onExpired: delivered)
        // A queue of its own (its own thread when needed): a PQcancel stuck on a frozen postmaster
        // must not hold one of the few threads of the global queues, which other timers need.
        DispatchQueue(label: "pgmcp.cancel-request").async { [self] in
            var buffer = [CChar](repeating: 0, count: 256)
            _ = PQcancel(handle.value, &buffer, Int32(buffer.count))
            let finished = shared.withLock { state -> CheckedContinuation<Void, Never>? in
                state.cancelsInFlight -= 1
                guard state.cancelsInFlight == 0 else { return nil }
                defer { state.cancelsDelivered = nil }
                return state.cancelsDelivered
            }
            if !ConnectionWatchdog.shared.unwatch(watch) { delivered?() }
            finished?.resume()
        }
    }
}

/// `PQtransactionStatus` as a Swift enum.
public enum PGTransactionStatus: Sendable, Equatable {
    case idle, active, inTransaction, inFailedTransaction, unknown

    init(_ status: PGTransactionStatusType) {
        switch status {
        case PQTRANS_IDLE: self = .idle
        case PQTRANS_ACTIVE: self = .active
        case PQTRANS_INTRANS: self = .inTransaction
        case PQTRANS_INERROR: self = .inFailedTransaction
        default: self = .unknown
        }
    }
}

/// Carries a pointer whose thread-safety libpq documents (PGcancel is made for other threads).
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
