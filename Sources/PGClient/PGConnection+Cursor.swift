/// A server-side cursor over one read, so that a result too large for one answer is paged from
/// one snapshot: `openCursor` leaves a REPEATABLE READ, READ ONLY transaction open with the cursor
/// declared in it, and `fetchCursor` reads on from any row already handed out.
///
/// The cursor is `SCROLL`: a page cut by bytes reads rows it does not keep (a `FETCH` cannot stop
/// half-way without a cancel, and a cancel would abort the transaction and the cursor with it), so
/// the next page moves back to the last row kept (`MOVE ABSOLUTE`). For a plan that can run
/// backwards (scans, sorts) that costs nothing; for any other PostgreSQL keeps the rows read so far
/// in its own work memory or temporary files, never in ours.
extension PGConnection {
    /// The cursor's name: one per connection, in the transaction that holds it.
    public static let cursorName = "pgmcp_cursor"

    /// Begins the transaction (one snapshot for every page), sets its statement timeout (each page's
    /// `FETCH` runs under it), declares the cursor over `statement` and fetches its first `count`
    /// rows into `sink`, in one round trip with one sync. The sink must not `.stop` (a cancel ends
    /// the transaction): `.skipRest` keeps no more rows and lets the fetch finish.
    ///
    /// - Returns: how many rows the fetch read (the sink may have kept fewer), and the sink.
    /// - Throws: `PGError`; the transaction is then left aborted, for the connection's reset.
    public func openCursor<Sink: PGRowSink>(
        over statement: PGStatement, statementTimeoutMs: Int?, fetch count: Int, into sink: Sink
    ) async throws -> (fetched: Int, Sink) {
        let timeout = statementTimeoutMs.map { [PGScope.timeout($0)] } ?? []
        let statements =
            [PGStatement("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")] + timeout
            + [
                PGStatement("DECLARE \(Self.cursorName) SCROLL CURSOR FOR \(statement.sql)", parameters: statement.parameters),
                PGStatement("FETCH FORWARD \(count) FROM \(Self.cursorName)"),
            ]
        return try await cursorPipeline(statements, into: sink)
    }

    /// Fetches the `count` rows that follow row `position` (the last one handed out; 0: before the
    /// first) into `sink`, in one round trip: `MOVE ABSOLUTE` gives back rows an earlier page read
    /// and did not keep. Same sink rule as `openCursor`.
    ///
    /// - Returns: how many rows the fetch read, and the sink.
    public func fetchCursor<Sink: PGRowSink>(after position: Int, count: Int, into sink: Sink) async throws -> (fetched: Int, Sink) {
        let statements = [
            PGStatement("MOVE ABSOLUTE \(position) IN \(Self.cursorName)"), PGStatement("FETCH FORWARD \(count) FROM \(Self.cursorName)"),
        ]
        return try await cursorPipeline(statements, into: sink)
    }

    /// Runs `statements` in one sync, rows of the last into `sink`; the first failure is thrown.
    private func cursorPipeline<Sink: PGRowSink>(_ statements: [PGStatement], into sink: Sink) async throws -> (fetched: Int, Sink) {
        let (outcomes, filled) = try await pipeline(statements, rowsFrom: statements.count - 1, into: sink, syncs: .last, resets: false)
        for outcome in outcomes { _ = try outcome.get() }
        return (try outcomes[statements.count - 1].get().rowsAffected ?? 0, filled)
    }
}
