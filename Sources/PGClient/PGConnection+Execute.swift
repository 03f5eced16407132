import CLibPQ
import IOReactor
import PGMCPJSON

extension PGConnection {
    /// Runs exactly one statement through the extended protocol (`PQsendQueryParams`), which
    /// PostgreSQL refuses for a string holding several statements: `SELECT 1; DROP …` never runs.
    /// Rows reach `sink` one at a time as they arrive (single-row mode); if it says `.stop`, the
    /// statement is cancelled and what remains is read and dropped, never buffered.
    ///
    /// - Parameters:
    ///   - parameters: `$1…$n` in PostgreSQL's text format; `nil` is SQL NULL. Types are inferred.
    /// - Returns: the command's outcome and the sink as it was left.
    /// - Throws: `PGError`: `.statement` for SQL errors (the connection stays usable),
    ///   `.cancelled` after `cancel()` or task cancellation, `.connection` when the link broke.
    public func execute<Sink: PGRowSink>(
        _ sql: String, parameters: [String?] = [], into sink: Sink
    ) async throws -> (PGCommandResult, Sink) {
        try NULCheck.check(sql: sql, parameters: parameters)
        let id = try beginOperation()
        let box = SinkBox(sink)
        let operation = QueryOperation(
            id: id, sql: sql, parameters: parameters, onColumns: { box.sink.start(columns: $0) }, onRow: { box.sink.consume($0) })
        let outcome = await withTaskCancellationHandler {
            await run(operation)
        } onCancel: {
            requestCancel(of: id, external: true)
        }
        return (try outcome.get(), box.sink)
    }

    /// Runs one statement and collects its rows (all, or the first `maxRows`).
    public func query(_ sql: String, parameters: [String?] = [], maxRows: Int? = nil) async throws -> PGQueryResult {
        let (command, collector) = try await execute(sql, parameters: parameters, into: PGRowCollector(maxRows: maxRows))
        return PGQueryResult(command: command, columns: command.columns, rows: collector.rows, truncated: collector.truncated)
    }

    /// Runs one statement whose rows, if any, do not matter (`DISCARD ALL`, `ROLLBACK`, DDL).
    @discardableResult
    public func command(_ sql: String, parameters: [String?] = []) async throws -> PGCommandResult {
        try await execute(sql, parameters: parameters, into: DiscardingSink()).0
    }

    /// Marks the connection busy and numbers the operation; refuses a closed, broken or busy one.
    func beginOperation() throws(PGError) -> UInt64 {
        try shared.withLock { state throws(PGError) -> UInt64 in
            if state.closed { throw PGError(kind: .misuse, message: "the connection is closed") }
            if state.broken { throw PGError(kind: .connection, message: "the connection is broken") }
            if state.busy { throw PGError(kind: .misuse, message: "the connection is already running a statement") }
            state.busy = true
            state.nextOperationID += 1
            return state.nextOperationID
        }
    }

    // MARK: - The driver: non-blocking libpq in the calling task, waiting on `IOReactor`

    private func run(_ operation: QueryOperation) async -> Result<PGCommandResult, PGError> {
        guard let pg else { return .failure(PGError(kind: .misuse, message: "the connection is closed")) }
        guard markRunning(operation.id) else { return await finish(operation, failure: .cancelledBeforeSent) }
        let sent = withCStringArray(operation.parameters) { values in
            PQsendQueryParams(pg, operation.sql, Int32(values.count), nil, values, nil, nil, 0)
        }
        guard sent == 1 else { return await finish(operation, failure: connectionFailure(pg)) }
        // Before anything reads input: single-row mode must be set before the first row is parsed.
        PQsetSingleRowMode(pg)
        do throws(PGError) {
            try await flushOutput(pg)
            while let result = try await nextResult(pg) {
                let keepGoing = handle(result, of: operation)
                PQclear(result)
                guard keepGoing else { break }
            }
        } catch {
            // A FATAL error the server sent before closing says more than the closed socket.
            operation.error = operation.error ?? error
        }
        if PQstatus(pg) == CONNECTION_BAD, operation.error == nil || operation.error?.kind == .statement {
            operation.error = connectionFailure(pg)
        }
        // Stopped early, then abandoned because the cancel could not reach the postmaster: the rows
        // read are the answer; only the connection is lost.
        if operation.stoppedEarly, isAbandoned, operation.error?.kind == .connection { operation.error = nil }
        return await finish(operation, failure: nil)
    }

    /// Sends what libpq has buffered, waiting for the socket while it is full (reading meanwhile, as
    /// libpq asks, so that a server blocked on writing to us cannot deadlock the exchange).
    func flushOutput(_ pg: OpaquePointer) async throws(PGError) {
        while true {
            switch PQflush(pg) {
            case 0: return
            case 1:
                let ready = await IOReactor.shared.wait(socket, readable: true, writable: true, owner: ObjectIdentifier(self))
                if ready.readable, PQconsumeInput(pg) == 0 { throw lostConnection(pg) }
            default: throw lostConnection(pg)
            }
        }
    }

    /// The next result, waiting for the socket (never a thread) until libpq can return it without
    /// blocking; `nil` when the current statement has no more.
    func nextResult(_ pg: OpaquePointer) async throws(PGError) -> OpaquePointer? {
        while PQisBusy(pg) == 1 {
            if !hasDecryptedInput(pg) { _ = await IOReactor.shared.wait(socket, owner: ObjectIdentifier(self)) }
            if PQconsumeInput(pg) == 0 { throw lostConnection(pg) }
        }
        return PQgetResult(pg)
    }

    /// The link failed under a read or write: the connection is given up.
    private func lostConnection(_ pg: OpaquePointer) -> PGError {
        shared.withLock { $0.broken = true }
        return connectionFailure(pg)
    }

    /// Handles one `PGresult`; returns false when reading must end (the connection is given up).
    func handle(_ result: OpaquePointer, of operation: QueryOperation) -> Bool {
        let status = PQresultStatus(result)
        switch status {
        case PGRES_SINGLE_TUPLE:
            let columns = operation.describe(result)
            if !operation.discarding {
                let row = PGRow(result: result, index: 0, columns: columns)
                switch operation.onRow(row) {
                case .continue: break
                case .stop:
                    operation.discarding = true
                    operation.stoppedEarly = true
                    requestCancel(of: operation.id, external: false)
                case .skipRest:
                    operation.discarding = true
                }
            }
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK:
            if status == PGRES_TUPLES_OK { _ = operation.describe(result) }
            operation.commandTag = String(cString: PQcmdStatus(result))
            operation.rowsAffected = Int(String(cString: PQcmdTuples(result)))
        case PGRES_PIPELINE_ABORTED:
            operation.skipped = true
            operation.error = PGError(kind: .statement, message: "not run: an earlier statement of the pipeline failed")
        case PGRES_EMPTY_QUERY:
            operation.error = PGError(kind: .statement, message: "the statement is empty")
        case PGRES_FATAL_ERROR:
            let error = PGError(result: result)
            // The cancel we sent to stop early surfaces as query_canceled: that is the plan, not an error.
            if !(operation.stoppedEarly && error.sqlState == PGError.queryCanceledState) {
                operation.error = operation.error ?? error
            }
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            // COPY to/from the client has no place here, and the protocol state it leaves cannot be
            // unwound cheaply: the connection is given up.
            shared.withLock { $0.broken = true }
            operation.error = PGError(kind: .statement, message: "COPY FROM STDIN / TO STDOUT is not supported; use INSERT or SELECT")
            return false
        default:
            break
        }
        return true
    }

    func connectionFailure(_ pg: OpaquePointer) -> PGError {
        let message = String(cString: PQerrorMessage(pg)).trimmingTrailingNewlines()
        return PGError(kind: .connection, message: parameters.redact(message.isEmpty ? "the connection was lost" : message))
    }

    /// Records operation `id` as the one on the server (the one a cancel targets). False when it was
    /// cancelled before it could be sent.
    func markRunning(_ id: UInt64) -> Bool {
        shared.withLock { state -> Bool in
            if state.cancelRequested == id { return false }
            state.runningOperation = id
            return true
        }
    }

    /// A statement's outcome; query_canceled after a `cancel()` or task cancellation reads `.cancelled`.
    func outcome(of operation: QueryOperation, failure: PGError? = nil) -> Result<PGCommandResult, PGError> {
        guard var error = failure ?? operation.error else { return .success(operation.commandResult) }
        if error.sqlState == PGError.queryCanceledState, shared.withLock({ $0.cancelRequested == operation.id }) { error.kind = .cancelled }
        return .failure(error)
    }

    /// Ends a single statement and returns its outcome.
    private func finish(_ operation: QueryOperation, failure: PGError?) async -> Result<PGCommandResult, PGError> {
        let outcome = outcome(of: operation, failure: failure)
        await finishOperation(id: operation.id, lastStatementReset: false)
        return outcome
    }

    /// Ends an operation: records the transaction status and frees the connection, once every
    /// cancel aimed at the operation was delivered, so that a late cancel can never hit the next
    /// statement.
    func finishOperation(id: UInt64, lastStatementReset: Bool) async {
        let status = pg.map { PGTransactionStatus(PQtransactionStatus($0)) } ?? .unknown
        let broken = pg.map { PQstatus($0) == CONNECTION_BAD } ?? true
        let cancelsPending = shared.withLock { state -> Bool in
            state.runningOperation = nil
            return state.cancelsInFlight > 0
        }
        if cancelsPending {
            await shared.wait { state, continuation in
                // An abandoned connection runs nothing more, so a late cancel can hit nothing.
                guard state.cancelsInFlight > 0, !state.abandoned else { return true }
                state.cancelsDelivered = continuation
                return false
            }
        }
        // Everything expected was read: what arrives from now on is the server leaving. Armed while
        // still busy, so that `close()` cannot have closed the socket yet.
        if !broken { IOReactor.shared.watchWhileIdle(socket, owner: ObjectIdentifier(self)) }
        let idleWaiters = shared.withLock { state in
            state.busy = false
            state.transactionStatus = status
            state.isReset = lastStatementReset && status == .idle
            if broken { state.broken = true }
            defer { state.idleWaiters = [] }
            return state.idleWaiters
        }
        for waiter in idleWaiters { waiter.resume() }
    }
}

extension PGError {
    /// The diagnostic fields of a failed `PGresult`.
    init(result: OpaquePointer) {
        func field(_ code: UInt8) -> String? {
            guard let pointer = PQresultErrorField(result, Int32(code)) else { return nil }
            return String(cString: pointer)
        }
        let primary = field(UInt8(ascii: "M")) ?? String(cString: PQresultErrorMessage(result)).trimmingTrailingNewlines()
        let sqlState = field(UInt8(ascii: "C"))
        self.init(
            kind: .statement, message: primary, sqlState: sqlState,
            detail: field(UInt8(ascii: "D")), hint: field(UInt8(ascii: "H")),
            position: field(UInt8(ascii: "P")).flatMap { Int($0) },
            severity: field(UInt8(ascii: "V")) ?? field(UInt8(ascii: "S"))
        )
        // Class 08 (connection exception) and 57P (operator intervention) mean the link is gone, but
        // not 08P01 alone: PostgreSQL reports a wrong parameter count as a protocol violation on a
        // connection that stays usable. A link that really broke is caught by `PQstatus` afterwards.
        if let sqlState, (sqlState.hasPrefix("08") && sqlState != "08P01") || sqlState.hasPrefix("57P") { kind = .connection }
    }
}
