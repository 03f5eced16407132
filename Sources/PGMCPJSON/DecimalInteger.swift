/// Parses an optionally signed run of ASCII digits (`-123`) into an `Int64`, with overflow checks.
/// Shared by the JSON parser and PostgreSQL's integer columns, which print the same way.
public enum DecimalInteger {
    /// `nil` for an empty text, a non-digit, or a value outside `Int64`.
    public static func parse(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard !text.isEmpty else { return nil }
        var index = 0
        let negative = text[0] == UInt8(ascii: "-")
        if negative { index = 1 }
        guard index < text.count else { return nil }
        var value: Int64 = 0
        while index < text.count {
            let byte = text[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let digit = Int64(byte - UInt8(ascii: "0"))
            let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            if o1 || o2 { return nil }
            value = next
            index += 1
        }
        return value
    }
}
