/// Why a text is not the JSON we accept, and where: byte offset, line and column (1-based).
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public let offset: Int
    public let line: Int
    public let column: Int
    /// The key an object named twice, when that is the reason (with `rejectDuplicateKeys`): the JSON
    /// is well-formed, but it says two things at once. Cut to its first `quotedKeyLimit` characters.
    public let duplicateKey: String?

    public init(reason: String, offset: Int, line: Int, column: Int, duplicateKey: String? = nil) {
        self.reason = reason
        self.offset = offset
        self.line = line
        self.column = column
        self.duplicateKey = duplicateKey
    }

    public var description: String { "\(reason) at line \(line), column \(column)" }

    /// At most this many characters of a key in a message: a key may be megabytes long.
    static let quotedKeyLimit = 64

    /// `key` as a message quotes it: its first `quotedKeyLimit` characters, then `…` if it was longer.
    static func quoted(_ key: String) -> String {
        var end = key.startIndex
        var count = 0
        while end < key.endIndex, count < quotedKeyLimit {
            key.formIndex(after: &end)
            count += 1
        }
        return end == key.endIndex ? key : String(key[..<end]) + "…"
    }
}
