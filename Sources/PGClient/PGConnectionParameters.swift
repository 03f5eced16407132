import CLibPQ

/// libpq connection parameters (keyword/value pairs), parsed and checked by libpq itself.
///
/// The password lives here in clear because libpq needs it, but nothing this type prints shows it:
/// `description` and `maskedTarget` write `•••` for every secret keyword, and an error about a
/// connection string is made without its secrets (`ConninfoText`).
public struct PGConnectionParameters: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public private(set) var pairs: [(keyword: String, value: String)]

    public init() { pairs = [] }

    /// Parses any libpq connection string (`host=… dbname=…`) or URI (`postgresql://…`).
    ///
    /// Errors never hold a piece of a secret: the reason is libpq's message about a copy of the
    /// string with its secrets (and text of unknown role) replaced, or — for a password written so
    /// that libpq would cut or split it — a fixed sentence saying how to write it.
    public init(conninfo: String) throws(PGError) {
        let text = ConninfoText(conninfo)
        if let problem = text.problem {
            throw PGError(kind: .invalidParameters, message: "invalid connection string: \(problem)")
        }
        var errorMessage: UnsafeMutablePointer<CChar>? = nil
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            // libpq's message quotes the string itself: never read it.
            if let errorMessage { PQfreemem(errorMessage) }
            throw PGError(kind: .invalidParameters, message: "invalid connection string: \(text.reason())")
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
        pairs.map { Self.secretKeywords.contains($0.keyword) ? "\($0.keyword)=•••" : "\($0.keyword)=\($0.value)" }.joined(separator: " ")
    }

    public var debugDescription: String { description }

    /// `message`, from libpq or a server about a connection with these parameters, with the
    /// password masked where it stands as a whole quoted value (`"…"`, as libpq and PostgreSQL
    /// quote values) that is no other parameter's value.
    ///
    /// Defence in depth only: libpq and PostgreSQL never quote a password, and every value they
    /// do quote (host, port, user, dbname) is kept apart from it (`init(conninfo:)` refuses a URL
    /// whose password would spill into them). Never a search for the password's text anywhere in
    /// the message, which would mask every `a` of a message for a password `a`, and every user
    /// name `postgres` for a password `postgres` (telling the reader they are the same).
    public func redact(_ message: String) -> String {
        guard let password = self["password"], !password.isEmpty,
            !pairs.contains(where: { $0.keyword != "password" && $0.value == password })
        else { return message }
        return message.replacingOccurrences(of: "\"" + password + "\"", with: "\"•••\"")
    }

    /// Every keyword this libpq knows, from `PQconndefaults`.
    static let knownKeywords: Set<String> = conninfoDefaults.keywords

    /// The keywords whose values are secrets (`password`, `sslpassword`): those `PQconndefaults`
    /// marks for a password field (`dispchar` `*`).
    static let secretKeywords: Set<String> = conninfoDefaults.secrets.union(["password"])

    private static let conninfoDefaults: (keywords: Set<String>, secrets: Set<String>) = {
        guard let defaults = PQconndefaults() else { return ([], []) }
        defer { PQconninfoFree(defaults) }
        var names: Set<String> = []
        var secrets: Set<String> = []
        var option = defaults
        while let keyword = option.pointee.keyword {
            names.insert(String(cString: keyword))
            if let display = option.pointee.dispchar, String(cString: display).contains("*") { secrets.insert(String(cString: keyword)) }
            option += 1
        }
        return (names, secrets)
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
