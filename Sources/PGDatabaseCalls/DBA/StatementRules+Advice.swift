import PGClient
import PGParser

extension StatementRules {
    /// The statements `suggest_indexes` plans: the ones whose cost an index changes.
    static let plannableKinds: Set<String> = ["SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt"]

    /// Refuses `sql` unless `suggest_indexes` may plan it: exactly one SELECT, INSERT (… SELECT),
    /// UPDATE or DELETE, calling no function whose effects escape a transaction. A write is
    /// allowed here, unlike in a read-only call, because it is only ever planned (`EXPLAIN` without
    /// `ANALYZE` of a prepared statement, in a READ ONLY transaction): PostgreSQL never runs it.
    /// `SELECT … INTO` is refused: planning it would mean planning a `CREATE TABLE`.
    ///
    /// - Returns: the parse, for its placeholder count.
    static func checkPlannable(_ sql: String) async throws(DatabaseCallError) -> ParsedStatement {
        let statement = try statement(await PGParser.parse(sql), prefix: 0)
        if statement.count == 0 { throw noStatement }
        try requireOne(statement)
        guard let kind = statement.kind, plannableKinds.contains(kind), statement.firstWrite != "intoClause" else {
            throw DatabaseCallError(
                "suggest_indexes plans only SELECT, INSERT … SELECT, UPDATE and DELETE statements (the ones an index makes cheaper); this is a \(PGReadStatement.leadingKeyword(of: sql) ?? "different") statement"
            )
        }
        try refuseEscapingFunctions(statement)
        return statement
    }
}
