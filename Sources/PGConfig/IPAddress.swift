/// IP addresses as text, parsed strictly: one reading that every resolver, browser and libpq agree
/// on, so that an allow-list (`HostPattern`) or a loopback check (`LoopbackHost`) cannot be passed
/// by a spelling another parser reads differently (`0177.0.0.1`, `127.1`, `0x7f.0.0.1`).
public enum IPAddress {
    /// IPv4 (4 bytes) or IPv6 (16 bytes), bare or (IPv6) in brackets; `nil` for anything else.
    public static func parse(_ text: String) -> [UInt8]? {
        var text = Substring(text)
        if text.hasPrefix("["), text.hasSuffix("]") {
            text = text.dropFirst().dropLast()
            return text.utf8.contains(UInt8(ascii: ":")) ? ipv6(text) : nil
        }
        return text.utf8.contains(UInt8(ascii: ":")) ? ipv6(text) : ipv4(text)
    }

    /// Exactly four decimal octets 0–255, no signs, no leading zeros; `nil` for anything else.
    /// One pass over the bytes: a `Host` header goes through here on every request.
    public static func ipv4(_ text: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4)
        var value = 0
        var digits = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, bytes.count < 3 else { return nil }
                bytes.append(UInt8(value))
                value = 0
                digits = 0
                continue
            }
            // At most three digits, and no second digit after a leading zero ("01").
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 3, digits == 0 || value > 0 else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            digits += 1
            guard value <= 255 else { return nil }
        }
        guard digits > 0, bytes.count == 3 else { return nil }
        bytes.append(UInt8(value))
        return bytes
    }

    /// An IPv6 address (RFC 4291 text: eight groups of 1–4 hex digits, one `::` at most, an
    /// IPv4 tail allowed) as 16 bytes; `nil` for anything else, zone ids included.
    public static func ipv6(_ text: Substring) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        var doubleColon: Int?
        var index = 0
        while index + 1 < utf8.count {
            if utf8[index] == UInt8(ascii: ":") && utf8[index + 1] == UInt8(ascii: ":") {
                guard doubleColon == nil else { return nil }
                doubleColon = index
            }
            index += 1
        }
        func groups(_ part: ArraySlice<UInt8>, allowIPv4Tail: Bool) -> [UInt8]? {
            if part.isEmpty { return [] }
            var bytes: [UInt8] = []
            let pieces = part.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            for (position, piece) in pieces.enumerated() {
                if allowIPv4Tail, position == pieces.count - 1, piece.contains(UInt8(ascii: ".")) {
                    guard let v4 = ipv4(Substring(decoding: piece, as: UTF8.self)) else { return nil }
                    bytes += v4
                    continue
                }
                guard (1...4).contains(piece.count), piece.allSatisfy(\.isHexDigit) else { return nil }
                let value = piece.reduce(0) { $0 << 4 | UInt16($1.hexValue) }
                bytes += [UInt8(value >> 8), UInt8(value & 0xFF)]
            }
            return bytes
        }
        guard let doubleColon else {
            guard let all = groups(utf8[...], allowIPv4Tail: true), all.count == 16 else { return nil }
            return all
        }
        guard let head = groups(utf8[..<doubleColon], allowIPv4Tail: false),
            let tail = groups(utf8[(doubleColon + 2)...], allowIPv4Tail: true), head.count + tail.count <= 14
        else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self | 0x20)
    }

    fileprivate var hexValue: UInt16 {
        self <= UInt8(ascii: "9") ? UInt16(self - UInt8(ascii: "0")) : UInt16((self | 0x20) - UInt8(ascii: "a") + 10)
    }
}
