/// Whether a host names this machine's loopback interface, decided by parsing the host as an
/// address, never by its prefix: `127.0.0.1.rebind.attacker.example` is a DNS name whose owner
/// points it wherever they like (DNS rebinding), and binding such a name is binding whatever it resolves to.
///
/// Counted, and nothing else:
/// - `localhost`, in any case, without a trailing dot;
/// - IPv4 in 127.0.0.0/8 written as exactly four decimal octets 0–255 without leading zeros
///   (`127.0.0.1`, `127.1.2.3`);
/// - IPv6 `::1` in any valid textual form (`::1`, `0:0:0:0:0:0:0:1`, `::0:1`), bare or in brackets.
///
/// Refused although some resolver or browser reads them as loopback: `127.1`, `0x7f.0.0.1`,
/// `0177.0.0.1`, `127.000.000.001`, `2130706433`, trailing dots (`localhost.`, `127.0.0.1.`),
/// `*.localhost`, IPv6 zone ids, IPv4-mapped `::ffff:127.0.0.1`. Browsers serialize an IP host in
/// its canonical form, so refusing the rest costs a real client nothing, and every spelling counted
/// here means the same address to every parser — there is no differential for an attacker to use.
public enum LoopbackHost {
    /// `host` as written in a URL authority (IPv6 in brackets) or bare (`PGMCP_HOST=::1`).
    public static func contains(_ host: String) -> Bool {
        var text = Substring(host)
        if text.hasPrefix("[") {
            guard text.hasSuffix("]"), text.count >= 2 else { return false }
            text = text.dropFirst().dropLast()
            return ipv6(text) == loopbackIPv6
        }
        if text.contains(":") { return ipv6(text) == loopbackIPv6 }
        if let address = ipv4(text) { return address[0] == 127 }
        return isLocalhostName(text)
    }

    /// `localhost`, ASCII case-insensitively.
    public static func isLocalhostName(_ text: Substring) -> Bool {
        text.utf8.count == 9 && text.utf8.elementsEqual("localhost".utf8) { ($0 | 0x20) == $1 }
    }

    /// Exactly four decimal octets 0–255, no signs, no leading zeros; `nil` for anything else.
    public static func ipv4(_ text: Substring) -> [UInt8]? {
        let parts = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                part.count == 1 || part.first != UInt8(ascii: "0")
            else { return nil }
            let value = part.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            guard value <= 255 else { return nil }
            bytes.append(UInt8(value))
        }
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

    static let loopbackIPv6: [UInt8] = [UInt8](repeating: 0, count: 15) + [1]
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self | 0x20)
    }

    fileprivate var hexValue: UInt16 {
        self <= UInt8(ascii: "9") ? UInt16(self - UInt8(ascii: "0")) : UInt16((self | 0x20) - UInt8(ascii: "a") + 10)
    }
}
