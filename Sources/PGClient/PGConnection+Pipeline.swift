import CLibPQ
import Dispatch

/// One statement of a pipeline.
public struct PGStatement: Sendable {
    public var sql: String
    public var parameters: [String?]

    public init(_ sql: String, parameters: [String?] = []) {
        self.sql = sql
        self.parameters = parameters
    }
}

extension PGConnection {
    /// Sends `statements` together and reads their results in one round trip (libpq pipeline mode).
    /// Each statement is followed by its own sync, so one that fails does not stop the rest: the
    /// `ROLLBACK` after a failed query still runs. Rows of statement `rowsFrom` go to `sink` as in
    /// `execute`, including stopping early; rows of the others are dropped.
    ///
    /// - Returns: each statement's outcome, in order, and the sink.
    /// - Throws: `PGError` only when the pipeline itself failed (connection broken, cancelled before it
    ///   was sent); a statement's SQL error is in its outcome.
    public func pipeline<Sink: PGRowSink>(
        _ statements: [PGStatement], rowsFrom index: Int, into sink: Sink
    ) async throws -> ([Result<PGCommandResult, PGError>], Sink) {
        let id = try beginOperation()
        let box = SinkBox(sink)
        let outcomes = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<[Result<PGCommandResult, PGError>], any Error>) in
                let operations = statements.enumerated().map { position, statement in
                    QueryOperation(
                        id: id, sql: statement.sql, parameters: statement.parameters,
                        onColumns: position == index ? { box.sink.start(columns: $0) } : { _ in },
                        onRow: position == index ? { box.sink.consume($0) } : { _ in .continue },
                        complete: { _ in })
                }
                queue.async { [self] in
                    runPipeline(operations, id: id) { continuation.resume(with: $0.mapError { $0 }) }
                }
            }
        } onCancel: {
            requestCancel(of: id, external: true)
        }
        return (outcomes, box.sink)
    }

    /// On `queue`: enter pipeline mode, send every statement with a sync, read each one's results
    /// and its sync, leave pipeline mode.
    private func runPipeline(
        _ operations: [QueryOperation], id: UInt64, complete: @escaping @Sendable (Result<[Result<PGCommandResult, PGError>], PGError>) -> Void
    ) {
        guard let pg else { return complete(.failure(PGError(kind: .misuse, message: "the connection is closed"))) }
        guard markRunning(id) else {
            return finishOperation(id: id, lastStatementReset: false) { complete(.failure(.cancelledBeforeSent)) }
        }
        var failure: PGError?
        if PQenterPipelineMode(pg) != 1 {
            failure = connectionFailure(pg)
        } else {
            for operation in operations where failure == nil {
                let sent = withCStringArray(operation.parameters) { values in
                    PQsendQueryParams(pg, operation.sql, Int32(values.count), nil, values, nil, nil, 0)
                }
                if sent != 1 || PQpipelineSync(pg) != 1 { failure = connectionFailure(pg) }
            }
        }
        if failure == nil {
            for operation in operations {
                PQsetSingleRowMode(pg)
                var keepGoing = true
                while keepGoing, let result = PQgetResult(pg) {
                    keepGoing = handle(result, of: operation)
                    PQclear(result)
                }
                guard keepGoing, let sync = PQgetResult(pg) else {
                    failure = operation.error?.kind == .connection || !keepGoing ? operation.error : connectionFailure(pg)
                    break
                }
                let synced = PQresultStatus(sync) == PGRES_PIPELINE_SYNC
                PQclear(sync)
                if !synced {
                    failure = PGError(kind: .connection, message: "the pipeline lost its place; the connection is given up")
                    break
                }
            }
        }
        if failure == nil, PQexitPipelineMode(pg) != 1 { failure = connectionFailure(pg) }
        if failure != nil { shared.withLock { $0.broken = true } }
        let outcomes = operations.map { outcome(of: $0) }
        let resetLast = failure == nil && operations.last?.isReset == true && operations.last?.error == nil
        let result: Result<[Result<PGCommandResult, PGError>], PGError> = failure.map { .failure($0) } ?? .success(outcomes)
        finishOperation(id: id, lastStatementReset: resetLast) { complete(result) }
    }
}
