import PGConfig

/// A `Host` header's value, `host[:port]` (IPv6 in brackets), parsed strictly: anything a browser
/// would not send for a real host — userinfo, a path, percent-encoding, an empty host, a port out
/// of 1–65535, a trailing dot, spaces — does not parse, so it can match nothing.
struct HostAndPort: Hashable, Sendable {
    enum Host: Hashable, Sendable {
        /// A DNS name, lowercased: letters, digits, `-`, `_`, dot-separated non-empty labels.
        case name(String)
        case ipv4([UInt8])
        case ipv6([UInt8])
    }

    var host: Host
    var port: Int?

    init?(_ text: Substring) {
        var hostText = text
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            guard let address = IPAddress.ipv6(text[text.index(after: text.startIndex)..<close]) else { return nil }
            host = .ipv6(address)
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return nil }
                portText = rest.dropFirst()
            }
        } else {
            if let colon = text.firstIndex(of: ":") {
                hostText = text[..<colon]
                portText = text[text.index(after: colon)...]
            }
            if let address = IPAddress.ipv4(hostText) {
                host = .ipv4(address)
            } else {
                guard Self.isName(hostText) else { return nil }
                host = .name(hostText.lowercased())
            }
        }
        if let portText {
            guard (1...5).contains(portText.utf8.count), portText.utf8.allSatisfy({ (48...57).contains($0) }),
                let value = Int(portText), (1...65535).contains(value)
            else { return nil }
            port = value
        }
    }

    var isLoopback: Bool {
        switch host {
        case .name(let name): LoopbackHost.isLocalhostName(Substring(name))
        case .ipv4(let bytes), .ipv6(let bytes): LoopbackHost.isLoopback(bytes)
        }
    }

    /// Dot-separated labels of letters, digits, `-` and `_`: no empty label (so no trailing dot),
    /// nothing percent-encoded, nothing beyond ASCII. An all-numeric name that is not a strict
    /// dotted quad (`127.1`, `2130706433`) parses as a name and so is never loopback.
    static func isName(_ text: Substring) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        return text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.count)
                && label.allSatisfy { byte in
                    let lower = byte | 0x20
                    return (97...122).contains(lower) || (48...57).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                }
        }
    }
}

/// An `Origin` header's value as RFC 6454 serializes it, `scheme://host[:port]` and nothing else,
/// compared as (scheme, host, port) with the scheme's default port filled in: so
/// `HTTPS://App.Example:443` and `https://app.example` are the same origin, and
/// `http://127.0.0.1@evil.example`, `http://localhost/path` and `null` are no origin at all.
struct WebOrigin: Hashable, Sendable {
    var scheme: String
    var authority: HostAndPort

    init?(_ text: Substring) {
        guard let separator = text.firstRange(of: "://") else { return nil }
        let scheme = text[..<separator.lowerBound]
        guard let first = scheme.utf8.first, (97...122).contains(first | 0x20),
            scheme.utf8.allSatisfy({ (97...122).contains($0 | 0x20) || (48...57).contains($0) || $0 == 43 || $0 == 45 || $0 == 46 })
        else { return nil }
        guard var authority = HostAndPort(text[separator.upperBound...]) else { return nil }
        self.scheme = scheme.lowercased()
        if authority.port == nil { authority.port = Self.defaultPorts[self.scheme] }
        self.authority = authority
    }

    static let defaultPorts = ["http": 80, "https": 443]

    /// A page served from this machine's loopback interface, over http or https.
    var isLoopback: Bool { (scheme == "http" || scheme == "https") && authority.isLoopback }
}
