import CLibPQ

/// One statement of a pipeline.
public struct PGStatement: Sendable {
    public var sql: String
    public var parameters: [String?]

    public init(_ sql: String, parameters: [String?] = []) {
        self.sql = sql
        self.parameters = parameters
    }
}

/// Where a scoped statement runs, and what surrounds it in its pipeline.
public enum PGScope: Sendable, Equatable {
    /// A transaction of its own, rolled back. A read-only one also leaves the connection reset (see
    /// `readOnlyTransaction`); a read-write one (EXPLAIN ANALYZE of a write) leaves the pool to reset it.
    case transaction(readOnly: Bool)
    /// Inside the transaction already open on the connection (one pinned across calls): a savepoint
    /// rolled back to afterwards, so the statement leaves nothing behind but sees what the
    /// transaction wrote. `readOnly` makes PostgreSQL refuse writes for its duration.
    case savepoint(readOnly: Bool)
    /// Inside the open transaction, in a savepoint released afterwards: what the statement did stays
    /// in the transaction, but a statement stopped early (its rows cut) is rolled back to the
    /// savepoint alone, leaving the transaction usable.
    case keptSavepoint

    static let savepointName = "pgmcp_scoped"

    /// Whether the scope leaves the connection as fresh as `reset()` does.
    var resets: Bool { if case .transaction = self { true } else { false } }

    /// The statements before and after the scoped ones. A `.transaction` scope's rollback is
    /// preceded by undoing what a rollback leaves: session advisory locks, prepared statements, the
    /// seed of `random()` and sequences' `currval` (see `readOnlyTransaction`). All of it shares the
    /// statement's sync, so a transaction-mode pooler cannot hand the server connection to someone
    /// else before it is clean.
    func statements(statementTimeoutMs: Int?) -> (before: [PGStatement], after: [PGStatement]) {
        let timeout = statementTimeoutMs.map { [PGStatement("SET LOCAL statement_timeout = \($0)")] } ?? []
        switch self {
        case .transaction(let readOnly):
            let begin = [PGStatement(readOnly ? "BEGIN READ ONLY" : "BEGIN")] + timeout
            // A read-only transaction cannot call nextval(); a read-write one can.
            let sequences = readOnly ? [] : [PGStatement("DISCARD SEQUENCES")]
            return (begin, PGConnection.heldPastTransactions() + sequences + [PGStatement("ROLLBACK")])
        case .savepoint(let readOnly):
            // SET LOCAL inside a savepoint is undone by rolling back to it: the transaction's own
            // settings (its statement timeout, read-write mode) come back afterwards.
            let begin = [PGStatement("SAVEPOINT \(Self.savepointName)")]
                + (readOnly ? [PGStatement("SET LOCAL transaction_read_only = on")] : []) + timeout
            return (begin, Self.undoSavepoint)
        case .keptSavepoint:
            return ([PGStatement("SAVEPOINT \(Self.savepointName)")], [PGStatement("RELEASE SAVEPOINT \(Self.savepointName)")])
        }
    }

    /// Gives the enclosing transaction back as it was before the savepoint, and drops the savepoint.
    static let undoSavepoint = [PGStatement("ROLLBACK TO SAVEPOINT \(savepointName)"), PGStatement("RELEASE SAVEPOINT \(savepointName)")]
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
        let (before, after) = scope.statements(statementTimeoutMs: statementTimeoutMs)
        let (outcomes, sink) = try await pipeline(
            before + [statement] + after, rowsFrom: before.count, into: sink, syncs: .last, resets: scope.resets)
        for outcome in outcomes.prefix(before.count) { _ = try outcome.get() }
        let command = try outcomes[before.count].get()
        if !scope.resets, transactionStatus == .inFailedTransaction {
            // The statement was stopped early (the sink had enough): its cancel failed the savepoint,
            // not the statement. Rolling back to the savepoint gives the transaction back intact.
            let (restored, _) = try await pipeline(PGScope.undoSavepoint, rowsFrom: 0, into: DiscardingSink(), syncs: .last, resets: false)
            for outcome in restored { _ = try outcome.get() }
        }
        return (command, sink)
    }

    /// Runs `statement` in a transaction of its own that is committed, under `statementTimeoutMs`
    /// (`SET LOCAL`), and leaves the connection reset: one round trip with a single sync, so that a
    /// transaction-mode pooler keeps every part of it on one server connection and nothing the
    /// statement set for the session (`SET search_path`, `SET ROLE`, advisory locks, `LISTEN`,
    /// temporary tables) outlives the call there (see `endTransaction` for the order).
    ///
    /// Statements PostgreSQL refuses inside a transaction block (`VACUUM`, `CREATE INDEX
    /// CONCURRENTLY`, `CREATE DATABASE`…) and `CALL`/`DO`, which may commit themselves, run as the
    /// first statement of their sync instead, followed by the reset (PostgreSQL commits such a
    /// statement at once); one not known by its keywords that fails with SQLSTATE 25001 (refused in
    /// a transaction block, before doing anything) is run that way after its transaction is rolled
    /// back. There the timeout is a session setting in a sync of its own, sent only when
    /// `sessionTimeout` (not behind a transaction-mode pooler, where it would land on a server
    /// connection others get next): otherwise the caller's own deadline, which cancels the
    /// statement, bounds it.
    ///
    /// - Throws: `PGError`: the statement's own error (`.statement`), or the pipeline's.
    public func executeCommitted<Sink: PGRowSink>(
        _ statement: PGStatement, statementTimeoutMs: Int, sessionTimeout: Bool = true, into sink: Sink
    ) async throws -> (PGCommandResult, Sink) {
        let timeout = sessionTimeout ? statementTimeoutMs : nil
        if PGReadStatement.runsOutsideTransactionBlocks(statement.sql) {
            return try await executeOutsideTransaction(statement, statementTimeoutMs: timeout, rollingBack: false, into: sink)
        }
        let before = [PGStatement("BEGIN"), PGStatement("SET LOCAL statement_timeout = \(statementTimeoutMs)")]
        let statements = before + [statement] + Self.heldPastTransactions() + [PGStatement("COMMIT")] + Self.sessionReset()
        let (outcomes, filled) = try await pipeline(statements, rowsFrom: before.count, into: sink, syncs: .last, resets: true)
        for outcome in outcomes.prefix(before.count) { _ = try outcome.get() }
        switch outcomes[before.count] {
        case .failure(let error) where error.sqlState == PGError.activeTransactionState:
            return try await executeOutsideTransaction(statement, statementTimeoutMs: timeout, rollingBack: true, into: sink)
        case .failure(let error):
            throw error
        case .success(let command) where command.stoppedEarly:
            // A read cut at its limit: the cancel that cut it failed the sync's rest, the COMMIT and
            // the reset; what the statement read is the answer, and the pool resets the connection.
            return (command, filled)
        case .success(let command):
            for outcome in outcomes { _ = try outcome.get() }
            return (command, filled)
        }
    }

    /// `statement` as the first of its sync, the reset after it in the same sync, in one round
    /// trip; before it, when `rollingBack`, the failed transaction of a first try rolled back and
    /// reset (in its sync: the server connection is still ours while the transaction is open), and
    /// the session's statement timeout when there is one.
    private func executeOutsideTransaction<Sink: PGRowSink>(
        _ statement: PGStatement, statementTimeoutMs: Int?, rollingBack: Bool, into sink: Sink
    ) async throws -> (PGCommandResult, Sink) {
        let rollback = rollingBack ? [PGStatement("ROLLBACK")] + Self.sessionReset() : []
        let timeout = statementTimeoutMs.map { [PGStatement("SET statement_timeout = \($0)")] } ?? []
        let head = rollback.count + timeout.count
        // A sync after each of the two units before the statement (when present).
        let ends = Set([rollback.count - 1, head - 1].filter { $0 >= 0 })
        let statements = rollback + timeout + [statement] + Self.sessionReset()
        let (outcomes, filled) = try await pipeline(statements, rowsFrom: head, into: sink, syncs: .after(ends), resets: true)
        for outcome in outcomes { _ = try outcome.get() }
        return (try outcomes[head].get(), filled)
    }

    /// Rolls back to the savepoint of a `.savepoint` scope that failed and releases it: the
    /// enclosing transaction is as it was before the scope, not aborted. For work of pgmcp's own
    /// (a catalog lookup) whose failure must not cost the caller's transaction.
    public func undoScopedSavepoint() async throws {
        let (outcomes, _) = try await pipeline(PGScope.undoSavepoint, rowsFrom: 0, into: DiscardingSink(), syncs: .last, resets: false)
        for outcome in outcomes { _ = try outcome.get() }
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
                id: id, sql: statement.sql, parameters: statement.parameters,
                onColumns: { box?.sink.start(columns: $0) }, onRow: { box?.sink.consume($0) ?? .continue })
        }
        let outcomes = try await withTaskCancellationHandler {
            await runPipeline(operations, id: id, syncs: .last, resets: scope.resets)
        } onCancel: {
            requestCancel(of: id, external: true)
        }.get()
        for outcome in outcomes.prefix(before.count + statements.count) { _ = try outcome.get() }
        return zip(outcomes[before.count...], boxes).map { outcome, box in
            let command = try! outcome.get()
            return PGQueryResult(command: command, columns: command.columns, rows: box.sink.rows, truncated: box.sink.truncated)
        }
    }

    /// - Parameters:
    ///   - syncs: where the syncs go (a failure skips the rest of its unit, which read `.skipped`).
    ///   - resets: when the last statement succeeds, the connection is left reset.
    func pipeline<Sink: PGRowSink>(
        _ statements: [PGStatement], rowsFrom index: Int, into sink: Sink, syncs: PGSyncs, resets: Bool
    ) async throws -> ([Result<PGCommandResult, PGError>], Sink) {
        for statement in statements { try NULCheck.check(sql: statement.sql, parameters: statement.parameters) }
        let id = try beginOperation()
        let box = SinkBox(sink)
        let operations = statements.enumerated().map { position, statement in
            QueryOperation(
                id: id, sql: statement.sql, parameters: statement.parameters,
                onColumns: position == index ? { box.sink.start(columns: $0) } : { _ in },
                onRow: position == index ? { box.sink.consume($0) } : { _ in .continue })
        }
        let outcomes = await withTaskCancellationHandler {
            await runPipeline(operations, id: id, syncs: syncs, resets: resets)
        } onCancel: {
            requestCancel(of: id, external: true)
        }
        return (try outcomes.get(), box.sink)
    }

    /// Enters pipeline mode, sends every statement and the syncs, reads each one's results and
    /// the syncs, and leaves pipeline mode.
    private func runPipeline(
        _ operations: [QueryOperation], id: UInt64, syncs: PGSyncs, resets: Bool
    ) async -> Result<[Result<PGCommandResult, PGError>], PGError> {
        guard let pg else { return .failure(PGError(kind: .misuse, message: "the connection is closed")) }
        guard markRunning(id) else {
            await finishOperation(id: id, lastStatementReset: false)
            return .failure(.cancelledBeforeSent)
        }
        var failure: PGError?
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
        // Stopped early, then abandoned because the cancel could not reach the postmaster: the rows
        // read are the answer; what came after the cut never ran.
        if let failure, isAbandoned, let cut = operations.firstIndex(where: \.stoppedEarly) {
            let outcomes = operations.enumerated().map { position, operation in
                position <= cut ? outcome(of: operation) : .failure(failure)
            }
            await finishOperation(id: id, lastStatementReset: false)
            return .success(outcomes)
        }
        let outcomes = operations.map { outcome(of: $0) }
        // With one sync, the last statement succeeds only if all did; with a sync each, a reset at the
        // end holds whatever failed before it.
        let reset = resets && failure == nil && operations.last?.error == nil
        await finishOperation(id: id, lastStatementReset: reset)
        return failure.map { .failure($0) } ?? .success(outcomes)
    }
}
