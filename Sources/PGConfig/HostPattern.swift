/// A host that dynamic connections may reach: an exact name (`db.example.com`), a suffix
/// pattern (`*.internal.example`, which does not match `internal.example` itself), or an
/// IPv4/IPv6 range in CIDR form (`10.0.0.0/8`, `fd00::/8`) or a single address.
public struct HostPattern: Sendable, Equatable, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        case exact(String)
        case suffix(String)
        case range(address: [UInt8], prefixLength: Int)
    }

    let kind: Kind
    public let description: String

    public init?(_ text: String) {
        let lowered = text.lowercased()
        description = text
        if let slash = lowered.firstIndex(of: "/") {
            guard let address = IPAddress.parse(String(lowered[..<slash])),
                let bits = Int(lowered[lowered.index(after: slash)...]), (0...(address.count * 8)).contains(bits)
            else { return nil }
            kind = .range(address: address, prefixLength: bits)
        } else if let address = IPAddress.parse(lowered) {
            kind = .range(address: address, prefixLength: address.count * 8)
        } else if lowered.hasPrefix("*.") {
            let suffix = String(lowered.dropFirst(1))
            guard Self.isHostName(String(suffix.dropFirst())) else { return nil }
            kind = .suffix(suffix)
        } else {
            guard Self.isHostName(lowered) else { return nil }
            kind = .exact(lowered)
        }
    }

    /// Whether `host` (a name or an address literal) is allowed by this pattern.
    public func matches(_ host: String) -> Bool {
        let host = host.lowercased()
        switch kind {
        case .exact(let name): return host == name
        case .suffix(let suffix): return host.hasSuffix(suffix) && host.count > suffix.count
        case .range:
            guard let address = IPAddress.parse(host) else { return false }
            return matches(address: address)
        }
    }

    /// Whether the pattern is an address or a CIDR range (matched against addresses), not a name
    /// or a `*.` suffix (matched against names): a name that an address pattern does not allow
    /// may still be allowed through the addresses it resolves to, and the other way round.
    public var isAddressRange: Bool {
        if case .range = kind { return true }
        return false
    }

    /// Whether `address` (4 or 16 bytes, as `IPAddress.parse` gives) lies in this address range;
    /// false for a name pattern, and for an address of the other family.
    public func matches(address: [UInt8]) -> Bool {
        switch kind {
        case .exact, .suffix: return false
        case .range(let network, let bits):
            guard address.count == network.count else { return false }
            var remaining = bits
            for (a, n) in zip(address, network) where remaining > 0 {
                let take = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - take))
                if a & mask != n & mask { return false }
                remaining -= take
            }
            return true
        }
    }
}

extension HostPattern {
    /// Whether `text` is a DNS host name as the allow-list reads one: dot-separated labels of
    /// letters, digits, `-` and `_`, none empty (so no trailing dot), at most 253 characters.
    public static func isHostName(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 253 else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
                && label.first != "-" && label.last != "-"
        }
    }
}
