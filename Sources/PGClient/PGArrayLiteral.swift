import PGMCPJSON

/// PostgreSQL's text form of an array (`{1,2,NULL}`, `{{"a b",c},{d,NULL}}`, `[0:1]={7,8}`): parsed
/// into nested JSON arrays, each element decoded by the element type; and written, for a parameter.
public enum PGArrayLiteral {
    /// An array literal element, double-quoted with `"` and `\` escaped, so any text survives.
    public static func quote(_ text: String) -> String {
        var out = "\""
        for character in text {
            if character == "\"" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out + "\""
    }

    /// A one-dimensional array of `elements`, each quoted: `{"a","b \"c\""}`.
    public static func text(_ elements: some Sequence<String>) -> String {
        "{" + elements.map(quote).joined(separator: ",") + "}"
    }

    static func parse(_ text: UnsafeBufferPointer<UInt8>, element: UInt32) -> JSONValue? {
        var index = 0
        // Optional dimension decoration, present when a lower bound is not 1: "[0:2]={…}".
        if text.first == UInt8(ascii: "[") {
            while index < text.count, text[index] != UInt8(ascii: "=") { index += 1 }
            index += 1
        }
        guard index < text.count, text[index] == UInt8(ascii: "{") else { return nil }
        var parser = Parser(text: text, index: index, element: element)
        guard let value = parser.parseArray(), parser.index == text.count else { return nil }
        return value
    }

    private struct Parser {
        let text: UnsafeBufferPointer<UInt8>
        var index: Int
        let element: UInt32

        mutating func parseArray() -> JSONValue? {
            index += 1  // {
            var items: [JSONValue] = []
            if index < text.count, text[index] == UInt8(ascii: "}") {
                index += 1
                return .array(items)
            }
            while index < text.count {
                let byte = text[index]
                if byte == UInt8(ascii: "{") {
                    guard let nested = parseArray() else { return nil }
                    items.append(nested)
                } else if byte == UInt8(ascii: "\"") {
                    guard let raw = parseQuoted() else { return nil }
                    items.append(decodeElement(raw))
                } else {
                    let (raw, wasQuotedOrEscaped) = parseUnquoted()
                    if !wasQuotedOrEscaped, raw.count == 4, String(decoding: raw, as: UTF8.self).uppercased() == "NULL" {
                        items.append(.null)
                    } else {
                        items.append(decodeElement(raw))
                    }
                }
                guard index < text.count else { return nil }
                if text[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if text[index] == UInt8(ascii: "}") {
                    index += 1
                    return .array(items)
                }
                return nil
            }
            return nil
        }

        func decodeElement(_ raw: [UInt8]) -> JSONValue {
            raw.withUnsafeBufferPointer { PGValueDecoder.decode($0, type: element) }
        }

        mutating func parseQuoted() -> [UInt8]? {
            index += 1  // "
            var out: [UInt8] = []
            while index < text.count {
                let byte = text[index]
                if byte == UInt8(ascii: "\\") {
                    index += 1
                    guard index < text.count else { return nil }
                    out.append(text[index])
                } else if byte == UInt8(ascii: "\"") {
                    index += 1
                    return out
                } else {
                    out.append(byte)
                }
                index += 1
            }
            return nil
        }

        mutating func parseUnquoted() -> ([UInt8], Bool) {
            var out: [UInt8] = []
            var escaped = false
            while index < text.count {
                let byte = text[index]
                if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") { break }
                if byte == UInt8(ascii: "\\"), index + 1 < text.count {
                    escaped = true
                    index += 1
                    out.append(text[index])
                } else {
                    out.append(byte)
                }
                index += 1
            }
            return (out, escaped)
        }
    }
}
