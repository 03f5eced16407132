import PGMCPJSON

/// libpg_query's JSON parse tree read as a stream of events, without building the tree.
///
/// A parse tree is as deep as the statement's expressions (`1+1+…+1` nests once per `+`) and tens
/// of times the statement's size, so a tree of values would cost memory and a recursive reader
/// stack; this reader is a loop with no stack of its own. The text is libpg_query's output, so it
/// is well-formed JSON: the reader does not validate, it only finds the structure.
struct ParseTreeEvents {
    enum Event: Equatable {
        case objectStart, objectEnd, arrayStart, arrayEnd
        /// An object key (node and field names: ASCII, never escaped).
        case key(String)
        /// A string value, still escaped: the byte range between its quotes.
        case string(Range<Int>)
        /// A number, `true`, `false` or `null`: its text's byte range.
        case scalar(Range<Int>)
    }

    let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func next() -> Event? {
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"): index += 1; return .objectStart
            case UInt8(ascii: "}"): index += 1; return .objectEnd
            case UInt8(ascii: "["): index += 1; return .arrayStart
            case UInt8(ascii: "]"): index += 1; return .arrayEnd
            case UInt8(ascii: ","), UInt8(ascii: ":"): index += 1
            case _ where Self.isSpace(byte): index += 1
            case UInt8(ascii: "\""):
                let range = stringBody()
                if nextSignificantByte() == UInt8(ascii: ":") {
                    return .key(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
                }
                return .string(range)
            default:
                let start = index
                while index < bytes.count, !Self.endsScalar(bytes[index]) { index += 1 }
                return .scalar(start..<index)
            }
        }
        return nil
    }

    /// The string's bytes (still escaped), leaving `index` past its closing quote.
    private mutating func stringBody() -> Range<Int> {
        index += 1
        let start = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
            index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
        }
        let end = min(index, bytes.count)
        index += 1
        return start..<end
    }

    private func nextSignificantByte() -> UInt8? {
        var position = index
        while position < bytes.count, Self.isSpace(bytes[position]) { position += 1 }
        return position < bytes.count ? bytes[position] : nil
    }

    private static func endsScalar(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") || isSpace(byte)
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }

    /// A string value's text, its JSON escapes decoded (by the project's JSON parser, for the rare
    /// value that has any).
    func text(_ range: Range<Int>) -> String {
        let raw = UnsafeBufferPointer(rebasing: bytes[range])
        guard raw.contains(UInt8(ascii: "\\")) else { return String(decoding: raw, as: UTF8.self) }
        let quoted = [UInt8(ascii: "\"")] + raw + [UInt8(ascii: "\"")]
        return (try? JSONParser.parse(quoted))?.stringValue ?? String(decoding: raw, as: UTF8.self)
    }
}
