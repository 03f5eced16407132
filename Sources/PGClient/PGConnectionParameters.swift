import CLibPQ

/// libpq connection parameters (keyword/value pairs), parsed and checked by libpq itself.
///
/// The password lives here in clear because libpq needs it, but nothing this type prints shows it:
/// `description` and `maskedTarget` write `•••`, and `redact(_:)` scrubs it from any message.
public struct PGConnectionParameters: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public private(set) var pairs: [(keyword: String, value: String)]

    public init() { pairs = [] }

    /// Parses any libpq connection string (`host=… dbname=…`) or URI (`postgresql://…`).
    /// Errors never echo the input: quoted fragments of libpq's message are masked.
    public init(conninfo: String) throws(PGError) {
        var errorMessage: UnsafeMutablePointer<CChar>? = nil
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            var reason = "out of memory"
            if let errorMessage {
                reason = Self.maskQuotedFragments(String(cString: errorMessage))
                PQfreemem(errorMessage)
            }
            throw PGError(kind: .invalidParameters, message: "invalid connection string: \(reason)")
        }
        defer { PQconninfoFree(options) }
        var parsed: [(keyword: String, value: String)] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                parsed.append((keyword: String(cString: keyword), value: String(cString: value)))
            }
            option += 1
        }
        pairs = parsed
    }

    public subscript(keyword: String) -> String? {
        get { pairs.last(where: { $0.keyword == keyword })?.value }
        set {
            pairs.removeAll { $0.keyword == keyword }
            if let newValue { pairs.append((keyword: keyword, value: newValue)) }
        }
    }

    public var host: String? { self["host"] ?? self["hostaddr"] }
    public var port: String? { self["port"] }
    public var database: String? { self["dbname"] }
    public var user: String? { self["user"] }

    /// `postgresql://user:•••@host:port/dbname?sslmode=…`: what to show a person.
    public var maskedTarget: String {
        var text = "postgresql://"
        if let user { text += user }
        if self["password"] != nil { text += ":•••" }
        if user != nil || self["password"] != nil { text += "@" }
        text += host ?? "localhost"
        if let port { text += ":\(port)" }
        text += "/" + (database ?? "")
        if let sslmode = self["sslmode"] { text += "?sslmode=\(sslmode)" }
        return text
    }

    public var description: String {
        pairs.map { $0.keyword == "password" ? "password=•••" : "\($0.keyword)=\($0.value)" }.joined(separator: " ")
    }

    public var debugDescription: String { description }

    /// Replaces the password, wherever it appears in `message`, with `•••`.
    /// Defence in depth: libpq does not echo passwords, but a server or proxy message might.
    public func redact(_ message: String) -> String {
        guard let password = self["password"], password.count >= 3 else { return message }
        return message.replacingOccurrences(of: password, with: "•••")
    }

    /// libpq's parse errors quote parts of the input (`missing "=" after "s3cret"`), which may be a
    /// password. Keyword names are kept, since they help; every other quoted fragment is masked.
    static func maskQuotedFragments(_ message: String) -> String {
        let parts = message.split(separator: "\"", omittingEmptySubsequences: false)
        guard parts.count > 2 else { return message.trimmingTrailingNewlines() }
        var out = ""
        for (index, part) in parts.enumerated() {
            if index > 0 { out += "\"" }
            let insideQuotes = index % 2 == 1 && index < parts.count - 1
            if insideQuotes && !(knownKeywords.contains(String(part)) || part.count <= 1) {
                out += "•••"
            } else {
                out += part
            }
        }
        return out.trimmingTrailingNewlines()
    }

    /// Every keyword this libpq knows, from `PQconndefaults`.
    static let knownKeywords: Set<String> = {
        guard let defaults = PQconndefaults() else { return [] }
        defer { PQconninfoFree(defaults) }
        var names: Set<String> = []
        var option = defaults
        while let keyword = option.pointee.keyword {
            names.insert(String(cString: keyword))
            option += 1
        }
        return names
    }()
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var text = self
        while let last = text.last, last.isNewline || last == " " { text.removeLast() }
        return text
    }

    /// `replacing(_:with:)` without Foundation.
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        return self.split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
