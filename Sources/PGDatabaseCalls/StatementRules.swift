import PGClient
import PGParser

/// What a call may send, decided on PostgreSQL's own parse of the statement (`PGParser`), before
/// anything is sent.
///
/// A read-only call (`query`, `explain`, any call in a read-only transaction) runs exactly one
/// statement that only reads and calls no function whose effects escape the transaction
/// (`EscapingFunctions`). `BEGIN READ ONLY` alone would still let `LOCK`, `DO`, `ANALYZE` or
/// `CLUSTER` take locks no reader needs, and let `pg_terminate_backend` end other sessions' work.
enum StatementRules {
    /// The facts of a statement a read-only call is about to run, or the refusal: PostgreSQL's own
    /// syntax error (42601, with its position) for a text that does not parse, a sentence saying what
    /// to do for anything else.
    static func checkRead(_ sql: String) async throws(DatabaseCallError) -> ParsedStatement {
        let statement = try await parsed(sql)
        if statement.count == 0 { throw noStatement }
        // The first statement's kind decides the refusal even when more follow: `COMMIT; DROP …` is
        // refused as the COMMIT it starts with.
        if !statement.firstOnlyReads, let write = statement.writeCommand {
            // Worded as PostgreSQL refuses a write in a read-only transaction, which it would have been.
            var error = DatabaseCallError(
                """
                ERROR 25006: cannot execute \(write) in a read-only transaction
                This call runs in a READ ONLY transaction ('query', 'explain', or any call on a read-only database or in a read-only \
                transaction); the statement was not sent. To write, use 'execute' on a writable database.
                """)
            error.sqlState = "25006"
            error.serverMessage = "cannot execute \(write) in a read-only transaction"
            throw error
        }
        guard statement.firstOnlyReads else {
            throw DatabaseCallError(
                "a read-only call runs only statements that read (SELECT, WITH, VALUES, TABLE, SHOW, EXPLAIN); this is \(describe(statement, sql)), which was not sent. Statements such as LOCK, DO, CALL, ANALYZE, CLUSTER or REINDEX take locks a reader does not need; run them with 'execute' on a writable database"
            )
        }
        try requireOne(statement, sql)
        try refuseEscapingFunctions(statement)
        return statement
    }

    /// The facts of a statement `execute` is about to run, or nil when the parser cannot tell (a
    /// syntax only a newer PostgreSQL knows, or a text too large to parse): then it is treated as a
    /// write, and PostgreSQL has the last word on it.
    static func facts(forWrite sql: String) async throws(DatabaseCallError) -> ParsedStatement? {
        guard case .success(let statement) = await PGParser.parse(sql) else { return nil }
        try requireOne(statement, sql)
        return statement
    }

    /// Whether a statement that only reads may still write through a function it calls by name: any
    /// function of that name is VOLATILE (only those may write; PostgreSQL refuses a write in a STABLE
    /// or IMMUTABLE one). Asked of the database, read-only, in the call's own transaction when there is
    /// one (a savepoint, so a failure costs it nothing); a failure counts as "may write".
    static func mayWrite(_ statement: ParsedStatement, on connection: PGConnection, inTransaction: Bool) async -> Bool {
        let names = Array(Set(statement.functions.compactMap(\.last) + statement.attributeNames))
        guard !names.isEmpty else { return false }
        let placeholders = (1...names.count).map { "$\($0)" }.joined(separator: ", ")
        let lookup = PGStatement(
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_proc WHERE proname IN (\(placeholders)) AND provolatile = 'v')", parameters: names)
        do {
            let scope = inTransaction ? PGScope.savepoint(readOnly: true) : .transaction(readOnly: true)
            let (_, rows) = try await connection.scoped(lookup, in: scope, statementTimeoutMs: nil, into: PGRowCollector())
            return rows.rows.first?.first?.boolValue ?? true
        } catch {
            if inTransaction { try? await connection.undoScopedSavepoint() }
            return true
        }
    }

    /// Refuses functions whose effects escape the transaction, wherever the statement calls them.
    static func refuseEscapingFunctions(_ statement: ParsedStatement) throws(DatabaseCallError) {
        for name in statement.functions {
            guard let last = name.last, let reason = EscapingFunctions.reason(for: last) else { continue }
            throw DatabaseCallError(
                "a read-only call does not run \(name.joined(separator: "."))(): \(reason), an effect the read-only transaction cannot undo. The statement was not sent. If it is really meant, an operator runs it with 'execute' on a writable database"
            )
        }
        for name in statement.attributeNames {
            guard let reason = EscapingFunctions.reason(for: name) else { continue }
            throw DatabaseCallError(
                "a read-only call does not run '\(name)' written as a field (x.\(name) calls \(name)(x) when there is no such column): \(reason). The statement was not sent; name the column differently (an alias) if it is one"
            )
        }
    }

    private static func parsed(_ sql: String) async throws(DatabaseCallError) -> ParsedStatement {
        switch await PGParser.parse(sql) {
        case .success(let statement):
            return statement
        case .failure(.syntax(let message, let position)):
            throw DatabaseCallError.from(PGError(kind: .statement, message: message, sqlState: "42601", position: position, severity: "ERROR"))
        case .failure(.tooLarge(let what, let count, let limit)):
            throw DatabaseCallError(
                "the statement has \(count) \(what); a read-only call checks statements of up to \(limit) before sending them, so it was not sent. Split it into smaller statements"
            )
        case .failure(.unavailable(let reason)):
            throw DatabaseCallError("the statement could not be checked before sending: \(reason). It was not sent; try again")
        }
    }

    private static func requireOne(_ statement: ParsedStatement, _ sql: String) throws(DatabaseCallError) {
        if statement.count == 0 { throw noStatement }
        if statement.count > 1 {
            // Worded as the refusal PostgreSQL's extended protocol gives, which it would have been.
            var error = DatabaseCallError(
                "'sql' holds more than one statement; each call runs exactly one. Send each statement in a call of its own (none of these \(statement.count) was sent). (ERROR 42601: cannot insert multiple commands into a prepared statement)"
            )
            error.sqlState = "42601"
            error.serverMessage = "cannot insert multiple commands into a prepared statement"
            throw error
        }
    }

    private static let noStatement = DatabaseCallError("'sql' holds no statement (only white space or comments): send one SQL statement")

    /// "a LOCK statement", "an EXPLAIN ANALYZE of a statement that is not a SELECT"…
    private static func describe(_ statement: ParsedStatement, _ sql: String) -> String {
        let word = PGReadStatement.leadingKeyword(of: sql) ?? statement.kind ?? "statement"
        return statement.kind == "ExplainStmt" ? "an EXPLAIN ANALYZE of a statement that is not a SELECT" : "a \(word) statement"
    }
}
