import PGClient
import PGMCPJSON
import Synchronization

/// A statement `suggest_indexes` plans: its text (checked by `StatementRules.checkPlannable`), how
/// many `$n` placeholders it has, and its weight in the workload.
struct AdvisedStatement: Sendable {
    var sql: String
    var parameterCount: Int
    var weight: Double
}

/// What one planning of the statements under a set of hypothetical indexes gave.
struct PlannedStatements: Sendable {
    /// Each statement's plan (`EXPLAIN (FORMAT JSON)`'s array), in order.
    var plans: [JSONValue]
    /// Each index created: hypopg's oid for it (its plan name starts `<oid>`), the `CREATE INDEX`
    /// and the table's `schema.name` to show, and hypopg's estimate of the index's size.
    var indexes: [(oid: Int64, create: String, table: String, sizeBytes: Int64)]

    static func cost(of plan: JSONValue) -> Double? { plan.arrayValue?.first?["Plan"]?["Total Cost"]?.numberValue }

    /// Whether a plan uses the hypothetical index `oid` (hypopg names it `<oid>btree_…`).
    static func uses(_ plan: JSONValue, index oid: Int64) -> Bool {
        func walk(_ node: JSONValue) -> Bool {
            if node["Index Name"]?.stringValue?.hasPrefix("<\(oid)>") == true { return true }
            return (node["Plans"]?.arrayValue ?? []).contains(where: walk)
        }
        return (plan.arrayValue ?? []).compactMap { $0["Plan"] }.contains(where: walk)
    }
}

/// hypopg on one connection: plans statements as if some indexes existed, and makes sure none is
/// left behind.
///
/// hypopg's indexes live in the backend's memory, not in a transaction: a rollback, `DISCARD ALL`
/// and pgmcp's own reset of a pooled connection all leave them in place, and the next session to
/// lease the connection would get plans using indexes that do not exist. So each planning is one
/// unit (one sync, one transaction: a transaction-mode pooler keeps it on one server connection)
/// that starts and ends with `hypopg_reset()`, and `clear()` ends every call, on every path,
/// confirming that none is left; a connection it cannot confirm is given up, not pooled.
///
/// Statements are planned as prepared statements under `plan_cache_mode = force_generic_plan`:
/// pg_stat_statements' texts have `$n` for their constants, which a plain EXPLAIN refuses
/// (`EXPLAIN (GENERIC_PLAN)` is PostgreSQL 16's), and a generic plan never looks at the values
/// `EXECUTE` is given (NULLs here), so it stands for every call of the statement. Each unit prepares
/// its statements afresh: a plan cached before an index was added would not see it.
final class HypotheticalIndexes: Sendable {
    let connection: PGConnection
    let scope: PGScope
    let statementTimeoutMs: Int
    /// hypopg's schema, quoted (`ExtensionLookup`).
    let hypopg: String
    /// Part of the prepared statements' names, changed after a unit failed: a failed unit may leave
    /// its statements prepared (PostgreSQL does not roll a PREPARE back), and the next must not
    /// collide with them. pgmcp's reset of the connection deallocates them all at the end.
    private let generation = Mutex(0)

    init(connection: PGConnection, scope: PGScope, statementTimeoutMs: Int, hypopg: String) {
        self.connection = connection
        self.scope = scope
        self.statementTimeoutMs = statementTimeoutMs
        self.hypopg = hypopg
    }

    /// Plans `statements` with `indexes` created hypothetically, in one unit. `verbose` qualifies
    /// every column by its alias and names each table's schema (what `PlanColumnUses` reads).
    ///
    /// - Throws: `PGError`; the connection is then back where it was before the unit (its
    ///   transaction rolled back, or its savepoint undone), but the unit's indexes may remain until
    ///   the next unit or `clear()`.
    func plan(_ statements: [AdvisedStatement], under indexes: [IndexCandidate], verbose: Bool = false) async throws -> PlannedStatements {
        let unit = generation.withLock { $0 }
        var sql = [reset, PGStatement("SET LOCAL plan_cache_mode = force_generic_plan")]
        sql += indexes.map { PGStatement(create, parameters: [String($0.oid), "{" + $0.attnums.map(String.init).joined(separator: ",") + "}"]) }
        let explain = verbose ? "EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE" : "EXPLAIN (FORMAT JSON) EXECUTE"
        for (position, statement) in statements.enumerated() {
            let name = "pgmcp_advice_\(unit)_\(position)"
            let values = statement.parameterCount == 0 ? "" : "(" + Array(repeating: "NULL", count: statement.parameterCount).joined(separator: ", ") + ")"
            sql += [PGStatement("PREPARE \(name) AS \(statement.sql)"), PGStatement("\(explain) \(name)\(values)"), PGStatement("DEALLOCATE \(name)")]
        }
        sql.append(reset)
        let results: [PGQueryResult]
        do {
            results = try await connection.scopedReads(sql, in: scope, statementTimeoutMs: statementTimeoutMs)
        } catch {
            generation.withLock { $0 += 1 }
            if (error as? PGError)?.kind == .statement { try await connection.undoFailedScope(scope) }
            throw error
        }
        let created = results[2..<2 + indexes.count].map { result in
            let row = result.rows.first ?? []
            func text(_ column: Int) -> String { row.count > column ? row[column].stringValue ?? "" : "" }
            return (oid: row.first?.intValue ?? 0, create: text(1), table: text(2), sizeBytes: row.count > 3 ? row[3].intValue ?? 0 : 0)
        }
        let plans = statements.indices.map { results[2 + indexes.count + 3 * $0 + 1].rows.first?.first ?? .null }
        return PlannedStatements(plans: plans, indexes: created)
    }

    /// Drops every hypothetical index of the backend and confirms that none is left; when that
    /// cannot be confirmed (the server did not answer, the call was cancelled mid-way and the
    /// connection is in an unknown state), abandons the connection, so that its pool closes it
    /// instead of handing it on. Runs in a task of its own: a cancelled call still clears.
    ///
    /// - Returns: whether the connection was confirmed clear (false: it was abandoned).
    @discardableResult
    func clear() async -> Bool {
        let connection = connection
        let scope = scope
        let timeout = statementTimeoutMs
        let statements = [reset, PGStatement("SELECT pg_catalog.count(*) FROM \(hypopg).hypopg()")]
        let confirmed = await Task {
            do {
                return try await connection.bounded(by: .seconds(5)) {
                    try await connection.undoFailedScope(scope)
                    let results = try await connection.scopedReads(statements, in: scope, statementTimeoutMs: timeout)
                    return results[1].rows.first?.first?.intValue == 0
                }
            } catch {
                return false
            }
        }.value
        if !confirmed { connection.abandon() }
        return confirmed
    }

    private var reset: PGStatement { PGStatement("SELECT \(hypopg).hypopg_reset()") }

    /// Creates one hypothetical btree index from a table's oid (`$1`) and its columns' numbers
    /// (`$2`). The `CREATE INDEX` hypopg parses is written by the server from the catalog's names
    /// (`format` with `%I`, `quote_ident`): nothing from a plan's text or a statement reaches it,
    /// so no table or column name, however it is spelt, can change what it says. The second one
    /// (without `USING btree`, the default) and the table's name are the ones shown to the caller.
    private var create: String {
        """
        SELECT h.indexrelid::pg_catalog.int8, d.display, d.shown_table, \(hypopg).hypopg_relation_size(h.indexrelid)::pg_catalog.int8
        FROM (
          SELECT pg_catalog.format('CREATE INDEX ON %I.%I USING btree (%s)', n.nspname, c.relname, k.columns) AS ddl,
                 pg_catalog.format('CREATE INDEX ON %I.%I (%s)', n.nspname, c.relname, k.columns) AS display,
                 pg_catalog.format('%I.%I', n.nspname, c.relname) AS shown_table
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          CROSS JOIN LATERAL (
            SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY u.position) AS columns
            FROM pg_catalog.unnest($2::pg_catalog.int2[]) WITH ORDINALITY AS u(attnum, position)
            JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = u.attnum AND NOT a.attisdropped
          ) k
          WHERE c.oid = $1::pg_catalog.oid
        ) d
        CROSS JOIN LATERAL \(hypopg).hypopg_create_index(d.ddl) h
        """
    }
}
