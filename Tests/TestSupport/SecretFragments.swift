import PGMCPJSON

/// Passwords that hold every character with a meaning in a URL, a key=value connection string or
/// JSON, and a way to tell whether any piece of one got out.
public enum SecretFragments {
    /// Characters that mean something to libpq's URL or key=value grammar, to JSON, or to a terminal.
    public static let specials = [
        "\"", "'", "\\", "%", "@", ":", "/", "?", "#", "&", "=", " ", "\n", "\t", ",", "[", "]", "é", "€", "%22", "%zz", "%00", "%4",
    ]

    /// One password per special character (twice, between letters, so every piece of it is
    /// recognisable), and one holding all of them.
    public static var passwords: [String] {
        specials.map { "Leak1\($0)Tail2\($0)Zed3" } + ["Leak1\(specials.joined())Tail2\(specials.reversed().joined())Zed3"]
    }

    /// `text` with every run of exactly 32 lowercase hex digits (a result fence's nonce, drawn at
    /// random per call) replaced by `<nonce>`: a random nonce holds a 4-digit piece of a password
    /// like `%2522` now and then, which is no leak.
    public static func withoutNonces(_ text: String) -> String {
        let bytes = Array(text.utf8)
        let isHex = { (byte: UInt8) in (48...57).contains(byte) || (97...102).contains(byte) }
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            var end = index
            while end < bytes.count, isHex(bytes[end]) { end += 1 }
            if end - index == 32 {
                out += Array("<nonce>".utf8)
            } else {
                out += bytes[index..<max(end, index + 1)]
            }
            index = max(end, index + 1)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `text` as a JSON string's contents (escaped by the project's own JSON writer, quotes left
    /// off), for writing hostile passwords into configuration JSON by hand.
    public static func jsonContents(_ text: String) -> String {
        String(JSONValue.string(text).jsonText.dropFirst().dropLast())
    }

    /// Every `length`-character piece of `secret` (and of `written`, the secret as the text spelled
    /// it, e.g. percent-encoded) that occurs in `output` but not in `context`, the text around it.
    public static func leaked(_ secret: String, written: String? = nil, in output: String, context: String, length: Int = 4) -> [String] {
        var found: Set<String> = []
        for text in [secret, written ?? secret] {
            let characters = Array(text)
            guard characters.count >= length else { continue }
            for start in 0...(characters.count - length) {
                let piece = String(characters[start..<(start + length)])
                if output.contains(piece) && !context.contains(piece) { found.insert(piece) }
            }
        }
        return found.sorted()
    }

    /// `text` percent-encoded for a URL: every byte but letters, digits and `-._~`.
    public static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let unreserved = (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || "-._~".utf8.contains(byte)
            out += unreserved ? String(UnicodeScalar(byte)) : "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
        }
        return out
    }

    /// `text` as a single-quoted key=value value: `'` and `\` escaped with `\`.
    public static func quoted(_ text: String) -> String {
        "'" + text.replacingAll("\\", with: "\\\\").replacingAll("'", with: "\\'") + "'"
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }

    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
