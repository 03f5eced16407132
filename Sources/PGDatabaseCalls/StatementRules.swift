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
    /// Refuses `sql` unless a read-only call may run it: PostgreSQL's own syntax error (42601, with
    /// its position) for a text that does not parse, a sentence saying what to do for anything else.
    static func checkRead(_ sql: String) async throws(DatabaseCallError) {
        try requireRead(await PGParser.parse(sql), of: sql)
    }

    /// `checkRead` of a parse already made. `prefix` is the length in characters of what the call put
    /// in front of the caller's text (`EXPLAIN (…) `): a syntax error's position is the caller's.
    static func requireRead(_ parse: Result<ParsedStatement, ParseFailure>, of sql: String, prefix: Int = 0) throws(DatabaseCallError) {
        let statement = try statement(parse, prefix: prefix)
        if statement.count == 0 { throw noStatement }
        // The first statement's kind decides the refusal even when more follow: `COMMIT; DROP …` is
        // refused as the COMMIT it starts with.
        guard statement.firstOnlyReads else {
            guard let write = statement.writeCommand else {
                throw DatabaseCallError(
                    "a read-only call runs only statements that read (SELECT, WITH, VALUES, TABLE, SHOW, EXPLAIN); this is \(describe(statement, sql)), which was not sent. Statements such as LOCK, DO, CALL, ANALYZE, CLUSTER or REINDEX take locks a reader does not need; run them with 'execute' on a writable database"
                )
            }
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
        try requireOne(statement)
        try refuseEscapingFunctions(statement)
    }

    /// The parse of a statement `execute` (or `explain`) is about to run, refused when it holds no
    /// statement or several. A failed parse (a syntax only a newer PostgreSQL knows, a text too large
    /// to parse) is returned as it is: a write is then sent for PostgreSQL to judge.
    static func parseForWrite(_ sql: String) async throws(DatabaseCallError) -> Result<ParsedStatement, ParseFailure> {
        let parse = await PGParser.parse(sql)
        if case .success(let statement) = parse {
            if statement.count == 0 { throw noStatement }
            try requireOne(statement)
        }
        return parse
    }

    /// Whether a statement that only reads may still write through a function it calls by name: any
    /// function of that name is VOLATILE (only those may write; PostgreSQL refuses a write in a STABLE
    /// or IMMUTABLE one). Asked of the database as pgmcp's other catalog reads are (`catalogRows`); a
    /// failure counts as "may write".
    static func mayWrite(_ statement: ParsedStatement, on connection: PGConnection, inTransaction: Bool) async -> Bool {
        let names = Set(statement.functions.compactMap(\.last) + statement.attributeNames)
        guard !names.isEmpty else { return false }
        let list = PGArrayLiteral.text(names)
        let lookup = PGStatement(
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_proc WHERE proname OPERATOR(pg_catalog.=) ANY($1::pg_catalog.name[]) AND provolatile OPERATOR(pg_catalog.=) 'v')",
            parameters: [list])
        return await connection.catalogRows(lookup, inTransaction: inTransaction)?.first?.first?.boolValue ?? true
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

    static func statement(_ parse: Result<ParsedStatement, ParseFailure>, prefix: Int) throws(DatabaseCallError) -> ParsedStatement {
        switch parse {
        case .success(let statement):
            return statement
        case .failure(.syntax(let message, let position)):
            let position = position.map { $0 > prefix ? $0 - prefix : $0 }
            throw DatabaseCallError.from(PGError(kind: .statement, message: message, sqlState: "42601", position: position, severity: "ERROR"))
        case .failure(.tooLarge(let what, let count, let limit)):
            throw DatabaseCallError(
                "the statement has \(count) \(what); a read-only call checks statements of up to \(limit) before sending them, so it was not sent. Split it into smaller statements"
            )
        case .failure(.unavailable(let reason)):
            throw DatabaseCallError("the statement could not be checked before sending: \(reason). It was not sent; try again")
        }
    }

    static func requireOne(_ statement: ParsedStatement) throws(DatabaseCallError) {
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

    static let noStatement = DatabaseCallError("'sql' holds no statement (only white space or comments): send one SQL statement")

    /// "a LOCK statement", "an EXPLAIN ANALYZE of a statement that is not a SELECT"…
    private static func describe(_ statement: ParsedStatement, _ sql: String) -> String {
        if statement.kind == "ExplainStmt" { return "an EXPLAIN ANALYZE of a statement that is not a SELECT" }
        return "a \(PGReadStatement.leadingKeyword(of: sql) ?? "non-reading") statement"
    }
}
