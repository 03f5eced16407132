/// An opaque, unguessable work-session handle: 256 bits from the system's cryptographic RNG
/// (`getrandom` on Linux), base64url-encoded. What the registry keys sessions on; never an HTTP
/// header directly.
public struct SessionHandle: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// A fresh random handle, `<replica>.<random>` when `replica` is given: a router in front of
    /// several pgmcp processes sends a handle's calls to the replica that holds its session by
    /// that prefix (issue 13's sticky routing). The random part is as strong either way.
    public static func random(replica: String?) -> SessionHandle {
        let handle = random()
        guard let replica else { return handle }
        return SessionHandle(rawValue: replica + "." + handle.rawValue)
    }

    /// A fresh random handle.
    public static func random() -> SessionHandle {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for _ in 0..<4 {
            let word = generator.next() as UInt64
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> shift)) }
        }
        return SessionHandle(rawValue: base64URL(bytes))
    }

    public var description: String { rawValue }
}

/// Base64url without padding (RFC 4648 §5): safe in headers, URLs and JSON.
func base64URL(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    var out: [UInt8] = []
    out.reserveCapacity((bytes.count * 4 + 2) / 3)
    var index = 0
    while index + 3 <= bytes.count {
        let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
        out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
        index += 3
    }
    let rest = bytes.count - index
    if rest == 1 {
        let n = UInt32(bytes[index]) << 16
        out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)]]
    } else if rest == 2 {
        let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
        out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)]]
    }
    return String(decoding: out, as: UTF8.self)
}
