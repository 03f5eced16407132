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
        let all = statements(around: [], statementTimeoutMs: statementTimeoutMs)
        return (Array(all.statements[..<all.first]), Array(all.statements[all.first...]))
    }

    /// `scoped` ones with what surrounds them, in one array (built once per call: this runs on
    /// every `query`), and the position of the first of them.
    func statements(around scoped: [PGStatement], statementTimeoutMs: Int?) -> (statements: [PGStatement], first: Int) {
        var all: [PGStatement] = []
        all.reserveCapacity(scoped.count + 7)
        switch self {
        case .transaction(let readOnly):
            all.append(readOnly ? Self.beginReadOnly : Self.begin)
            if let statementTimeoutMs { all.append(Self.timeout(statementTimeoutMs)) }
            let first = all.count
            all += scoped
            all += PGConnection.heldPastTransactions()
            // A read-only transaction cannot call nextval(); a read-write one can.
            if !readOnly { all.append(Self.discardSequences) }
            all.append(Self.rollback)
            return (all, first)
        case .savepoint(let readOnly):
            // SET LOCAL inside a savepoint is undone by rolling back to it: the transaction's own
            // settings (its statement timeout, read-write mode) come back afterwards.
            all.append(Self.savepoint)
            if readOnly { all.append(Self.readOnlyLocally) }
            if let statementTimeoutMs { all.append(Self.timeout(statementTimeoutMs)) }
            let first = all.count
            all += scoped
            all += Self.undoSavepoint
            return (all, first)
        case .keptSavepoint:
            all.append(Self.savepoint)
            all += scoped
            all.append(Self.releaseSavepoint)
            return (all, 1)
        }
    }

    /// The statement timeout of the transaction (or savepoint) it runs in.
    static func timeout(_ milliseconds: Int) -> PGStatement { PGStatement("SET LOCAL statement_timeout = \(milliseconds)") }
    private static let begin = PGStatement("BEGIN")
    private static let beginReadOnly = PGStatement("BEGIN READ ONLY")
    private static let rollback = PGStatement(reset: "ROLLBACK")
    private static let discardSequences = PGStatement(reset: "DISCARD SEQUENCES")
    private static let savepoint = PGStatement("SAVEPOINT \(savepointName)")
    private static let readOnlyLocally = PGStatement("SET LOCAL transaction_read_only = on")
    private static let releaseSavepoint = PGStatement("RELEASE SAVEPOINT \(savepointName)")

    /// Gives the enclosing transaction back as it was before the savepoint, and drops the savepoint.
    static let undoSavepoint = [PGStatement("ROLLBACK TO SAVEPOINT \(savepointName)"), PGStatement("RELEASE SAVEPOINT \(savepointName)")]
}
