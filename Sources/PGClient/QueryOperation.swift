import CLibPQ

/// One statement in flight. Touched only by the task that runs it.
final class QueryOperation: @unchecked Sendable {
    let id: UInt64
    let sql: String
    let parameters: [String?]
    /// Part of a reset (`PGStatement.isReset`).
    let isReset: Bool
    let onColumns: ([PGColumn]) -> Void
    let onRow: (PGRow) -> PGRowDecision

    var columns: [PGColumn]?
    var commandTag = ""
    var rowsAffected: Int?
    var error: PGError?
    var discarding = false
    var stoppedEarly = false
    /// Not run: an earlier statement of its sync failed.
    var skipped = false

    init(
        id: UInt64, sql: String, parameters: [String?], isReset: Bool = false, onColumns: @escaping ([PGColumn]) -> Void,
        onRow: @escaping (PGRow) -> PGRowDecision
    ) {
        self.id = id
        self.sql = sql
        self.parameters = parameters
        self.isReset = isReset
        self.onColumns = onColumns
        self.onRow = onRow
    }

    /// The result's columns, read from the first result and announced to the sink once.
    func describe(_ result: OpaquePointer) -> [PGColumn] {
        if let columns { return columns }
        let count = PQnfields(result)
        let described = (0..<count).map { i in
            PGColumn(name: String(cString: PQfname(result, i)), typeOID: PQftype(result, i))
        }
        columns = described
        onColumns(described)
        return described
    }

    var commandResult: PGCommandResult {
        PGCommandResult(commandTag: commandTag, rowsAffected: rowsAffected, columns: columns ?? [], stoppedEarly: stoppedEarly)
    }
}

/// Holds a sink while the driver feeds it; the caller reads it only after completion.
final class SinkBox<Sink: PGRowSink>: @unchecked Sendable {
    var sink: Sink
    init(_ sink: Sink) { self.sink = sink }
}

/// A sink that keeps nothing.
public struct DiscardingSink: PGRowSink {
    public init() {}
    public mutating func start(columns: [PGColumn]) {}
    public mutating func consume(_ row: PGRow) -> PGRowDecision { .continue }
}
