import PGMCPJSON

extension String {
    /// The text cut so that its JSON form (quotes and escapes included) takes at most `bytes`,
    /// ending in a marker that says how many bytes were cut; the text itself when it already fits.
    /// Cuts fall between Unicode scalars, so what is kept is valid text.
    func cut(toSerializedBytes bytes: Int) -> String {
        // Longer in UTF-8 than the room: cannot fit, and need not be scanned whole (a 500 MB value
        // is cut in time proportional to what is kept, not to its length).
        if utf8.count + 2 <= bytes, JSONValue.quotedLength(self) <= bytes { return self }
        let total = utf8.count
        // The marker's number is at most the whole length: room for that many digits is kept.
        let room = bytes - 2 - Self.marker(cut: total).utf8.count
        guard room >= 0 else { return bytes >= 5 ? "…" : "" }
        var used = 0
        var kept = 0
        for scalar in unicodeScalars {
            let width = UTF8.width(scalar)
            let size = scalar.isASCII ? JSONValue.escapedLength(UInt8(scalar.value)) : width
            if used + size > room { break }
            used += size
            kept += width
        }
        return String(decoding: utf8.prefix(kept), as: UTF8.self) + Self.marker(cut: total - kept)
    }

    private static func marker(cut bytes: Int) -> String { "…[\(bytes) more bytes cut]" }
}
