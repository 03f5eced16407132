#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A strict RFC 8259 parser over UTF-8 bytes.
///
/// Strict on purpose: no trailing commas, no comments, no control characters in strings, a depth
/// limit so hostile input cannot exhaust the stack, and (optionally) duplicate keys refused: a config
/// file with two `password` keys is a mistake we should name, and a request with two `sql` keys
/// would run the one a body-inspecting proxy did not check (readers disagree on which one wins).
public struct JSONParser {
    public struct Options: Sendable {
        /// Deepest nesting accepted. Defaults to 256.
        public var maxDepth: Int = 256
        /// Refuse an object that names a key twice. Defaults to false (last one wins): PostgreSQL's
        /// `json` type keeps duplicates, and a value read back from it must still parse.
        public var rejectDuplicateKeys: Bool = false
        public init(maxDepth: Int = 256, rejectDuplicateKeys: Bool = false) {
            self.maxDepth = maxDepth
            self.rejectDuplicateKeys = rejectDuplicateKeys
        }

        /// What the transports parse a client's message with: duplicate keys refused.
        public static let request = Options(rejectDuplicateKeys: true)
    }

    public static func parse(_ text: String, options: Options = Options()) throws(JSONParseError) -> JSONValue {
        var copy = text
        let result: Result<JSONValue, JSONParseError> = copy.withUTF8 { buffer in
            Result { () throws(JSONParseError) -> JSONValue in try parse(buffer, options: options) }
        }
        return try result.get()
    }

    public static func parse(_ bytes: [UInt8], options: Options = Options()) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) -> JSONValue in try parse(buffer, options: options) }
        }
        return try result.get()
    }

    public static func parse(
        _ buffer: UnsafeBufferPointer<UInt8>, options: Options = Options()
    ) throws(JSONParseError) -> JSONValue {
        var parser = JSONCursor(bytes: buffer, options: options)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.index < buffer.count { throw parser.error("unexpected text after the JSON value") }
        return value
    }
}

/// The parser's state: where it is in the bytes. Strings are read in `JSONCursor+Strings.swift`.
struct JSONCursor {
    let bytes: UnsafeBufferPointer<UInt8>
    let options: JSONParser.Options
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>, options: JSONParser.Options) {
        self.bytes = bytes
        self.options = options
    }

    /// Past this many members an object's keys are also kept in a set: a linear scan is cheaper for
    /// the small objects of every request, and a hostile 4 MiB object of 300,000 keys must not cost
    /// a quadratic number of comparisons.
    static let linearKeyScanLimit = 16

    func error(_ reason: String, at offset: Int? = nil, duplicateKey: String? = nil) -> JSONParseError {
        let position = min(offset ?? index, bytes.count)
        var line = 1
        var column = 1
        for i in 0..<position {
            if bytes[i] == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if bytes[i] & 0xC0 != 0x80 {
                column += 1
            }
        }
        return JSONParseError(reason: reason, offset: position, line: line, column: column, duplicateKey: duplicateKey)
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw error("unexpected end of input, expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character '\(Unicode.Scalar(bytes[index]))', expected a value")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        let start = literal.utf8Start
        guard index + count <= bytes.count else { throw error("invalid literal, expected '\(literal)'") }
        for i in 0..<count where bytes[index + i] != start[i] {
            throw error("invalid literal, expected '\(literal)'")
        }
        index += count
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= options.maxDepth else { throw error("nesting deeper than \(options.maxDepth) levels") }
        index += 1  // {
        var object = JSONObject()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(object)
        }
        repeat {
            let (key, keyOffset, value) = try parseMember(depth: depth)
            if object[key] != nil {
                try repeated(key, at: keyOffset, value, in: &object)
            } else {
                object.append(key, value)
                if object.count == Self.linearKeyScanLimit { return try parseLargeObject(object, depth: depth) }
            }
        } while try nextMember()
        return .object(object)
    }

    /// The rest of an object that reached `linearKeyScanLimit` members: its keys kept with their
    /// positions, so that neither finding a key nor replacing a repeated one scans the members.
    mutating func parseLargeObject(_ start: JSONObject, depth: Int) throws(JSONParseError) -> JSONValue {
        var object = start
        var positions = Dictionary(uniqueKeysWithValues: object.keys.enumerated().map { ($1, $0) })
        while try nextMember() {
            let (key, keyOffset, value) = try parseMember(depth: depth)
            if let position = positions[key] {
                try refuseIfDuplicatesAreRefused(key, at: keyOffset)
                object.replaceValue(at: position, with: value)
            } else {
                positions[key] = object.count
                object.append(key, value)
            }
        }
        return .object(object)
    }

    /// `"key": value`, and where the key starts. Inlined: a call per member cost 4% of a request's parse.
    @inline(__always)
    mutating func parseMember(depth: Int) throws(JSONParseError) -> (String, Int, JSONValue) {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string key in an object") }
        let keyOffset = index
        let key = try parseString()
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after an object key") }
        index += 1
        skipWhitespace()
        return (key, keyOffset, try parseValue(depth: depth))
    }

    /// Past a member: true after `,` (another follows), false after the closing `}`.
    @inline(__always)
    mutating func nextMember() throws(JSONParseError) -> Bool {
        skipWhitespace()
        guard index < bytes.count else { throw error("unexpected end of input in an object") }
        index += 1
        switch bytes[index - 1] {
        case UInt8(ascii: ","): return true
        case UInt8(ascii: "}"): return false
        default:
            index -= 1
            throw error("expected ',' or '}' in an object")
        }
    }

    /// A key the object already has: refused, or (by default) its value replaced — the last one wins.
    func repeated(_ key: String, at keyOffset: Int, _ value: JSONValue, in object: inout JSONObject) throws(JSONParseError) {
        try refuseIfDuplicatesAreRefused(key, at: keyOffset)
        object[key] = value
    }

    func refuseIfDuplicatesAreRefused(_ key: String, at keyOffset: Int) throws(JSONParseError) {
        guard options.rejectDuplicateKeys else { return }
        let quoted = JSONParseError.quoted(key)
        throw error("duplicate key \"\(quoted)\"", at: keyOffset, duplicateKey: quoted)
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= options.maxDepth else { throw error("nesting deeper than \(options.maxDepth) levels") }
        index += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input in an array") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            throw error("expected ',' or ']' in an array")
        }
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = index
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number", at: start) }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) { throw error("invalid number: leading zero", at: start) }
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number: digit expected after '.'", at: start) }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number: digit expected in exponent", at: start) }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
        if isInteger, let value = DecimalInteger.parse(slice) { return .int(value) }
        return .double(parseDouble(slice))
    }

    func parseDouble(_ text: UnsafeBufferPointer<UInt8>) -> Double {
        // strtod needs a terminator; numbers are short, so a stack copy is cheap.
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: text.count + 1) { buffer in
            for i in 0..<text.count { buffer[i] = CChar(bitPattern: text[i]) }
            buffer[text.count] = 0
            return strtod(buffer.baseAddress!, nil)
        }
    }

    func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
