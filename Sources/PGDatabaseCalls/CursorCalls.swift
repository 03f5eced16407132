import PGClient
import PGParser
import PGRegistry

/// How many rows of a page its caller hands out: the answer cut to the caller's size cap
/// (`PGMCP_MAX_RESULT_BYTES` counts the whole result, not only its rows). The cursor moves on by
/// that many, so that no row is lost between pages.
public typealias PageFit = @Sendable (QueryAnswer) -> Int

/// Paging a cut read (`nextCursor`). The hot path stays one round trip: only a result that was cut
/// is read again, through a cursor in a REPEATABLE READ, READ ONLY transaction pinned to the work
/// session, so that its first page and every later one come from one snapshot.
extension DatabaseCalls {
    /// The first page of a read `query` cut, read again through a cursor on `database`; nil when
    /// no cursor could be opened (a statement a cursor cannot run, such as SHOW or EXPLAIN; a
    /// failure): the caller keeps the answer it has, without `nextCursor`.
    func firstPage(
        session: WorkSession, database: String, sql: String, parameters: [String?], pageSize: Int, fit: @escaping PageFit
    ) async -> QueryAnswer? {
        // DECLARE takes a SELECT (VALUES, TABLE and WITH … SELECT parse as one) and nothing else.
        guard (try? await PGParser.parse(sql).get())?.kind == "SelectStmt" else { return nil }
        let sink = pageSink(pageSize)
        let types = typeNames
        do {
            let (answer, _) = try await registry.openCursor(session: session, database: database, pageSize: pageSize) { connection, target, place in
                let started = ContinuousClock.now
                let (_, rows) = try await connection.openCursor(
                    over: PGStatement(sql, parameters: parameters), statementTimeoutMs: target.config.statementTimeoutMs, fetch: pageSize + 1,
                    into: sink)
                return await Self.page(rows, elapsed: ContinuousClock.now - started, place: place, connection: connection, target: target, types: types, fit: fit)
            }
            return answer
        } catch {
            logger.debug("no cursor for a cut query", metadata: ["database": "\(database)", "error": "\(error)"])
            return nil
        }
    }

    /// The next page of the cursor `cursor`, for its owner only (anyone else is told it does not
    /// exist). The last page carries no `nextCursor`; a page that fails closes the cursor.
    public func nextPage(cursor: String, ownedBy owner: SessionOwner, fit: @escaping PageFit) async throws(DatabaseCallError) -> QueryAnswer {
        let types = typeNames
        let maxBytes = settings.maxResultBytes
        do {
            return try await registry.withCursor(cursor, ownedBy: owner) { connection, target, place in
                let started = ContinuousClock.now
                let rows: ResultRows
                do {
                    (_, rows) = try await connection.fetchCursor(
                        after: place.position, count: place.pageSize + 1, into: Self.pageSink(place.pageSize, maxBytes: maxBytes))
                } catch let error as PGError {
                    var explained = DatabaseCallError.explaining(error, on: target, inTransaction: true)
                    explained.message += ". The cursor was closed; run the query again (with sql) for a new one"
                    throw explained
                }
                return await Self.page(rows, elapsed: ContinuousClock.now - started, place: place, connection: connection, target: target, types: types, fit: fit)
            }
        } catch {
            throw DatabaseCallError.from(error)
        }
    }

    // MARK: - Internals

    /// A page's rows: `pageSize` kept, and one more read (not kept) to tell whether any remain. Past
    /// a limit the fetch finishes unkept: a cancel would abort the cursor's transaction.
    func pageSink(_ pageSize: Int) -> ResultRows { Self.pageSink(pageSize, maxBytes: settings.maxResultBytes) }

    static func pageSink(_ pageSize: Int, maxBytes: Int) -> ResultRows {
        ResultRows(maxRows: pageSize, maxBytes: maxBytes, pastLimit: .skipRest)
    }

    /// The answer of a page: as many rows as its caller hands out (`fit`), the cursor moved on by
    /// that many, and whether rows remain.
    static func page(
        _ rows: ResultRows, elapsed: Duration, place: CursorPlace, connection: PGConnection, target: DatabaseTarget, types: TypeNameCache,
        fit: PageFit
    ) async -> (QueryAnswer, more: Bool) {
        var answer = QueryAnswer(
            table: await types.table(rows, pool: target.pool, connection: connection, inTransaction: true), elapsed: elapsed, database: target.name,
            nextCursor: place.id)
        // Measured with its nextCursor, the larger of the two answers it may become.
        let handedOut = rows.rows.isEmpty ? 0 : max(1, min(fit(answer), rows.rows.count))
        if handedOut < answer.table.rows.count {
            answer.table.rows.removeLast(answer.table.rows.count - handedOut)
            answer.table.truncated = true
        }
        place.advance(by: handedOut)
        if !answer.table.truncated { answer.nextCursor = nil }
        return (answer, answer.table.truncated)
    }
}
