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

extension JSONValue {
    /// The length of `serialized()`, computed without building it.
    var serializedSize: Int {
        switch self {
        case .null: return 4
        case .bool(let flag): return flag ? 4 : 5
        case .int, .double: return JSONValue.serializedLength(of: self)
        case .string(let text): return JSONValue.quotedLength(text)
        case .array(let items): return 2 + items.reduce(0) { $0 + $1.serializedSize } + max(0, items.count - 1)
        case .object(let object):
            return 2 + object.members.reduce(0) { $0 + JSONValue.quotedLength($1.key) + 1 + $1.value.serializedSize } + max(0, object.count - 1)
        }
    }

    static func serializedLength(of number: JSONValue) -> Int {
        var writer = JSONWriter(reservingCapacity: 24)
        writer.write(number)
        return writer.bytes.count
    }

    static func quotedLength(_ text: String) -> Int {
        var length = 2
        for byte in text.utf8 { length += escapedLength(byte) }
        return length
    }

    /// What one byte of a string takes in JSON: `\"`, `\n`… take two, other controls six (`\u001f`).
    static func escapedLength(_ byte: UInt8) -> Int {
        switch byte {
        case 0x22, 0x5C, 0x0A, 0x0D, 0x09, 0x08, 0x0C: 2
        case 0..<0x20: 6
        default: 1
        }
    }
}
