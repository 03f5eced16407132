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

    /// A list of non-empty strings.
    func strings(_ key: String) -> [String]? {
        guard let value = object[key] else { return nil }
        guard case .array(let items) = value else {
            log.add("must be a list of strings, got \(value.typeName)", field: path + key)
            return nil
        }
        var texts: [String] = []
        for (index, item) in items.enumerated() {
            guard case .string(let text) = item, !text.allSatisfy(\.isWhitespace) else {
                log.add("item \(index + 1) must be a non-empty string, got \(describe(item))", field: path + key)
                return nil
            }
            texts.append(text)
        }
        return texts
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

/// The known name a person most likely meant by `name`, if one is close enough to be a slip: the
/// same letters ignoring case, `_` and `-` (`read_only` → `readOnly`), or a typo of at most one edit
/// (a letter added, dropped, changed, or two neighbours swapped) in a name of up to five letters,
/// two in a longer one (`PGMCP_MAX_SESSION` → `PGMCP_MAX_SESSIONS`).
///
/// `ignoringPrefix` (`PGMCP_`) is left out of the comparison: every name shares it, and counted in
/// it would make short names look alike (`PGMCP_HOME` is not a slip for `PGMCP_HOST`).
func closest(to name: String, in known: [String], ignoringPrefix prefix: String = "") -> String? {
    func letters(_ s: String) -> [Character] { Array(s.lowercased().filter { $0 != "_" && $0 != "-" }) }
    let ignored = letters(prefix)
    func normalized(_ s: String) -> [Character] {
        let all = letters(s)
        return all.starts(with: ignored) ? Array(all.dropFirst(ignored.count)) : all
    }
    let target = normalized(name)
    var best: (name: String, distance: Int)?
    for candidate in known {
        let letters = normalized(candidate)
        let distance = editDistance(letters, target)
        guard distance <= (letters.count <= 5 ? 1 : 2) else { continue }
        if distance < best?.distance ?? .max { best = (candidate, distance) }
    }
    return best?.name
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
/// neighbouring letters each count one.
func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { table[i][0] = i }
    for j in 0...b.count { table[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
            }
        }
    }
    return table[a.count][b.count]
}
