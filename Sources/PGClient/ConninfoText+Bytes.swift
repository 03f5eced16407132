/// The byte classes and percent-decoding the connection-string scanner reads by, as libpq reads them.
extension ConninfoText {
    /// libpq's `isspace` in the C locale.
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`: a word a person wrote as a keyword.
    static func isIdentifier(_ text: ArraySlice<UInt8>) -> Bool {
        guard let first = text.first, !(0x30...0x39).contains(first), text.count <= 64 else { return false }
        return text.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x5F }
    }

    /// Every `%` begins two hex digits, not `%00`: what libpq's URI decoding accepts.
    static func isPercentEncoded(_ text: ArraySlice<UInt8>) -> Bool {
        percentDecodedBytes(text) != nil
    }

    static func percentDecoded(_ text: ArraySlice<UInt8>) -> String? {
        percentDecodedBytes(text).map { String(decoding: $0, as: UTF8.self) }
    }

    private static func percentDecodedBytes(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            guard text[index] == ascii("%") else {
                out.append(text[index])
                index += 1
                continue
            }
            guard index + 2 < text.endIndex, let high = hexValue(text[index + 1]), let low = hexValue(text[index + 2]) else { return nil }
            let byte = high << 4 | low
            if byte == 0 { return nil }
            out.append(byte)
            index += 3
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
