import CLibPQ
import PGMCPJSON

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns PostgreSQL's text output of one value into JSON, by type OID, as CONTRACT.md maps it:
/// integers → numbers (int8 beyond ±2^53 → string), floats → numbers (NaN/±Infinity → strings),
/// numeric → string, bool → bool, json/jsonb → parsed JSON, arrays → JSON arrays,
/// bytea → `"\x…"`, everything else (dates and times included) → its text.
public enum PGValueDecoder {
    /// Largest integer a JSON number carries exactly in every client (2^53).
    public static let maxSafeInteger: Int64 = 9_007_199_254_740_992

    public static func decode(_ text: UnsafeBufferPointer<UInt8>, type oid: UInt32) -> JSONValue {
        switch oid {
        case PGType.int2, PGType.int4, PGType.oid, PGType.int8:
            guard let value = DecimalInteger.parse(text) else { return .string(string(text)) }
            if value > maxSafeInteger || value < -maxSafeInteger { return .string(string(text)) }
            return .int(value)
        case PGType.float4, PGType.float8:
            return decodeFloat(text)
        case PGType.bool:
            return .bool(text.count == 1 && text[0] == UInt8(ascii: "t"))
        case PGType.json, PGType.jsonb:
            if let parsed = try? JSONParser.parse(text) { return parsed }
            return .string(string(text))
        case PGType.bytea:
            return .string(hexBytea(text))
        default:
            if let element = PGType.elementType(ofArray: oid) {
                return PGArrayLiteral.parse(text, element: element) ?? .string(string(text))
            }
            return .string(string(text))
        }
    }

    static func string(_ text: UnsafeBufferPointer<UInt8>) -> String { String(decoding: text, as: UTF8.self) }

    static func decodeFloat(_ text: UnsafeBufferPointer<UInt8>) -> JSONValue {
        let first = text.first ?? 0
        // "NaN", "Infinity", "-Infinity" have no JSON number form.
        if first == UInt8(ascii: "N") || first == UInt8(ascii: "I") || (first == UInt8(ascii: "-") && text.count > 1 && text[1] == UInt8(ascii: "I")) {
            return .string(string(text))
        }
        let value = withUnsafeTemporaryAllocation(of: CChar.self, capacity: text.count + 1) { buffer -> Double in
            for i in 0..<text.count { buffer[i] = CChar(bitPattern: text[i]) }
            buffer[text.count] = 0
            return strtod(buffer.baseAddress!, nil)
        }
        return .double(value)
    }

    /// `\x…` hex text whatever the server's `bytea_output`: escape-format text is converted.
    static func hexBytea(_ text: UnsafeBufferPointer<UInt8>) -> String {
        if text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x") { return string(text) }
        var raw = Array(text)
        raw.append(0)
        var length = 0
        guard let bytes = raw.withUnsafeBufferPointer({ PQunescapeBytea($0.baseAddress!, &length) }) else {
            return string(text)
        }
        defer { PQfreemem(bytes) }
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        out.reserveCapacity(2 + 2 * length)
        for i in 0..<length {
            out.append(digits[Int(bytes[i] >> 4)])
            out.append(digits[Int(bytes[i] & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
