import PGClient
import PGMCPJSON
import PGParser
import PGRegistry

/// What `query` returned.
public struct QueryAnswer: Sendable {
    public var table: ResultTable
    public var elapsed: Duration
    public var database: String
    /// The cursor to the next page of a cut result (`CursorCalls`), nil when it was not cut or
    /// could not be paged.
    public var nextCursor: String? = nil
}

/// What `explain` returned: PostgreSQL's plan, and the summary of it (`ExplainSummary`).
public struct ExplainAnswer: Sendable {
    public var plan: JSONValue
    public var summary: JSONObject
}

/// What `execute` did.
public struct ExecuteAnswer: Sendable {
    public var command: String
    public var rowsAffected: Int?
    /// The rows of a RETURNING clause (or of a statement that returns rows), nil when it has none.
    public var table: ResultTable?
    public var elapsed: Duration
    public var database: String
}

extension DatabaseCalls {
    /// One statement that reads, in a READ ONLY transaction rolled back afterwards, under the
    /// database's statement timeout, its rows cut at `maxRows` (capped by the database's own
    /// maximum) or `PGMCP_MAX_RESULT_BYTES`.
    ///
    /// With `fit` (the caller pages), a cut result is read again through a cursor and its first
    /// page returned with `nextCursor` (`firstPage`); not inside the session's own transaction.
    public func query(
        session: WorkSession, database: String?, sql: String, parameters: [String?], maxRows: Int?, fit: PageFit? = nil
    ) async throws(DatabaseCallError) -> QueryAnswer {
        // Reads only, by PostgreSQL's own parser (`StatementRules`), before anything is sent.
        try await StatementRules.checkRead(sql)
        let maxBytes = settings.maxResultBytes
        let types = typeNames
        let (cut, pageSize, inTransaction) = try await withDatabase(session, database) { connection, target, transaction in
            let limit = min(maxRows ?? target.config.maxRows, target.config.maxRows)
            let clock = ContinuousClock()
            let started = clock.now
            // One round trip: the statement in a read-only transaction under the database's
            // statement timeout, rolled back, and the connection left clean for its pool. Inside the
            // session's open transaction: a read-only savepoint, rolled back to, which sees what the
            // transaction wrote.
            let scope = transaction == nil ? PGScope.transaction(readOnly: true) : .savepoint(readOnly: true)
            let (_, rows) = try await connection.scoped(
                PGStatement(sql, parameters: parameters), in: scope, statementTimeoutMs: target.config.statementTimeoutMs,
                into: ResultRows(maxRows: limit, maxBytes: maxBytes))
            let elapsed = clock.now - started
            let table = await types.table(rows, pool: target.pool, connection: connection, inTransaction: transaction != nil)
            return (QueryAnswer(table: table, elapsed: elapsed, database: target.name), limit, transaction != nil)
        }
        var answer = cut
        if let fit, cut.table.truncated, !inTransaction,
            let page = await firstPage(session: session, database: cut.database, sql: sql, parameters: parameters, pageSize: pageSize, fit: fit)
        {
            answer = page
        }
        session.recordRowsReturned(answer.table.rows.count)
        return answer
    }

    /// One statement that may write, committed on its own, refused on a read-only database and,
    /// when several are configured, on one the session did not choose (`Access.write`).
    public func execute(
        session: WorkSession, database: String?, sql: String, parameters: [String?]
    ) async throws(DatabaseCallError) -> ExecuteAnswer {
        let maxBytes = settings.maxResultBytes
        let types = typeNames
        // A statement that only reads is cut at the row or byte limit like `query`; anything else
        // (a write with RETURNING, a SELECT of a function that writes) runs to its end, its rows kept
        // up to the limit: a cancel would roll back what it did.
        let parse = try await StatementRules.parseForWrite(sql)
        let facts = try? parse.get()
        // The writable-and-chosen check happens in the same resolution as the lease.
        let answer = try await withDatabase(session, database, access: .write) { connection, target, transaction in
            let control = Self.transactionControl(sql)
            if control == "PREPARE TRANSACTION" {
                throw DatabaseCallError(
                    "PREPARE TRANSACTION is not run through execute: the prepared transaction would outlive the call, holding its locks and holding back VACUUM until someone ends it. Use begin_transaction, then commit_transaction or rollback_transaction"
                )
            }
            if transaction != nil, let command = control {
                throw DatabaseCallError(
                    "\(command) is not run inside the session's transaction on '\(target.name)': pgmcp tracks it, and ending it from execute would leave later calls outside a transaction they believe open. Use commit_transaction or rollback_transaction (SAVEPOINT and ROLLBACK TO SAVEPOINT are fine)"
                )
            }
            if transaction?.readOnly == true {
                // The session's read-only transaction makes this a read-only call.
                try StatementRules.requireRead(parse, of: sql)
            }
            var reads = facts?.onlyReads ?? false
            if let facts, reads { reads = await !StatementRules.mayWrite(facts, on: connection, inTransaction: transaction != nil) }
            let clock = ContinuousClock()
            let started = clock.now
            let sink = ResultRows(maxRows: target.config.maxRows, maxBytes: maxBytes, pastLimit: reads ? .stop : .skipRest)
            let statement = PGStatement(sql, parameters: parameters)
            // Outside a transaction: committed in one of its own, its timeout set and the connection
            // reset in the same round trip (VACUUM and CREATE INDEX CONCURRENTLY run on their own).
            // Inside the session's transaction: just the statement (its BEGIN set the timeout); a
            // read in a savepoint kept when it ends, so that a cut undoes the read, not the transaction.
            let (command, rows) =
                if transaction == nil {
                    try await connection.executeCommitted(
                        statement, statementTimeoutMs: target.config.statementTimeoutMs, sessionTimeout: Self.allowsSessionSettings(target), into: sink)
                } else if reads {
                    try await connection.scoped(statement, in: .keptSavepoint, statementTimeoutMs: nil, into: sink)
                } else {
                    try await connection.execute(sql, parameters: parameters, into: sink)
                }
            let elapsed = clock.now - started
            let table = rows.columns.isEmpty ? nil : await types.table(rows, pool: target.pool, connection: connection, inTransaction: transaction != nil)
            // A read cut at its limit never got its command tag.
            let name = command.command.isEmpty && command.stoppedEarly ? Self.commandWord(of: facts) : command.command
            return ExecuteAnswer(command: name, rowsAffected: command.rowsAffected, table: table, elapsed: elapsed, database: target.name)
        }
        if let table = answer.table { session.recordRowsReturned(table.rows.count) }
        return answer
    }

    /// `EXPLAIN (FORMAT JSON)` of one statement; with `analyze` it really runs, in a transaction that
    /// is rolled back: read-only for a statement that only reads (a read, like `query`), read-write
    /// for a write, only where the database allows it.
    public func explain(
        session: WorkSession, database: String?, sql: String, parameters: [String?], analyze: Bool
    ) async throws(DatabaseCallError) -> ExplainAnswer {
        let options = analyze ? "FORMAT JSON, ANALYZE, BUFFERS" : "FORMAT JSON"
        // What is checked is what is sent: the statement with its EXPLAIN in front.
        let text = "EXPLAIN (\(options)) \(sql)"
        let parse = try await StatementRules.parseForWrite(text)
        let runsWrite = (try? parse.get()).map { !$0.onlyReads } ?? analyze
        if !runsWrite { try StatementRules.requireRead(parse, of: text, prefix: text.count - sql.count) }
        let (plan, name) = try await withDatabase(session, database, access: runsWrite ? .writeRolledBack : .read) { connection, target, transaction in
            let readOnly = target.config.readOnly || !runsWrite
            let scope = transaction == nil ? PGScope.transaction(readOnly: readOnly) : .savepoint(readOnly: readOnly)
            let (_, rows) = try await connection.scoped(
                PGStatement(text, parameters: parameters), in: scope,
                statementTimeoutMs: target.config.statementTimeoutMs, into: PGRowCollector())
            return (rows.rows.first?.first ?? .null, target.name)
        }
        // The sizes of the tables read whole, for the summary: a catalog read of its own (after a
        // write's rolled-back run the pool resets that connection), only when there are any.
        let scanned = ExplainSummary.scannedRelations(plan)
        var sizes: [String: Int64] = [:]
        if !scanned.isEmpty {
            let lookup = PGStatement(Self.tableRowsLookup, parameters: [PGArrayLiteral.text(scanned)])
            for row in try await catalogReads(session, name, [lookup])[0] {
                if let table = row[0].stringValue, let count = row[1].intValue { sizes[table] = count }
            }
        }
        return ExplainAnswer(plan: plan, summary: ExplainSummary.summarize(plan, tableRows: sizes))
    }

    /// Estimated rows of tables by name (a plan names them without their schema): the one on the
    /// search path first.
    static let tableRowsLookup = """
        SELECT DISTINCT ON (c.relname) c.relname::text, greatest(c.reltuples, 0)::int8
        FROM pg_catalog.pg_class c WHERE c.relname = ANY($1::text[]) AND c.relkind IN ('r', 'm', 'p')
        ORDER BY c.relname, pg_catalog.pg_table_is_visible(c.oid) DESC
        """
}

extension DatabaseCalls {
    /// Whether a statement may be preceded by a session setting in a sync of its own: only on a
    /// configured entry that says it reaches PostgreSQL directly. A dynamic connection's string may
    /// lead to a transaction-mode pooler, where that setting would stay on a server connection
    /// someone else gets next; there the call's deadline bounds the statement instead.
    static func allowsSessionSettings(_ target: DatabaseTarget) -> Bool {
        target.kind == .configured && target.config.pooling == .direct
    }

    /// The command tag's word for a statement that only reads.
    static func commandWord(of facts: ParsedStatement?) -> String {
        switch facts?.kind {
        case "VariableShowStmt": "SHOW"
        case "ExplainStmt": "EXPLAIN"
        default: "SELECT"
        }
    }

    /// The transaction-control command `sql` is, if any: one that would begin, end or hand over the
    /// transaction pgmcp holds open across calls. Savepoints stay the caller's.
    static func transactionControl(_ sql: String) -> String? {
        let words = PGReadStatement.leadingKeywords(of: sql, count: 2)
        guard let first = words.first else { return nil }
        let second = words.count > 1 ? words[1] : nil
        switch first {
        case "BEGIN", "START", "COMMIT", "END", "ABORT": return first
        case "ROLLBACK" where second != "TO": return first
        case "PREPARE" where second == "TRANSACTION": return "PREPARE TRANSACTION"
        default: return nil
        }
    }
}

extension TypeNameCache {
    func table(_ rows: ResultRows, pool: ConnectionPool, connection: PGConnection, inTransaction: Bool) async -> ResultTable {
        let types = await columnTypes(rows.columns, pool: pool, connection: connection, inTransaction: inTransaction)
        let columns = zip(rows.columns, types).map { ResultColumn(name: $0.name, type: $1) }
        return ResultTable(columns: columns, rows: rows.rows, truncated: rows.truncated)
    }
}
