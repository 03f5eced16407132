import PGMCPJSON

/// Databases from `DB_CONFIG_<ID>_<FIELD>` variables: `DB_CONFIG_PROD_HOST=db DB_CONFIG_PROD_PORT=5432`
/// makes a database `prod`. Each variable becomes a field of a database object, so the same
/// validation applies, and problems name the variable.
enum PrefixVariables {
    static let prefix = "DB_CONFIG_"

    /// Variable suffix → database object field. Longest suffixes are matched first, so an id may
    /// itself contain underscores (`DB_CONFIG_EU_WEST_HOST` → `eu_west`).
    static let suffixes: [(suffix: String, field: String)] = [
        ("STATEMENT_TIMEOUT_MS", "statementTimeoutMs"), ("MAX_CONNECTIONS", "pool.max"),
        ("PRIVILEGE_CHECK", "privilegeCheck"), ("PASSWORD_FILE", "passwordFile"), ("PASSWORD_ENV", "passwordEnv"),
        ("DESCRIPTION", "description"), ("SSLROOTCERT", "sslrootcert"), ("ISOLATION", "isolation"), ("POOLING", "pooling"),
        ("READ_ONLY", "readOnly"), ("PASSWORD", "password"), ("DATABASE", "database"), ("MAX_ROWS", "maxRows"),
        ("SSLMODE", "sslmode"), ("HOST", "host"), ("PORT", "port"), ("USER", "user"), ("NAME", "name"),
        ("URL", "url"),
    ].sorted { $0.0.count > $1.0.count }

    static let integerFields: Set<String> = ["port", "statementTimeoutMs", "pool.max", "maxRows"]
    static let booleanFields: Set<String> = ["readOnly"]

    /// What a `DB_CONFIG_*` name is to pgmcp.
    enum Kind: Equatable {
        /// `DB_CONFIG_<ID>_<FIELD>`: the field of database `id` (lower-cased).
        case setting(id: String, field: String)
        /// No setting, but close to one (`DB_CONFIG_PROD_HOTS`, or `DB_CONFIG_HOST` without an id): an error.
        case slip(String)
        /// Nothing like a setting (`DB_CONFIG_PATH`, set for some other program): ignored, with a warning.
        case unrelated
    }

    /// `<ID>_<FIELD>` (what follows the prefix) split at a known FIELD: the id as written, and the field.
    static func setting(_ rest: String) -> (id: String, field: String)? {
        guard let match = suffixes.first(where: { rest.hasSuffix("_" + $0.suffix) && rest.count > $0.suffix.count + 1 }) else { return nil }
        return (String(rest.dropLast(match.suffix.count + 1)), match.field)
    }

    static func kind(of name: String, in environment: [String: String]) -> Kind {
        let rest = String(name.dropFirst(prefix.count))
        if let (id, field) = setting(rest) { return .setting(id: id.lowercased(), field: field) }
        if let source = closest(to: name, in: ["DB_CONFIGS", "DB_CONFIGS_FILE"]) {
            return .slip("not a database setting; did you mean \(source)?")
        }
        if let bare = suffixes.first(where: { $0.suffix == rest }) {
            return .slip("needs a database id: DB_CONFIG_<ID>_\(bare.suffix)")
        }
        // `<ID>_<FIELD>` with FIELD mistyped: try every split, since ids and fields both hold `_`.
        let known = suffixes.map(\.suffix)
        var index = rest.startIndex
        while let split = rest[index...].firstIndex(of: "_") {
            let id = rest[..<split], field = String(rest[rest.index(after: split)...])
            if !id.isEmpty, let suggestion = closest(to: field, in: known) {
                return .slip("not a database setting; did you mean \(prefix)\(id)_\(suggestion)?")
            }
            index = rest.index(after: split)
        }
        // Any field of a database that other variables configure (DB_CONFIG_PROD_PASS beside DB_CONFIG_PROD_HOST) is meant for pgmcp.
        let configured = environment.keys.compactMap { $0.hasPrefix(prefix) ? setting(String($0.dropFirst(prefix.count)))?.id : nil }
        if configured.contains(where: { rest.hasPrefix($0 + "_") }) {
            return .slip("not a database setting; expected DB_CONFIG_<ID>_<FIELD> with FIELD one of \(accepted)")
        }
        return .unrelated
    }

    static var accepted: String { suffixes.map(\.suffix).sorted().joined(separator: ", ") }

    /// True when a `DB_CONFIG_*` variable configures a database, or is meant to.
    static func present(in environment: [String: String]) -> Bool {
        environment.keys.contains { $0.hasPrefix(prefix) && kind(of: $0, in: environment) != .unrelated }
    }

    /// `DB_CONFIG_*` names pgmcp ignores, each a warning.
    static func ignored(in environment: [String: String]) -> [ConfigProblem] {
        environment.keys.sorted().filter { $0.hasPrefix(prefix) && kind(of: $0, in: environment) == .unrelated }.map {
            ConfigProblem(
                source: "DB_CONFIG_* variables", field: $0, fieldKind: .environmentVariable,
                message: "not a database setting (DB_CONFIG_<ID>_<FIELD>, FIELD one of \(accepted)); ignored")
        }
    }

    /// One JSON database object per id, in id order, and the variable behind each field.
    static func objects(from environment: [String: String], log: ProblemLog) -> [(JSONValue, [String: String])] {
        var byID: [String: (JSONObject, [String: String])] = [:]
        for (name, value) in environment where name.hasPrefix(prefix) {
            let id: String, field: String
            switch kind(of: name, in: environment) {
            case .setting(let settingID, let settingField): (id, field) = (settingID, settingField)
            case .slip(let message):
                log.add(message, variable: name)
                continue
            case .unrelated: continue
            }
            var (object, variables) = byID[id] ?? (JSONObject(), [:])
            if object["id"] == nil { object["id"] = .string(id) }
            variables[field] = name
            if field == "pool.max" {
                var pool = object["pool"]?.objectValue ?? JSONObject()
                pool["max"] = typed(value, field: field)
                object["pool"] = .object(pool)
            } else {
                object[field] = typed(value, field: field)
            }
            byID[id] = (object, variables)
        }
        return byID.keys.sorted().map { id in
            let (object, variables) = byID[id]!
            var names = variables
            names["id"] = "DB_CONFIG_\(id.uppercased())_*"
            return (.object(object), names)
        }
    }

    /// Turns a variable's text into the JSON type its field expects, when it parses;
    /// otherwise keeps the text so validation names what was wrong with it.
    static func typed(_ text: String, field: String) -> JSONValue {
        if integerFields.contains(field), let number = Int64(text.trimmingWhitespace()) { return .int(number) }
        if booleanFields.contains(field), let flag = parseBool(text) { return .bool(flag) }
        return .string(text)
    }
}

/// `true/false`, `1/0`, `yes/no`, `on/off`, any case.
func parseBool(_ text: String) -> Bool? {
    switch text.trimmingWhitespace().lowercased() {
    case "true", "1", "yes", "on": true
    case "false", "0", "no", "off": false
    default: nil
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
