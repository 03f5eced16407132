import CLibPQ
import PGMCPJSON

/// Receives the rows of a statement one at a time, in the task that runs it, while they
/// arrive. Returning `.stop` ends reading: the statement is cancelled and the rest is discarded
/// unread, so a caller that wants 10 rows of a million never holds more than it keeps.
public protocol PGRowSink: Sendable {
    mutating func start(columns: [PGColumn])
    mutating func consume(_ row: PGRow) -> PGRowDecision
}

public enum PGRowDecision: Sendable {
    case `continue`
    /// Cancel the statement: what remains is never computed.
    case stop
    /// Keep no more rows but let the statement finish: a write (`INSERT … RETURNING`) cancelled
    /// into a rollback would report rows of a change that never happened.
    case skipRest
}

/// One row, valid only during `consume`: read what you need before returning.
public struct PGRow {
    let result: OpaquePointer
    let index: Int32
    public let columns: [PGColumn]

    init(result: OpaquePointer, index: Int32, columns: [PGColumn]) {
        self.result = result
        self.index = index
        self.columns = columns
    }

    public var count: Int { columns.count }

    public func isNull(_ column: Int) -> Bool { PQgetisnull(result, index, Int32(column)) != 0 }

    /// The value's text bytes (libpq's text format), valid until `consume` returns.
    public func withBytes<R>(_ column: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let length = Int(PQgetlength(result, index, Int32(column)))
        let pointer = UnsafeRawPointer(PQgetvalue(result, index, Int32(column))!)
        return body(UnsafeBufferPointer(start: pointer.assumingMemoryBound(to: UInt8.self), count: length))
    }

    /// The value as JSON, by its column's type (CONTRACT.md's mapping).
    public func value(_ column: Int) -> JSONValue {
        if isNull(column) { return .null }
        let oid = columns[column].typeOID
        return withBytes(column) { PGValueDecoder.decode($0, type: oid) }
    }

    /// The value's text, or `nil` for SQL NULL.
    public func text(_ column: Int) -> String? {
        if isNull(column) { return nil }
        return withBytes(column) { String(decoding: $0, as: UTF8.self) }
    }

    /// Every value of the row as JSON.
    public func values() -> [JSONValue] { (0..<columns.count).map(value) }
}

/// Collects decoded rows, up to `maxRows`, then stops. `truncated` is set only when a row beyond
/// the limit actually existed.
public struct PGRowCollector: PGRowSink {
    public var maxRows: Int?
    public private(set) var columns: [PGColumn] = []
    public private(set) var rows: [[JSONValue]] = []
    public private(set) var truncated = false

    public init(maxRows: Int? = nil) {
        self.maxRows = maxRows
    }

    public mutating func start(columns: [PGColumn]) { self.columns = columns }

    public mutating func consume(_ row: PGRow) -> PGRowDecision {
        if let maxRows, rows.count >= maxRows {
            truncated = true
            return .stop
        }
        rows.append(row.values())
        return .continue
    }
}

/// The rows of a statement and what it did.
public struct PGQueryResult: Sendable {
    public var command: PGCommandResult
    public var columns: [PGColumn]
    public var rows: [[JSONValue]]
    public var truncated: Bool
}
