import CLibPQ

/// A connection string read the way libpq reads it, to know where its secrets are before any
/// message about it is made.
///
/// libpq's parse errors quote the text they stumble on (`invalid percent-encoded token: "…"`), and
/// that text may be a piece of a password — searching the message for the password misses a piece.
/// So nothing libpq says about the string itself is shown: a message is made from a copy in which
/// every span that may hold a secret is replaced, found by the grammar, not by its text:
/// - the value of every secret keyword (`password`, `sslpassword`: those `PQconndefaults` marks
///   `*`), in the URL's user-information part or as a parameter — running on, as a person meant
///   it, over what libpq would read as more words or parameters;
/// - text whose role is unknown: a word where a keyword belongs, a query parameter without `=`,
///   the value of an unknown keyword, a keyword that is no identifier (`jdbc:postgresql://…?user`).
///
/// A secret written so that libpq would cut it short or split it (a space in an unquoted value,
/// `&` in a URL parameter, a second `@` or a `/` in a URL's password) is refused before libpq sees
/// the string: libpq would otherwise read part of it as a host, a port or a database name, which
/// every listing shows and every connection error quotes.
struct ConninfoText {
    /// What a masked span becomes in the copy libpq reads: a plain word, so the copy keeps the
    /// original's syntax, and its error, at the same place. Shown as `•••`.
    static let placeholder = "pgmcp_masked"

    private let bytes: [UInt8]
    /// `postgresql://…` or `postgres://…`, as libpq decides: the designator at the very start.
    let isURI: Bool
    /// Byte ranges replaced by `placeholder` in the copy libpq reads.
    private(set) var masked: [Range<Int>] = []
    /// What is wrong, found from the structure alone and said without quoting the text.
    private(set) var problem: String?

    init(_ text: String) {
        bytes = Array(text.utf8)
        let prefix = ["postgresql://", "postgres://"].first { text.utf8.starts(with: $0.utf8) }
        isURI = prefix != nil
        if bytes.contains(0) {
            problem = "it holds a NUL character (\\u0000), which libpq would cut it at; remove it"
        } else if let prefix {
            scanURI(from: prefix.utf8.count)
        } else {
            scanKeywordValue()
        }
    }

    /// Why libpq refuses the string: the structural problem, or libpq's own words about the masked
    /// copy, which hold no text of a secret.
    func reason() -> String {
        if let problem { return problem }
        var error: UnsafeMutablePointer<CChar>? = nil
        if let options = PQconninfoParse(maskedText(), &error) {
            PQconninfoFree(options)
            return "libpq cannot read it (its message is not shown: it could quote part of a password)"
        }
        var reason = "out of memory"
        if let error {
            reason = String(cString: error).trimmingTrailingNewlines().replacingOccurrences(of: Self.placeholder, with: "•••")
            PQfreemem(error)
        }
        if !isURI, bytes.starts(with: Array("jdbc:".utf8)) || containsSubsequence(Array("://".utf8)) {
            reason += " (a URL must begin with postgresql:// or postgres://)"
        }
        return reason
    }

    /// The string with every masked span replaced by `placeholder`.
    func maskedText() -> String {
        var out: [UInt8] = []
        var position = 0
        for span in masked.sorted(by: { $0.lowerBound < $1.lowerBound }) where span.lowerBound >= position {
            out += bytes[position..<span.lowerBound]
            out += Array(Self.placeholder.utf8)
            position = span.upperBound
        }
        out += bytes[position...]
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - URI: postgresql://[user[:password]@][host][:port][,…][/dbname][?key=value&…]

    private mutating func scanURI(from start: Int) {
        // libpq reads user information up to the first '@', if no '/' comes before it. Any other
        // '@' is then part of a host, a database name or a parameter: a password that held '@' or
        // '/' spilling there, which listings and connection errors would show.
        let ats = bytes.indices.filter { $0 >= start && bytes[$0] == ascii("@") }
        let firstSlash = bytes[start...].firstIndex(of: ascii("/"))
        var userinfoEnd: Int?
        if let at = ats.first, firstSlash.map({ at < $0 }) ?? true { userinfoEnd = at }
        if ats.count > (userinfoEnd == nil ? 0 : 1) {
            problem =
                "an '@' may appear in a URL only once, ending the user name and password before the host; "
                + "write '@' and '/' in a user name or password as %40 and %2F, and any other '@' as %40"
            return
        }
        var cursor = start
        if let at = userinfoEnd {
            if let colon = bytes[start..<at].firstIndex(of: ascii(":")), colon + 1 < at {
                let password = (colon + 1)..<at
                masked.append(password)
                if !Self.isPercentEncoded(bytes[password]) {
                    problem = "the password is not valid URL text: a '%' must begin a %XX escape (write '%' itself as %25), and %00 is not allowed"
                    return
                }
            }
            cursor = at + 1
        }
        guard let question = bytes[cursor...].firstIndex(of: ascii("?")) else { return }
        scanQuery(from: question + 1)
    }

    private mutating func scanQuery(from start: Int) {
        var pieces: [Range<Int>] = []
        var pieceStart = start
        for index in start..<bytes.count where bytes[index] == ascii("&") {
            pieces.append(pieceStart..<index)
            pieceStart = index + 1
        }
        pieces.append(pieceStart..<bytes.count)
        var index = 0
        while index < pieces.count {
            let piece = pieces[index]
            index += 1
            guard let equals = bytes[piece].firstIndex(of: ascii("=")) else {
                mask(piece)  // no '=': libpq quotes it whole, and what it is nobody knows
                continue
            }
            let key = Self.percentDecoded(bytes[piece.lowerBound..<equals])
            if let key, PGConnectionParameters.secretKeywords.contains(key) {
                // The value runs on over parameters that are not `known=…`: '&' in the secret.
                var end = piece.upperBound
                while index < pieces.count, !startsKnownParameter(pieces[index]) {
                    end = pieces[index].upperBound
                    index += 1
                }
                let value = (equals + 1)..<end
                mask(value)
                if end != piece.upperBound || bytes[value].contains(ascii("=")) || !Self.isPercentEncoded(bytes[value]) {
                    problem =
                        "the \(key) parameter is not valid URL text, or is followed by a parameter libpq does not know: "
                        + "write '&' in it as %26, '=' as %3D and '%' as %25"
                    return
                }
            } else if let key, PGConnectionParameters.knownKeywords.contains(key) || key == "ssl" {
                continue
            } else {
                if !Self.isIdentifier(bytes[piece.lowerBound..<equals]) { mask(piece.lowerBound..<equals) }
                mask((equals + 1)..<piece.upperBound)
            }
        }
    }

    /// `key=…` with a key libpq knows.
    private func startsKnownParameter(_ piece: Range<Int>) -> Bool {
        guard let equals = bytes[piece].firstIndex(of: ascii("=")), let key = Self.percentDecoded(bytes[piece.lowerBound..<equals]) else {
            return false
        }
        return PGConnectionParameters.knownKeywords.contains(key) || key == "ssl"
    }

    // MARK: - keyword = value …, as libpq's conninfo_parse reads it

    private mutating func scanKeywordValue() {
        let count = bytes.count
        var index = 0
        while index < count {
            if Self.isSpace(bytes[index]) {
                index += 1
                continue
            }
            let keyStart = index
            while index < count, bytes[index] != ascii("="), !Self.isSpace(bytes[index]) { index += 1 }
            let keyEnd = index
            while index < count, Self.isSpace(bytes[index]) { index += 1 }
            let keyword = String(decoding: bytes[keyStart..<keyEnd], as: UTF8.self)
            guard index < count, bytes[index] == ascii("=") else {
                // libpq stops here (missing "=" after the word) and quotes the word: a word alone may be anything.
                if !PGConnectionParameters.knownKeywords.contains(keyword) { mask(keyStart..<keyEnd) }
                mask(index..<count)
                return
            }
            index += 1
            while index < count, Self.isSpace(bytes[index]) { index += 1 }
            let valueStart = index
            var closed = true
            if index < count, bytes[index] == ascii("'") {
                closed = false
                index += 1
                while index < count {
                    if bytes[index] == ascii("\\") {
                        index += 2
                    } else if bytes[index] == ascii("'") {
                        index += 1
                        closed = true
                        break
                    } else {
                        index += 1
                    }
                }
                index = min(index, count)
            } else {
                while index < count, !Self.isSpace(bytes[index]) { index += bytes[index] == ascii("\\") ? 2 : 1 }
                index = min(index, count)
            }
            let valueEnd = index
            if PGConnectionParameters.secretKeywords.contains(keyword) {
                // The value runs on over words that are not `known=…`: a space or quote in the secret.
                var end = valueEnd
                while true {
                    var next = end
                    while next < count, Self.isSpace(bytes[next]) { next += 1 }
                    guard next < count, !startsKnownPair(at: next) else { break }
                    while next < count, !Self.isSpace(bytes[next]) { next += 1 }
                    end = next
                }
                mask(valueStart..<end)
                if !closed {
                    problem = "the \(keyword)'s opening quote is never closed: write it as \(keyword)='…', with ' and \\ inside written \\' and \\\\"
                    return
                }
                if end != valueEnd {
                    problem =
                        "the \(keyword) is followed by text that is no keyword=value libpq knows: if the \(keyword) holds a space or a quote, "
                        + "write it as \(keyword)='…', with ' and \\ inside written \\' and \\\\; else check the keywords after it"
                    return
                }
                index = end
            } else if !PGConnectionParameters.knownKeywords.contains(keyword) {
                if !Self.isIdentifier(bytes[keyStart..<keyEnd]) { mask(keyStart..<keyEnd) }
                mask(valueStart..<valueEnd)
            }
            if !closed {
                mask(valueStart..<count)
                return
            }
        }
    }

    /// `keyword =` at `start`, with a keyword libpq knows.
    private func startsKnownPair(at start: Int) -> Bool {
        var index = start
        while index < bytes.count, bytes[index] != ascii("="), !Self.isSpace(bytes[index]) { index += 1 }
        let keyword = String(decoding: bytes[start..<index], as: UTF8.self)
        while index < bytes.count, Self.isSpace(bytes[index]) { index += 1 }
        return index < bytes.count && bytes[index] == ascii("=") && PGConnectionParameters.knownKeywords.contains(keyword)
    }

    // MARK: - helpers

    private mutating func mask(_ span: Range<Int>) {
        if !span.isEmpty { masked.append(span) }
    }

    private func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard bytes.count >= needle.count else { return false }
        return (0...(bytes.count - needle.count)).contains { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}

/// A character's byte, for the byte-level scanners of connection strings.
func ascii(_ character: Unicode.Scalar) -> UInt8 { UInt8(ascii: character) }
