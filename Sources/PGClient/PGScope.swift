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
            let sequences = readOnly ? [] : [PGStatement(reset: "DISCARD SEQUENCES")]
            return (begin, PGConnection.heldPastTransactions() + sequences + [PGStatement(reset: "ROLLBACK")])
        case .savepoint(let readOnly):
            // SET LOCAL inside a savepoint is undone by rolling back to it: the transaction's own
            // settings (its statement timeout, read-write mode) come back afterwards.
            let begin =
                [PGStatement("SAVEPOINT \(Self.savepointName)")]
                + (readOnly ? [PGStatement("SET LOCAL transaction_read_only = on")] : []) + timeout
            return (begin, Self.undoSavepoint)
        case .keptSavepoint:
            return ([PGStatement("SAVEPOINT \(Self.savepointName)")], [PGStatement("RELEASE SAVEPOINT \(Self.savepointName)")])
        }
    }

    /// Gives the enclosing transaction back as it was before the savepoint, and drops the savepoint.
    static let undoSavepoint = [PGStatement("ROLLBACK TO SAVEPOINT \(savepointName)"), PGStatement("RELEASE SAVEPOINT \(savepointName)")]
}
