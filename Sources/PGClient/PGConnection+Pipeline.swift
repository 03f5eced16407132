import CLibPQ

/// One statement of a pipeline.
public struct PGStatement: Sendable {
    public var sql: String
    public var parameters: [String?]
    /// Part of leaving the connection clean for its next user: when it fails on its own (not
    /// skipped after an earlier failure, not hit by a cancel we sent), the connection reports
    /// `resetFailure` and its pool closes it rather than trust another reset.
    var isReset = false

    public init(_ sql: String, parameters: [String?] = []) {
        self.sql = sql
        self.parameters = parameters
    }

    init(reset sql: String, parameters: [String?] = []) {
        self.init(sql, parameters: parameters)
        isReset = true
    }
}

/// Where a pipeline's syncs go: each ends a unit that succeeds or fails on its own (a failed
/// statement skips the rest of its unit only), and under a transaction-mode pooler each unit may
/// run on a different server connection.
enum PGSyncs {
    /// After every statement.
    case each
    /// After the last only: one unit.
    case last
    /// After the statements at these positions, and after the last.
    case after(Set<Int>)

    func follows(_ position: Int, of count: Int) -> Bool {
        switch self {
        case .each: true
        case .last: position == count - 1
        case .after(let positions): positions.contains(position) || position == count - 1
        }
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
        // A pipeline ending in a successful DISCARD ALL (each statement has its sync) leaves the connection reset.
        try await pipeline(statements, rowsFrom: index, into: sink, syncs: .each, resets: statements.last?.sql == "DISCARD ALL")
    }

    /// Runs `statement` in a `READ ONLY` transaction that is rolled back, in one round trip with a
    /// single sync, and leaves the connection as fresh as `reset()` would, without a second round trip.
    ///
    /// Why this is as good as `DISCARD ALL` here: the rollback undoes everything transactional
    /// (settings, `SET ROLE`, `LISTEN`, cursors), and a read-only transaction cannot create
    /// temporary tables or advance sequences. What outlives a rollback is session-level advisory
    /// locks, prepared statements and the seed of `random()` (`setseed`), and the transaction
    /// releases, deallocates and re-seeds those itself before it ends. (`DISCARD ALL` cannot share a sync with other statements, and a second sync
    /// costs PostgreSQL a second flush and us a second wake-up.) If the statement fails, what follows
    /// it is skipped, the connection is not marked reset, and a pool resets it as usual.
    ///
    /// `statementTimeoutMs` is set for the transaction (`SET LOCAL`) in the same round trip: a
    /// connection option would be cheaper, but connection poolers such as PgBouncer refuse or drop
    /// startup options, and the limit must hold through them.
    ///
    /// - Throws: `PGError`: the statement's own error (`.statement`), or the pipeline's.
    public func readOnlyTransaction<Sink: PGRowSink>(
        _ statement: PGStatement, statementTimeoutMs: Int? = nil, into sink: Sink
    ) async throws -> (PGCommandResult, Sink) {
        try await scoped(statement, in: .transaction(readOnly: true), statementTimeoutMs: statementTimeoutMs, into: sink)
    }

    /// Runs `statement` in `scope` (see `PGScope`), in one round trip with a single sync; rows go to
    /// `sink`. A failed statement skips the rest: in `.savepoint` scope the enclosing transaction is
    /// then left aborted, as PostgreSQL leaves it after any failed statement.
    public func scoped<Sink: PGRowSink>(
        _ statement: PGStatement, in scope: PGScope, statementTimeoutMs: Int?, into sink: Sink
    ) async throws -> (PGCommandResult, Sink) {
        let (statements, first) = scope.statements(around: [statement], statementTimeoutMs: statementTimeoutMs)
        let (outcomes, sink) = try await pipeline(statements, rowsFrom: first, into: sink, syncs: .last, resets: scope.resets)
        for outcome in outcomes.prefix(first) { _ = try outcome.get() }
        let command = try outcomes[first].get()
        if !scope.resets, transactionStatus == .inFailedTransaction {
            // The statement was stopped early (the sink had enough): its cancel failed the savepoint,
            // not the statement. Rolling back to the savepoint gives the transaction back intact.
            try await undoScopedSavepoint()
        }
        return (command, sink)
    }

    /// Rolls back to the savepoint of a `.savepoint` scope that failed and releases it: the
    /// enclosing transaction is as it was before the scope, not aborted. For work of pgmcp's own
    /// (a catalog lookup) whose failure must not cost the caller's transaction.
    public func undoScopedSavepoint() async throws {
        let (outcomes, _) = try await pipeline(PGScope.undoSavepoint, rowsFrom: 0, into: DiscardingSink(), syncs: .last, resets: false)
        for outcome in outcomes { _ = try outcome.get() }
    }

    /// After a statement of `scope` failed: gives the connection back as it was before the scope (a
    /// transaction of its own rolled back; the enclosing transaction as before the savepoint), so
    /// that more work can follow on it.
    public func undoFailedScope(_ scope: PGScope) async throws {
        if scope.resets {
            if transactionStatus != .idle { try await command("ROLLBACK") }
        } else if transactionStatus == .inFailedTransaction {
            try await undoScopedSavepoint()
        }
    }

    /// Runs several reads in `scope`, in one round trip with a single sync, and collects every row of
    /// each: catalog reads that would otherwise cost a round trip each.
    public func scopedReads(_ statements: [PGStatement], in scope: PGScope, statementTimeoutMs: Int?) async throws -> [PGQueryResult] {
        let (before, after) = scope.statements(statementTimeoutMs: statementTimeoutMs)
        let all = before + statements + after
        for statement in all { try NULCheck.check(sql: statement.sql, parameters: statement.parameters) }
        let id = try beginOperation()
        let boxes = statements.map { _ in SinkBox(PGRowCollector()) }
        let operations = all.enumerated().map { position, statement in
            let box = (before.count..<before.count + statements.count).contains(position) ? boxes[position - before.count] : nil
            return QueryOperation(
                id: id, sql: statement.sql, parameters: statement.parameters, isReset: statement.isReset,
                onColumns: { box?.sink.start(columns: $0) }, onRow: { box?.sink.consume($0) ?? .continue })
        }
        let run = await withTaskCancellationHandler {
            await runPipeline(operations, id: id, syncs: .last, resets: scope.resets)
        } onCancel: {
            requestCancel(of: id, external: true)
        }
        if let failure = run.failure { throw failure }
        let outcomes = run.outcomes
        for outcome in outcomes.prefix(before.count + statements.count) { _ = try outcome.get() }
        return zip(outcomes[before.count...], boxes).map { outcome, box in
            let command = try! outcome.get()
            return PGQueryResult(command: command, columns: command.columns, rows: box.sink.rows, truncated: box.sink.truncated)
        }
    }

    /// - Parameters:
    ///   - syncs: where the syncs go (a failure skips the rest of its unit, which read `.skipped`).
    ///   - resets: when the last statement succeeds, the connection is left reset.
    /// - Throws: `PGError` when the pipeline itself failed (link broken, cancelled before it was sent).
    func pipeline<Sink: PGRowSink>(
        _ statements: [PGStatement], rowsFrom index: Int, into sink: Sink, syncs: PGSyncs, resets: Bool
    ) async throws -> ([Result<PGCommandResult, PGError>], Sink) {
        let (run, filled) = try await start(statements, rowsFrom: index, into: sink, syncs: syncs, resets: resets)
        if let failure = run.failure { throw failure }
        return (run.outcomes, filled)
    }

    /// `pipeline` that ends with a reset, for statements whose answers matter even when the link
    /// broke after them (a `COMMIT` answered is committed): each statement answered keeps its
    /// outcome, and only those the link broke before carry its failure.
    func pipelineOutcomes<Sink: PGRowSink>(
        _ statements: [PGStatement], rowsFrom index: Int, into sink: Sink, syncs: PGSyncs = .last
    ) async throws -> ([Result<PGCommandResult, PGError>], Sink) {
        let (run, filled) = try await start(statements, rowsFrom: index, into: sink, syncs: syncs, resets: true)
        return (run.outcomes, filled)
    }

    private func start<Sink: PGRowSink>(
        _ statements: [PGStatement], rowsFrom index: Int, into sink: Sink, syncs: PGSyncs, resets: Bool
    ) async throws -> (PipelineRun, Sink) {
        for statement in statements { try NULCheck.check(sql: statement.sql, parameters: statement.parameters) }
        let id = try beginOperation()
        let box = SinkBox(sink)
        let operations = statements.enumerated().map { position, statement in
            QueryOperation(
                id: id, sql: statement.sql, parameters: statement.parameters, isReset: statement.isReset,
                onColumns: position == index ? { box.sink.start(columns: $0) } : { _ in },
                onRow: position == index ? { box.sink.consume($0) } : { _ in .continue })
        }
        let run = await withTaskCancellationHandler {
            await runPipeline(operations, id: id, syncs: syncs, resets: resets)
        } onCancel: {
            requestCancel(of: id, external: true)
        }
        return (run, box.sink)
    }

    /// What a pipeline did.
    struct PipelineRun {
        /// Each statement's outcome, in order; one the link broke before answering carries `failure`.
        var outcomes: [Result<PGCommandResult, PGError>]
        /// Why the pipeline itself failed (link broken, cancelled before it was sent), if it did.
        var failure: PGError?
    }

    /// Enters pipeline mode, sends every statement and the syncs, reads each one's results and
    /// the syncs, and leaves pipeline mode.
    private func runPipeline(_ operations: [QueryOperation], id: UInt64, syncs: PGSyncs, resets: Bool) async -> PipelineRun {
        guard let pg else {
            let closed = PGError(kind: .misuse, message: "the connection is closed")
            return PipelineRun(outcomes: operations.map { _ in .failure(closed) }, failure: closed)
        }
        guard markRunning(id) else {
            await finishOperation(id: id, lastStatementReset: false)
            return PipelineRun(outcomes: operations.map { _ in .failure(.cancelledBeforeSent) }, failure: .cancelledBeforeSent)
        }
        var failure: PGError?
        // How many statements were answered in full.
        var answered = 0
        do throws(PGError) {
            guard PQenterPipelineMode(pg) == 1 else { throw connectionFailure(pg) }
            for (position, operation) in operations.enumerated() {
                let sent = withCStringArray(operation.parameters) { values in
                    PQsendQueryParams(pg, operation.sql, Int32(values.count), nil, values, nil, nil, 0)
                }
                guard sent == 1 else { throw connectionFailure(pg) }
                // libpq 15 flushes at every sync: one sync means one write to the socket.
                if syncs.follows(position, of: operations.count), PQpipelineSync(pg) != 1 { throw connectionFailure(pg) }
            }
            for (position, operation) in operations.enumerated() {
                // Before anything reads this statement's input: single-row mode must come first.
                PQsetSingleRowMode(pg)
                if position == 0 { try await flushOutput(pg) }
                var keepGoing = true
                while keepGoing, let result = try await nextResult(pg) {
                    keepGoing = handle(result, of: operation)
                    PQclear(result)
                }
                guard keepGoing else { throw operation.error ?? connectionFailure(pg) }
                answered = position + 1
                guard syncs.follows(position, of: operations.count) else { continue }
                guard let sync = try await nextResult(pg) else {
                    throw operation.error?.kind == .connection ? operation.error! : connectionFailure(pg)
                }
                let synced = PQresultStatus(sync) == PGRES_PIPELINE_SYNC
                PQclear(sync)
                guard synced else { throw PGError(kind: .connection, message: "the pipeline lost its place; the connection is given up") }
            }
            guard PQexitPipelineMode(pg) == 1 else { throw connectionFailure(pg) }
        } catch {
            // A FATAL error the server sent before closing (57P01, 25P03…) says more than the closed socket.
            failure = operations.lazy.compactMap(\.error).first { $0.kind == .connection } ?? error
        }
        if failure != nil { shared.withLock { $0.broken = true } }
        recordResetFailure(of: operations, id: id)
        // Stopped early, then abandoned because the cancel could not reach the postmaster: the rows
        // read are the answer; what came after the cut never ran.
        if let lost = failure, isAbandoned, let cut = operations.firstIndex(where: \.stoppedEarly) {
            answered = cut + 1
            failure = nil
            let outcomes = operations.enumerated().map { position, operation -> Result<PGCommandResult, PGError> in
                position < answered ? outcome(of: operation) : .failure(lost)
            }
            await finishOperation(id: id, lastStatementReset: false)
            return PipelineRun(outcomes: outcomes, failure: nil)
        }
        let outcomes = operations.enumerated().map { position, operation -> Result<PGCommandResult, PGError> in
            if let failure, position >= answered { .failure(failure) } else { outcome(of: operation) }
        }
        // With one sync, the last statement succeeds only if all did; with a sync each, a reset at the
        // end holds whatever failed before it.
        let reset = resets && failure == nil && operations.last?.error == nil
        await finishOperation(id: id, lastStatementReset: reset)
        return PipelineRun(outcomes: outcomes, failure: failure)
    }

    /// A statement of a reset that failed on its own — not skipped after an earlier failure, not hit
    /// by a cancel we sent (to stop reading early, or for the caller) — leaves the connection in a
    /// state we cannot vouch for: it is recorded, and the connection's pool closes it.
    private func recordResetFailure(of operations: [QueryOperation], id: UInt64) {
        guard !operations.contains(where: \.stoppedEarly) else { return }
        guard let failed = operations.first(where: { $0.isReset && !$0.skipped && $0.error?.kind == .statement })?.error else { return }
        shared.withLock { state in
            guard state.cancelRequested != id else { return }
            state.resetFailure = state.resetFailure ?? failed
        }
    }
}
