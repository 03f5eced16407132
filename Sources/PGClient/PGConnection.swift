import CLibPQ
import Dispatch
import Synchronization

/// One PostgreSQL connection, driven through libpq's non-blocking API.
///
/// Why non-blocking: every libpq call here returns at once, and waiting for the server is a
/// `DispatchSource` on the socket, so no thread is parked per connection and nothing ever blocks
/// Swift's cooperative pool. All libpq work for a connection runs on its own serial queue, which is
/// also what makes a `PGconn` (not thread-safe) safe to use from many tasks.
/// MEASURE-PENDING: figures comparing this driver with blocking libpq go here.
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
    /// The libpq connection. Touched only on `queue`.
    var pg: OpaquePointer?
    /// The running statement. Touched only on `queue`.
    var operation: QueryOperation?
    /// Touched only on `queue`.
    var pendingWait: SocketWait?

    let shared: Mutex<SharedState>
    private let cancelHandle: OpaquePointer?

    struct SharedState {
        var closed = false
        var broken = false
        var busy = false
        var transactionStatus = PGTransactionStatus.idle
        var nextOperationID: UInt64 = 0
        /// The operation whose statement is on the server now (cancel targets only it).
        var runningOperation: UInt64?
        var cancelRequested: UInt64?
        var cancelsInFlight = 0
        /// A finished operation's completion, held until every PQcancel aimed at it has returned,
        /// so a late cancel can never hit the next statement.
        var heldCompletion: (@Sendable () -> Void)?
    }

    init(pg: OpaquePointer, queue: DispatchQueue, tracker: SourceTracker, parameters: PGConnectionParameters) {
        self.pg = pg
        self.queue = queue
        self.tracker = tracker
        self.parameters = parameters
        backendPID = PQbackendPID(pg)
        serverVersion = Int(PQserverVersion(pg))
        cancelHandle = PQgetCancel(pg)
        shared = Mutex(SharedState())
    }

    deinit {
        if let pg { PQfinish(pg) }
        if let cancelHandle { PQfreeCancel(cancelHandle) }
    }

    /// Transaction status after the last statement finished (`PQtransactionStatus`).
    public var transactionStatus: PGTransactionStatus { shared.withLock { $0.transactionStatus } }

    /// True once the connection failed (network, server gone, protocol state it cannot leave): close it.
    public var isBroken: Bool { shared.withLock { $0.broken } }

    public var isClosed: Bool { shared.withLock { $0.closed } }

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
    public func close() async {
        let alreadyClosed = shared.withLock { state -> Bool in
            defer { state.closed = true }
            return state.closed
        }
        if alreadyClosed { return }
        // A statement still running on the server would outlive our socket (PostgreSQL notices a
        // gone client only when it next writes), so cancel it first.
        await cancel()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async { [self] in
                pendingWait?.cancel()
                pendingWait = nil
                if let operation {
                    self.operation = nil
                    operation.fail(PGError(kind: .misuse, message: "the connection was closed while a statement ran"))
                }
                tracker.whenQuiet { [self] in
                    if let pg { PQfinish(pg) }
                    pg = nil
                    continuation.resume()
                }
            }
        }
    }

    /// Sends a cancel request for operation `id` on a utility thread (PQcancel blocks while it
    /// talks to the postmaster), then runs `delivered`.
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
        DispatchQueue.global(qos: .utility).async { [self] in
            var buffer = [CChar](repeating: 0, count: 256)
            _ = PQcancel(handle.value, &buffer, Int32(buffer.count))
            let held = shared.withLock { state -> (@Sendable () -> Void)? in
                state.cancelsInFlight -= 1
                guard state.cancelsInFlight == 0 else { return nil }
                defer { state.heldCompletion = nil }
                return state.heldCompletion
            }
            delivered?()
            held?()
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
