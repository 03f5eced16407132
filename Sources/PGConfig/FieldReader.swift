import PGMCPJSON

/// Reads typed fields out of a JSON object, logging a located problem for every field that is
/// missing, mistyped or out of range, and for every field it does not know.
struct FieldReader {
    let object: JSONObject
    let log: ProblemLog
    /// Prefix for nested objects, e.g. `pool.`.
    var path = ""

    func has(_ key: String) -> Bool { object[key] != nil }

    func string(_ key: String, nonEmpty: Bool = true) -> String? {
        guard let value = object[key] else { return nil }
        guard case .string(let text) = value else {
            log.add("must be a string, got \(value.typeName)", field: path + key)
            return nil
        }
        if nonEmpty && text.allSatisfy(\.isWhitespace) {
            log.add("must not be empty", field: path + key)
            return nil
        }
        return text
    }

    func bool(_ key: String) -> Bool? {
        guard let value = object[key] else { return nil }
        guard case .bool(let flag) = value else {
            log.add("must be true or false, got \(describe(value))", field: path + key)
            return nil
        }
        return flag
    }

    func integer(_ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let value = object[key] else { return nil }
        guard case .int(let number) = value, let int = Int(exactly: number) else {
            log.add("must be a whole number from \(range.lowerBound) to \(range.upperBound), got \(describe(value))", field: path + key)
            return nil
        }
        guard range.contains(int) else {
            log.add("must be from \(range.lowerBound) to \(range.upperBound), got \(int)", field: path + key)
            return nil
        }
        return int
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String, as type: T.Type) -> T? where T.RawValue == String {
        guard let text = string(key) else { return nil }
        guard let choice = T(rawValue: text) else {
            let allowed = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
            log.add("must be \(allowed), got \"\(text)\"", field: path + key)
            return nil
        }
        return choice
    }

    func object(_ key: String) -> JSONObject? {
        guard let value = object[key] else { return nil }
        guard case .object(let nested) = value else {
            log.add("must be an object, got \(value.typeName)", field: path + key)
            return nil
        }
        return nested
    }

    /// Logs every key not in `known`, with a suggestion when one is close.
    func rejectUnknown(_ known: [String]) {
        for key in object.keys where !known.contains(key) {
            var message = "unknown field"
            if let suggestion = closest(to: key, in: known) { message += "; did you mean '\(path + suggestion)'?" }
            log.add(message, field: path + key)
        }
    }

    private func describe(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): "\"\(s)\""
        case .int(let i): String(i)
        case .double(let d): String(d)
        default: value.typeName
        }
    }
}

/// The known name nearest to `name` (same letters ignoring case and `_`/`-`, or at most two edits away).
func closest(to name: String, in known: [String]) -> String? {
    func normalized(_ s: String) -> String { s.lowercased().filter { $0 != "_" && $0 != "-" } }
    if let exact = known.first(where: { normalized($0) == normalized(name) }) { return exact }
    let scored = known.map { ($0, editDistance(normalized($0), normalized(name))) }.filter { $0.1 <= 2 }
    return scored.min { $0.1 < $1.1 }?.0
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
