/// Sizes of JSON text computed without writing it, and cutting text to fit a byte cap: what every
/// layer that holds output to `PGMCP_MAX_RESULT_BYTES` (results, errors) needs, beside the writer
/// whose escaping rules they follow.
extension JSONValue {
    /// The length of `serialized()`, computed without building it.
    public var serializedSize: Int {
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

    public static func serializedLength(of number: JSONValue) -> Int {
        switch number {
        case .int(let value):
            return decimalLength(value)
        case .double(let value):
            // As `JSONWriter.writeDouble` writes it, measured without a writer (an allocation on
            // every result with a fraction: `elapsedMs`).
            if !value.isFinite { return JSONWriter.nonFiniteText(value).utf8CodeUnitCount }
            if let whole = JSONWriter.wholeNumber(value) { return decimalLength(whole) }
            return value.description.utf8.count
        default:
            // Not a number.
            return number.serializedSize
        }
    }

    /// The length of an integer in decimal, its sign included.
    static func decimalLength(_ value: Int64) -> Int {
        var length = value < 0 ? 2 : 1
        var magnitude = value.magnitude
        while magnitude >= 10 {
            magnitude /= 10
            length += 1
        }
        return length
    }

    public static func quotedLength(_ text: String) -> Int {
        var length = 2
        for byte in text.utf8 { length += escapedLength(byte) }
        return length
    }

    /// What one byte of a string takes in JSON: `\"`, `\n`… take two, other controls six (`\u001f`).
    public static func escapedLength(_ byte: UInt8) -> Int {
        switch byte {
        case 0x22, 0x5C, 0x0A, 0x0D, 0x09, 0x08, 0x0C: 2
        case 0..<0x20: 6
        default: 1
        }
    }

    /// Every string inside cut to at most `length` bytes of JSON text (its quotes not counted), each
    /// with a marker saying how much was cut: for results and error data held to a byte cap.
    public func cuttingStrings(to length: Int) -> JSONValue {
        switch self {
        case .string(let text): .string(text.cut(toSerializedBytes: length + 2))
        case .array(let items): .array(items.map { $0.cuttingStrings(to: length) })
        case .object(let object): .object(JSONObject(object.members.map { ($0.key, $0.value.cuttingStrings(to: length)) }))
        default: self
        }
    }
}

extension String {
    /// The text cut so that its JSON form (quotes and escapes included) takes at most `bytes`,
    /// ending in a marker that says how many bytes were cut; the text itself when it already fits.
    /// Cuts fall between Unicode scalars, so what is kept is valid text.
    public func cut(toSerializedBytes bytes: Int) -> String {
        // Longer in UTF-8 than the room: cannot fit, and need not be scanned whole (a 500 MB value
        // is cut in time proportional to what is kept, not to its length).
        if utf8.count + 2 <= bytes, JSONValue.quotedLength(self) <= bytes { return self }
        let total = utf8.count
        // The marker's number is at most the whole length: room for that many digits is kept.
        let room = bytes - 2 - Self.marker(cut: total).utf8.count
        guard room >= 0 else { return bytes >= 5 ? "…" : "" }
        var used = 0
        var kept = 0
        for scalar in unicodeScalars {
            let width = UTF8.width(scalar)
            let size = scalar.isASCII ? JSONValue.escapedLength(UInt8(scalar.value)) : width
            if used + size > room { break }
            used += size
            kept += width
        }
        return String(decoding: utf8.prefix(kept), as: UTF8.self) + Self.marker(cut: total - kept)
    }

    private static func marker(cut bytes: Int) -> String { "…[\(bytes) more bytes cut]" }
}
