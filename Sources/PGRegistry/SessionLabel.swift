/// A name a client chose for a session (`open_session`'s `label`, `initialize`'s `clientInfo.name`,
/// a 2026-07-28 request's client name). It is kept for the session's life and written to logs, and
/// a client may send megabytes of it: so it is cut on the way in, to `maxCharacters` whole
/// characters and `maxBytes` of UTF-8 (`…` marking a cut), without the characters that could
/// forge or hide log text (controls, format characters such as bidirectional overrides, line and
/// paragraph separators).
enum SessionLabel {
    static let maxCharacters = 64
    static let maxBytes = 256

    /// The label to keep for `text`; nil when nothing printable is left.
    static func cleaned(_ text: String?) -> String? {
        guard let text else { return nil }
        // Fast path: a short printable ASCII name (what real clients send) is kept as it is.
        if text.utf8.count <= maxCharacters, !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
        var kept: [String] = []
        var bytes = 0
        var cut = false
        for character in text {
            var printable = ""
            printable.unicodeScalars.append(contentsOf: character.unicodeScalars.lazy.filter { !isHidden($0) })
            guard !printable.isEmpty else { continue }
            guard kept.count < maxCharacters, bytes + printable.utf8.count <= maxBytes else {
                cut = true
                break
            }
            kept.append(printable)
            bytes += printable.utf8.count
        }
        if cut {
            // Room for the `…` (3 bytes) that marks the cut.
            while let last = kept.last, kept.count > maxCharacters - 1 || bytes > maxBytes - 3 {
                bytes -= last.utf8.count
                kept.removeLast()
            }
            kept.append("…")
        }
        return kept.isEmpty ? nil : kept.joined()
    }

    /// Control (Cc), format (Cf: bidirectional overrides, invisible marks) and line or paragraph
    /// separator (Zl, Zp) characters; but not the zero-width joiners that emoji sequences and some
    /// scripts are written with (U+200C, U+200D).
    static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator: true
        case .format: scalar.value != 0x200C && scalar.value != 0x200D
        default: false
        }
    }
}
