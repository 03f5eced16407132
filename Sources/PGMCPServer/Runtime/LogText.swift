/// Text made safe for one line of a log or one cell of a terminal table.
///
/// Log lines carry text a client chose (`clientInfo.name`, a request path) and text a server or
/// operator wrote (PostgreSQL messages, settings). A newline in any of it would start a forged
/// record (`…\nlevel=critical …`); CR, ESC or U+2028 could overwrite or recolour what a person
/// reads. So every character that could end a line, move the cursor or reorder the text is
/// written as an escape, and a backslash as `\\`, so that every escape in the output is ours.
public enum LogText {
    /// `text` with line breaks and controls escaped: `\n`, `\r`, `\t`, `\\`, and `\u{1B}` for the
    /// rest — C0 controls, DEL, C1 controls (U+0080–U+009F, NEL among them), U+2028 LINE SEPARATOR,
    /// U+2029 PARAGRAPH SEPARATOR and the bidirectional controls (U+061C, U+200E, U+200F,
    /// U+202A–U+202E, U+2066–U+2069). Everything else, non-ASCII letters included, is kept.
    public static func escaped(_ text: String) -> String {
        // Fast path: most log text is plain printable ASCII.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") }) { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            default:
                if needsEscape(scalar) {
                    out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// A `key=value` part of a log line: escaped, and in double quotes (with `"` as `\"`) when it
    /// is empty or holds a space, `=` or `"`, so that a value cannot pose as further pairs
    /// (`client=x level=critical`).
    public static func field(_ text: String) -> String {
        let escaped = escaped(text)
        let plain = !escaped.isEmpty && !escaped.utf8.contains { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "\"") }
        if plain { return escaped }
        return "\"" + escaped.replacingQuotes() + "\""
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x2028, 0x2029: true
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}

extension String {
    fileprivate func replacingQuotes() -> String {
        guard utf8.contains(UInt8(ascii: "\"")) else { return self }
        var out = ""
        for character in unicodeScalars {
            if character == "\"" { out += "\\\"" } else { out.unicodeScalars.append(character) }
        }
        return out
    }
}
