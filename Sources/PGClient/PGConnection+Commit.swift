import IOReactor

/// Committing and resetting in one sync: what a transaction-mode pooler (PgBouncer) needs, since
/// it keeps the statements of one sync, and only those, on one server connection.
///
/// The rule every function here keeps: the answer is the outcome of the statement and of its
/// `COMMIT`. The reset that follows in the same sync runs after the commit is durable and cannot
/// undo it; when the reset fails, the connection reports `resetFailure` (its pool closes it instead
/// of taking it back) and the answer is still the commit's. A client told "failed" about a write
/// that committed would write twice.
extension PGConnection {
    /// What `DISCARD ALL` does, spelled out statement by statement, so that it can share one sync
    /// (one round trip, one pipeline unit) with other statements: `DISCARD ALL` itself cannot run in a
    /// pipeline or a transaction block. `setseed` comes too: a session's seed outlives `DISCARD ALL`
    /// and `ROLLBACK`, and the next user of the connection could predict `random()` from it.
    ///
    /// In a transaction of its own, `READ COMMITTED`, with `RESET ALL` first: nothing the session set
    /// for itself may make the reset fail. Session defaults it chose (`SET SESSION CHARACTERISTICS AS
    /// TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE`) would otherwise make its
    /// first snapshot wait for a safe one; a short `statement_timeout` or `lock_timeout` of its own
    /// would then end that wait with an error. `RESET ALL` puts the timeouts back to the server's
    /// before anything that can wait. Every statement here is allowed in a read-only transaction
    /// (a standby, `default_transaction_read_only`).
    static func sessionReset() -> [PGStatement] {
        [PGStatement(reset: "BEGIN ISOLATION LEVEL READ COMMITTED"), PGStatement(reset: "RESET ALL"), PGStatement(reset: "SET SESSION AUTHORIZATION DEFAULT")]
            + heldPastTransactions()
            + ["CLOSE ALL", "UNLISTEN *", "DISCARD PLANS", "DISCARD TEMP", "DISCARD SEQUENCES", "COMMIT"].map { PGStatement(reset: $0) }
    }

    /// The part of `sessionReset` that no transaction's end undoes: session advisory locks, the
    /// seed of `random()`, prepared statements. Sent before a `COMMIT` too, so that they are gone
    /// even when the commit fails (and with it the statements after it in the sync).
    static func heldPastTransactions() -> [PGStatement] {
        [releaseLocksAndReseed(), deallocateAll]
    }

    static let deallocateAll = PGStatement(reset: "DEALLOCATE ALL")

    /// Releases session-level advisory locks and re-seeds `random()`, in one statement. Qualified
    /// with `pg_catalog`: a session's `search_path` must not be able to put functions of its own
    /// in their place (and keep its locks while the connection is marked reset). The seed is a
    /// literal, not a parameter: it is our own digits, and a parameter cost PostgreSQL 3 µs more
    /// per call (`BENCHMARKS.md`).
    static func releaseLocksAndReseed() -> PGStatement {
        PGStatement(reset: "SELECT pg_catalog.pg_advisory_unlock_all(), pg_catalog.setseed('\(freshSeed)'::pg_catalog.float8)")
    }

    /// A seed for `setseed` (from -1 to 1) from the system's random source, written as an integer
    /// and an exponent (`-123456789e-9`), which `float8` reads: formatting a `Double` costs more than
    /// the rest of the reset's preparation, and this runs on every call (so does the draw: from
    /// `SystemRandom`'s batch, not a system call of its own).
    static var freshSeed: String {
        var random = SystemRandom()
        return "\(Int.random(in: -999_999_999...999_999_999, using: &random))e-9"
    }

    /// Makes the connection as fresh as a new one in one round trip with a single sync: rolls back
    /// any transaction (harmless when there is none) and undoes all session state (`sessionReset`).
    /// A connection whose last pipeline ended this way reports `isReset`, so a pool can skip
    /// resetting it again.
    public func reset() async throws {
        _ = try await rollBackAndReset()
    }

    /// `ROLLBACK` and `sessionReset` in one sync; the `ROLLBACK`'s outcome.
    private func rollBackAndReset() async throws -> PGCommandResult {
        let (outcomes, _) = try await pipeline(
            [PGStatement(reset: "ROLLBACK")] + Self.sessionReset(), rowsFrom: 0, into: DiscardingSink(), syncs: .last, resets: true)
        for outcome in outcomes { _ = try outcome.get() }
        return try outcomes[0].get()
    }

    /// Ends the transaction open on the connection and leaves the connection reset, in one round
    /// trip with a single sync, so that under a transaction-mode pooler nothing the transaction set
    /// for the session (`SET`, advisory locks, `SET ROLE`…) stays behind on the server connection
    /// once the pooler hands it to someone else. `commit: false`, or a transaction already failed,
    /// rolls back. The settings are reset after the `COMMIT`, not before: deferred triggers and
    /// constraints run at the commit with the transaction's own settings (`SET LOCAL …`).
    ///
    /// - Returns: the outcome of the `COMMIT` or `ROLLBACK`: its tag says `ROLLBACK` when PostgreSQL
    ///   refused to commit a failed transaction. A reset that failed after a `COMMIT` that succeeded
    ///   does not change it (see `resetFailure`), nor does a link lost after the `COMMIT`'s answer.
    /// - Throws: `PGError`: `.statement` when `COMMIT` itself failed (a deferred constraint, a
    ///   serialization failure; the transaction is rolled back then) or what preceded it in the
    ///   sync did (then `COMMIT` never ran), or the pipeline's before the `COMMIT` was answered.
    public func endTransaction(commit: Bool) async throws -> PGCommandResult {
        guard commit, transactionStatus != .inFailedTransaction else {
            var rolledBack = try await rollBackAndReset()
            if commit { rolledBack.commandTag = "ROLLBACK" }
            return rolledBack
        }
        let before = Self.heldPastTransactions()
        let outcomes = try await pipelineOutcomes(before + [PGStatement("COMMIT")] + Self.sessionReset(), rowsFrom: 0, into: DiscardingSink()).0
        // In order: what failed first says why the COMMIT did not run.
        for outcome in outcomes.prefix(before.count) { _ = try outcome.get() }
        return try outcomes[before.count].get()
    }

    /// Runs `statement` in a transaction of its own that is committed, under `statementTimeoutMs`
    /// (`SET LOCAL`), and leaves the connection reset: one round trip with a single sync, so that a
    /// transaction-mode pooler keeps every part of it on one server connection and nothing the
    /// statement set for the session (`SET search_path`, `SET ROLE`, advisory locks, `LISTEN`,
    /// temporary tables) outlives the call there (see `endTransaction` for the order).
    ///
    /// Statements PostgreSQL refuses inside a transaction block (`VACUUM`, `CREATE INDEX
    /// CONCURRENTLY`, `CREATE DATABASE`…) and `CALL`/`DO`, which may commit themselves, run as the
    /// first statement of their sync instead, followed by `COMMIT` and the reset (see
    /// `executeOutsideTransaction`); one not known by its keywords that fails with SQLSTATE 25001
    /// (refused in a transaction block, before doing anything) is run that way after its
    /// transaction is rolled back. There the timeout is a session setting in a sync of its own,
    /// sent only when `sessionTimeout` (not behind a transaction-mode pooler, where it would land on
    /// a server connection others get next): otherwise the caller's own deadline, which cancels the
    /// statement, bounds it.
    ///
    /// - Returns: the statement's outcome once its `COMMIT` succeeded, whatever the reset after it did.
    /// - Throws: `PGError`: the statement's own error or its `COMMIT`'s (`.statement`; nothing was
    ///   committed), or the pipeline's before the `COMMIT` was answered.
    public func executeCommitted<Sink: PGRowSink>(
        _ statement: PGStatement, statementTimeoutMs: Int, sessionTimeout: Bool = true, into sink: Sink
    ) async throws -> (PGCommandResult, Sink) {
        let timeout = sessionTimeout ? statementTimeoutMs : nil
        if PGReadStatement.runsOutsideTransactionBlocks(statement.sql) {
            return try await executeOutsideTransaction(statement, statementTimeoutMs: timeout, rollingBack: false, into: sink)
        }
        let before = [PGStatement("BEGIN"), PGScope.timeout(statementTimeoutMs)]
        let ending = Self.heldPastTransactions() + [PGStatement("COMMIT")]
        let (outcomes, filled) = try await pipelineOutcomes(before + [statement] + ending + Self.sessionReset(), rowsFrom: before.count, into: sink)
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
            for outcome in outcomes[(before.count + 1)...].prefix(ending.count) { _ = try committed(outcome) }
            return (command, filled)
        }
    }

    /// The outcome of what ends a statement that ran: PostgreSQL's error as it is (nothing was
    /// committed), but a link lost or a call cancelled before the answer came is said to leave the
    /// commit unknown, so that nobody retries a write that may have landed.
    private func committed(_ outcome: Result<PGCommandResult, PGError>) throws(PGError) -> PGCommandResult {
        switch outcome {
        case .success(let result): return result
        case .failure(var error) where error.kind != .statement:
            error.message += "; the statement ran, but the answer to its COMMIT never came, so whether it committed is unknown: check the data before retrying"
            throw error
        case .failure(let error): throw error
        }
    }

    /// `statement` as the first of its sync, then `COMMIT` and the reset in the same sync, in one
    /// round trip; before it, when `rollingBack`, the failed transaction of a first try rolled back
    /// (in its sync: the server connection is still ours while the transaction is open) with what
    /// outlives a rollback undone (`heldPastTransactions`: all else the first try did was
    /// transactional), and the session's statement timeout when there is one.
    ///
    /// The `COMMIT` right after the statement matters for `DO` and `CALL`: they run in the sync's
    /// implicit transaction, which without it would also hold the reset, and a reset that failed
    /// would roll back their work after it ran. (After `VACUUM` and its kind, which commit at once,
    /// it is a no-op with a warning.)
    private func executeOutsideTransaction<Sink: PGRowSink>(
        _ statement: PGStatement, statementTimeoutMs: Int?, rollingBack: Bool, into sink: Sink
    ) async throws -> (PGCommandResult, Sink) {
        // Not the whole reset: a failure there would leave its transaction block aborted, and the
        // statement would fail on it. These run in an implicit transaction that ends at the sync.
        let rollback = rollingBack ? [PGStatement(reset: "ROLLBACK")] + Self.heldPastTransactions() : []
        let timeout = statementTimeoutMs.map { [PGStatement("SET statement_timeout = \($0)")] } ?? []
        let head = rollback.count + timeout.count
        // A sync after each of the two units before the statement (when present).
        let ends = Set([rollback.count - 1, head - 1].filter { $0 >= 0 })
        let statements = rollback + timeout + [statement, PGStatement("COMMIT")] + Self.sessionReset()
        let (outcomes, filled) = try await pipelineOutcomes(statements, rowsFrom: head, into: sink, syncs: .after(ends))
        // What ran before the statement does not decide the answer: the statement and its COMMIT do.
        let command = try outcomes[head].get()
        _ = try committed(outcomes[head + 1])
        return (command, filled)
    }
}
