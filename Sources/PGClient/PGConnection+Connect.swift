import CLibPQ
import Dispatch

extension PGConnection {
    /// Opens a connection with `PQconnectStartParams`/`PQconnectPoll`, waiting on the socket, never
    /// on a thread. Fails with `.timeout` after `timeout` (any precision, unlike libpq's whole-second
    /// `connect_timeout`), and with `.cancelled` if the calling task is cancelled meanwhile.
    ///
    /// - Parameters:
    ///   - applicationName: shown in `pg_stat_activity.application_name`; overrides the parameters'.
    ///   - timeout: defaults to 5 seconds.
    public static func connect(
        _ parameters: PGConnectionParameters, applicationName: String? = nil, timeout: Duration = .seconds(5)
    ) async throws -> PGConnection {
        var parameters = parameters
        if let applicationName { parameters["application_name"] = applicationName }
        // Rows are decoded as UTF-8 whatever the server's encoding.
        parameters["client_encoding"] = "UTF8"
        // A statement waits on its socket until the server answers; keepalives make a vanished
        // server an error within about a minute instead of the OS default of two hours.
        for (keyword, value) in [("keepalives", "1"), ("keepalives_idle", "30"), ("keepalives_interval", "10"), ("keepalives_count", "3")]
        where parameters[keyword] == nil {
            parameters[keyword] = value
        }
        let connector = Connector(parameters: parameters, timeout: timeout)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                connector.start(continuation)
            }
        } onCancel: {
            connector.abort()
        }
    }
}

/// Drives one connection attempt on its own queue. Every member is touched only on `queue`.
final class Connector: @unchecked Sendable {
    private let parameters: PGConnectionParameters
    private let timeout: Duration
    private let queue = DispatchQueue(label: "pgmcp.pg-connection")
    private let tracker = SourceTracker()
    private var pg: OpaquePointer?
    private var wait: SocketWait?
    private var timer: DispatchWorkItem?
    private var continuation: CheckedContinuation<PGConnection, any Error>?
    /// Set when the task was cancelled, possibly before `start` ran.
    private var aborted = false

    init(parameters: PGConnectionParameters, timeout: Duration) {
        self.parameters = parameters
        self.timeout = timeout
    }

    func start(_ continuation: CheckedContinuation<PGConnection, any Error>) {
        queue.async { [self] in
            self.continuation = continuation
            if aborted { return fail(cancelledError()) }
            do throws(PGError) {
                try NULCheck.check(keywords: parameters.pairs.map(\.keyword), values: parameters.pairs.map(\.value))
            } catch { return fail(error) }
            let keywords = parameters.pairs.map { Optional($0.keyword) } + [nil]
            let values = parameters.pairs.map { Optional($0.value) } + [nil]
            // DNS resolution inside may block: that is why this runs on a dispatch queue.
            pg = withCStringArray(keywords) { k in
                withCStringArray(values) { v in PQconnectStartParams(k, v, 0) }
            }
            guard let pg else { return fail(PGError(kind: .connection, message: "out of memory starting a connection")) }
            if PQstatus(pg) == CONNECTION_BAD { return fail(connectionError()) }
            let timer = DispatchWorkItem { [self] in
                fail(PGError(kind: .timeout, message: "timed out after \(timeout.readable) connecting to \(target)"))
            }
            self.timer = timer
            queue.asyncAfter(deadline: .now() + timeout.timeInterval, execute: timer)
            // libpq: before the first PQconnectPoll, behave as if it returned PGRES_POLLING_WRITING.
            proceed(after: PGRES_POLLING_WRITING)
        }
    }

    /// Ends the attempt because the calling task was cancelled.
    func abort() {
        queue.async { [self] in
            aborted = true
            fail(cancelledError())
        }
    }

    private func proceed(after status: PostgresPollingStatusType) {
        guard let pg, continuation != nil else { return }
        switch status {
        case PGRES_POLLING_OK:
            succeed(pg)
        case PGRES_POLLING_READING, PGRES_POLLING_WRITING:
            let socket = PQsocket(pg)
            guard socket >= 0 else { return fail(connectionError()) }
            wait = SocketWait(
                socket: socket, queue: queue, readable: status == PGRES_POLLING_READING,
                writable: status == PGRES_POLLING_WRITING, tracker: tracker
            ) { [self] _ in
                guard let pg = self.pg else { return }
                proceed(after: PQconnectPoll(pg))
            }
        default:
            fail(connectionError())
        }
    }

    private func succeed(_ pg: OpaquePointer) {
        timer?.cancel()
        guard let continuation else { return }
        self.continuation = nil
        self.pg = nil
        // Notices (e.g. "table does not exist, skipping") would go to stderr, which stdio mode
        // reserves for logs; drop them here.
        PQsetNoticeReceiver(pg, { _, _ in }, nil)
        let connection = PGConnection(pg: pg, queue: queue, tracker: tracker, parameters: parameters, cancelTimeout: timeout)
        continuation.resume(returning: connection)
    }

    private func fail(_ error: PGError) {
        guard let continuation else { return }
        self.continuation = nil
        timer?.cancel()
        wait?.cancel()
        wait = nil
        if let pg {
            self.pg = nil
            let doomed = UnsafeSendable(pg)
            tracker.whenQuiet { PQfinish(doomed.value) }
        }
        continuation.resume(throwing: error)
    }

    private func connectionError() -> PGError {
        let message = pg.map { String(cString: PQerrorMessage($0)) } ?? "connection failed"
        return PGError(kind: .connection, message: parameters.redact(message.trimmingTrailingNewlines()))
    }

    private func cancelledError() -> PGError {
        PGError(kind: .cancelled, message: "connecting to \(target) was cancelled")
    }

    private var target: String {
        let host = parameters.host ?? "localhost"
        return parameters.port.map { "\(host):\($0)" } ?? host
    }
}
