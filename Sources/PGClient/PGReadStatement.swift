/// A statement's leading keywords, found without a parser: what `execute` needs to know before
/// sending (does it run outside a transaction block, does it control the transaction). Whether a
/// read-only call may run a statement is decided on PostgreSQL's own parse of it (PGParser), not
/// here. Comments, white space and opening parentheses before the first word are skipped, as
/// PostgreSQL's lexer skips them.
public enum PGReadStatement {
    /// The statement's first word, upper-cased, after white space, `--` and (nested) `/* */`
    /// comments and opening parentheses; `nil` when it does not start with a word.
    public static func leadingKeyword(of sql: String) -> String? {
        leadingKeywords(of: sql, count: 1).first
    }

    /// Whether `sql` must run outside a transaction block: PostgreSQL refuses it inside one
    /// (`VACUUM`, `CREATE INDEX CONCURRENTLY`, `CREATE DATABASE`, `ALTER SYSTEM`, `COMMIT PREPARED`…),
    /// or it may commit by itself (`CALL` of a procedure, `DO`). Judged by the leading keywords; a
    /// statement missed here is still found by the error PostgreSQL raises (SQLSTATE 25001).
    public static func runsOutsideTransactionBlocks(_ sql: String) -> Bool {
        let words = leadingKeywords(of: sql, count: 4)
        guard let first = words.first else { return false }
        let second = words.count > 1 ? words[1] : ""
        switch first {
        case "VACUUM", "CLUSTER", "REINDEX", "CALL", "DO", "DISCARD": return true
        case "CREATE", "DROP", "ALTER": return ["DATABASE", "TABLESPACE", "SUBSCRIPTION", "SYSTEM"].contains(second) || words.contains("CONCURRENTLY")
        case "COMMIT", "ROLLBACK": return second == "PREPARED"
        default: return false
        }
    }

    /// The statement's first `count` words, upper-cased, each found as `leadingKeyword` finds the
    /// first (fewer when the statement has fewer, or something other than a word comes first).
    public static func leadingKeywords(of sql: String, count: Int) -> [String] {
        func read(_ bytes: UnsafeBufferPointer<UInt8>) -> [String] {
            var words: [String] = []
            var start = 0
            while words.count < count, let (word, end) = leadingKeyword(in: bytes, from: start) {
                words.append(word)
                start = end
            }
            return words
        }
        // Native strings are contiguous UTF-8: read in place, no copy of the statement per call.
        if let words = sql.utf8.withContiguousStorageIfAvailable(read) { return words }
        return Array(sql.utf8).withUnsafeBufferPointer(read)
    }

    private static func leadingKeyword(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (String, Int)? {
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D, 0x0C, 0x0B, UInt8(ascii: "("):
                index += 1
            case UInt8(ascii: "-") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "-"):
                while index < bytes.count, bytes[index] != 0x0A, bytes[index] != 0x0D { index += 1 }
            case UInt8(ascii: "/") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "*"):
                // PostgreSQL's block comments nest.
                var depth = 0
                repeat {
                    if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "/"), bytes[index + 1] == UInt8(ascii: "*") {
                        depth += 1
                        index += 2
                    } else if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "*"), bytes[index + 1] == UInt8(ascii: "/") {
                        depth -= 1
                        index += 2
                    } else {
                        index += 1
                    }
                } while depth > 0 && index < bytes.count
            default:
                var end = index
                while end < bytes.count, isWordByte(bytes[end]) { end += 1 }
                guard end > index else { return nil }
                return (String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self).uppercased(), end)
            }
        }
        return nil
    }

    /// Letters, digits, `_` and `$`, and any byte of a non-ASCII character, as in PostgreSQL identifiers.
    private static func isWordByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "$"), 0x80...0xFF:
            true
        default: false
        }
    }
}
