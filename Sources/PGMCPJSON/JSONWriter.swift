/// Serialises JSON values into UTF-8 bytes, compactly, with keys in their stored order.
///
/// Non-ASCII text is written as UTF-8 (not `\u` escapes), which keeps results small;
/// NaN and infinities have no JSON form and are written as strings, as the contract maps them.
public struct JSONWriter {
    public private(set) var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: writeRaw("null")
        case .bool(let b): writeRaw(b ? "true" : "false")
        case .int(let i): writeInteger(i)
        case .double(let d): writeDouble(d)
        case .string(let s): writeString(s)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                write(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            bytes.append(UInt8(ascii: "{"))
            for (i, member) in object.members.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                writeString(member.key)
                bytes.append(UInt8(ascii: ":"))
                write(member.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    public mutating func writeRaw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends bytes that are already valid JSON (a pre-encoded fragment).
    public mutating func writeRaw(_ fragment: some Sequence<UInt8>) {
        bytes.append(contentsOf: fragment)
    }

    /// Digits written in place, least significant first and then reversed: no `String` per number
    /// (every result has a few, and a table of integers has one per cell).
    public mutating func writeInteger(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = bytes.count
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        bytes[start...].reverse()
    }

    public mutating func writeDouble(_ value: Double) {
        if !value.isFinite { writeRaw(Self.nonFiniteText(value)); return }
        if let whole = Self.wholeNumber(value) {
            writeInteger(whole)
            return
        }
        bytes.append(contentsOf: value.description.utf8)
    }

    /// A whole number prints without a trailing ".0" so 2.0 reads as 2, as JSON peers expect.
    static func wholeNumber(_ value: Double) -> Int64? {
        value == value.rounded(.towardZero) && abs(value) < 1e15 ? Int64(value) : nil
    }

    /// What `writeDouble` writes for a value JSON has no number for: its name, as a string.
    static func nonFiniteText(_ value: Double) -> StaticString {
        value.isNaN ? "\"NaN\"" : value < 0 ? "\"-Infinity\"" : "\"Infinity\""
    }

    public mutating func writeString(_ string: String) {
        var string = string
        string.withUTF8 { writeString(utf8: $0) }
    }

    /// Writes UTF-8 text as a JSON string (quoted, escaped).
    public mutating func writeString(utf8: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        writeStringContents(utf8: utf8)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes UTF-8 text escaped as inside a JSON string, without the quotes: a string written in
    /// pieces (between `writeRaw("\"")`s) without first joining them.
    public mutating func writeStringContents(utf8: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        for i in 0..<utf8.count {
            let byte = utf8[i]
            guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
            runStart = i + 1
            switch byte {
            case 0x22: writeRaw("\\\"")
            case 0x5C: writeRaw("\\\\")
            case 0x0A: writeRaw("\\n")
            case 0x0D: writeRaw("\\r")
            case 0x09: writeRaw("\\t")
            case 0x08: writeRaw("\\b")
            case 0x0C: writeRaw("\\f")
            default:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            }
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
    }
}

extension JSONValue {
    /// Compact UTF-8 JSON text.
    public func serialized() -> [UInt8] {
        var writer = JSONWriter()
        writer.write(self)
        return writer.bytes
    }

    /// Compact JSON text as a `String`.
    public var jsonText: String { String(decoding: serialized(), as: UTF8.self) }
}
