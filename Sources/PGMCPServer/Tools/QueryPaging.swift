import PGDatabaseCalls
import PGMCPJSON

/// `query`'s handler: a new read (`sql`), or the next page of a cut one (`cursor`). A cut result
/// carries `nextCursor`; every page of it comes from one snapshot (`CursorCalls`).
enum QueryPaging {
    static let cursorSchema = JSONSchema.string("A cut result's nextCursor, instead of sql.")

    static func handle(_ call: ToolCall) async throws(ToolError) -> JSONObject {
        let maxBytes = call.server.settings.maxResultBytes
        // A page hands out what fits in the result the client gets: the cursor moves on by that many.
        let fit: PageFit = { answer in handedOut(output(answer), maxBytes: maxBytes) }
        if let cursor = try call.arguments.string("cursor") {
            for name in ["sql", "params", "max_rows"] where call.arguments.values[name].map({ $0 != .null }) == true {
                throw ToolError(
                    "'cursor' reads on a query as it was first run: pass it without '\(name)' (its page size is the first call's max_rows). To run a new query, pass 'sql' without 'cursor'"
                )
            }
            let owner = call.session.ownedBy
            return output(try await call.run { calls throws(DatabaseCallError) in try await calls.nextPage(cursor: cursor, ownedBy: owner, fit: fit) })
        }
        guard let sql = try call.arguments.string("sql"), !sql.allSatisfy(\.isWhitespace) else {
            throw ToolError("argument 'sql' is required and must be a non-empty string (or pass 'cursor', a nextCursor, for the next page of a cut result)")
        }
        let parameters = try call.arguments.parameters()
        let requested = try call.arguments.integer("max_rows", in: 1...1_000_000)
        let database = try call.arguments.string("database")
        let answer = try await call.run { calls throws(DatabaseCallError) in
            try await calls.query(session: call.session, database: database, sql: sql, parameters: parameters, maxRows: requested, fit: fit)
        }
        return output(answer)
    }

    static func output(_ answer: QueryAnswer) -> JSONObject {
        var output = JSONObject([
            ("columns", QueryTools.columns(answer.table.columns)), ("rows", .array(answer.table.rows)),
            ("rowCount", .int(Int64(answer.table.rows.count))), ("truncated", .bool(answer.table.truncated)),
            ("elapsedMs", milliseconds(answer.elapsed)), ("database", .string(answer.database)),
        ])
        if let cursor = answer.nextCursor { output["nextCursor"] = .string(cursor) }
        return output
    }

    /// How many rows of `result` survive `PGMCP_MAX_RESULT_BYTES` (`ResultBudget`, as the dispatcher
    /// applies it): at least one, as the budget keeps one.
    static func handedOut(_ result: JSONObject, maxBytes: Int) -> Int {
        let rows = result["rows"]?.arrayValue?.count ?? 0
        guard case .fits(let fitted) = ResultBudget.fit(result, maxBytes: maxBytes) else { return min(rows, 1) }
        return fitted["rows"]?.arrayValue?.count ?? rows
    }
}
