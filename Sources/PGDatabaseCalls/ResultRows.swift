import PGClient
import PGMCPJSON

/// Collects a statement's rows as JSON until `maxRows` rows or `maxBytes` of JSON, whichever comes
/// first; past either, the statement is cancelled and the rest never read (`truncated`). The first
/// row is kept whatever its size: `ResultBudget` then fits the whole result (columns included) to
/// the cap, cutting columns or long values of that row rather than returning no row at all.
struct ResultRows: PGRowSink {
    let maxRows: Int
    let maxBytes: Int
    /// Past a limit: cancel the statement (a read), or let it finish and keep no more rows (a write,
    /// which a cancel would roll back).
    let pastLimit: PGRowDecision
    private(set) var columns: [PGColumn] = []
    private(set) var rows: [JSONValue] = []
    private(set) var truncated = false
    private(set) var bytes = 2  // "[]"

    init(maxRows: Int, maxBytes: Int, pastLimit: PGRowDecision = .stop) {
        self.maxRows = maxRows
        self.maxBytes = maxBytes
        self.pastLimit = pastLimit
    }

    mutating func start(columns: [PGColumn]) { self.columns = columns }

    mutating func consume(_ row: PGRow) -> PGRowDecision {
        if rows.count >= maxRows {
            truncated = true
            return pastLimit
        }
        let values = JSONValue.array(row.values())
        let size = values.serializedSize + (rows.isEmpty ? 0 : 1)
        if !rows.isEmpty, bytes + size > maxBytes {
            truncated = true
            return pastLimit
        }
        bytes += size
        rows.append(values)
        return .continue
    }
}
