import PGClient
import PGMCPJSON

/// Finds the databases in the first source that is set, in CONTRACT.md's order:
/// `--config` file, `DB_CONFIGS_FILE`, `DB_CONFIGS`, `DB_CONFIG_<ID>_*` variables, `DATABASE_URL`.
struct DatabaseSources {
    let environment: [String: String]
    let configFile: String?
    let files: FileAccess

    struct Found {
        var source: String
        var databases: [DatabaseConfig]
        /// Sources that were set but not used, because an earlier one wins.
        var shadowed: [String]
        /// Variables that look like a source's but are not (`DB_CONFIG_PATH`): ignored.
        var warnings: [ConfigProblem] = []
    }

    func load() throws(ConfigurationError) -> Found {
        var candidates: [(name: String, load: () -> ([DatabaseConfig], [ConfigProblem]))] = []
        if let configFile {
            candidates.append(("--config \(configFile)", { fromFile(configFile, source: "--config \(configFile)") }))
        }
        if let path = nonEmpty("DB_CONFIGS_FILE") {
            candidates.append(("DB_CONFIGS_FILE (\(path))", { fromFile(path, source: "DB_CONFIGS_FILE (\(path))") }))
        }
        if let json = nonEmpty("DB_CONFIGS") {
            candidates.append(("DB_CONFIGS", { fromJSON(json, source: "DB_CONFIGS") }))
        }
        if PrefixVariables.present(in: environment) {
            candidates.append(("DB_CONFIG_* variables", { fromPrefixVariables() }))
        }
        if let url = nonEmpty("DATABASE_URL") {
            candidates.append(("DATABASE_URL", { fromDatabaseURL(url) }))
        }
        guard let chosen = candidates.first else {
            throw ConfigurationError([
                ConfigProblem(
                    source: "configuration",
                    message:
                        "no databases configured: set DB_CONFIGS (a JSON array), DB_CONFIGS_FILE or --config (a file holding one), DB_CONFIG_<ID>_URL / _HOST variables, or DATABASE_URL"
                )
            ])
        }
        let (databases, problems) = chosen.load()
        if !problems.isEmpty { throw ConfigurationError(problems) }
        return Found(
            source: chosen.name, databases: databases, shadowed: candidates.dropFirst().map(\.name),
            warnings: PrefixVariables.ignored(in: environment))
    }

    private func nonEmpty(_ name: String) -> String? {
        guard let value = environment[name], !value.allSatisfy(\.isWhitespace) else { return nil }
        return value
    }

    private func fromFile(_ path: String, source: String) -> ([DatabaseConfig], [ConfigProblem]) {
        do {
            return fromJSON(try files.readText(path), source: source)
        } catch {
            return ([], [ConfigProblem(source: source, message: "cannot read the file: \(readableReason(error))")])
        }
    }

    private func fromJSON(_ text: String, source: String) -> ([DatabaseConfig], [ConfigProblem]) {
        let log = ProblemLog(source: source)
        let parsed: JSONValue
        do {
            parsed = try JSONParser.parse(text, options: .init(rejectDuplicateKeys: true))
        } catch {
            log.add("invalid JSON: \(error)")
            return ([], log.problems)
        }
        guard case .array(let entries) = parsed else {
            log.add("must be a JSON array of database objects, got \(parsed.typeName)")
            return ([], log.problems)
        }
        let decoder = DatabaseEntryDecoder(environment: environment, files: files)
        var databases: [DatabaseConfig] = []
        for (index, entry) in entries.enumerated() {
            log.entry = index + 1
            log.database = nil
            if let database = decoder.decode(entry, log: log) { databases.append(database) }
        }
        log.entry = nil
        log.database = nil
        checkUnique(entries, log: log)
        if entries.isEmpty { log.add("the array is empty: configure at least one database") }
        return (databases, log.problems)
    }

    private func checkUnique(_ entries: [JSONValue], log: ProblemLog) {
        var firstSeen: [String: Int] = [:]
        for (index, entry) in entries.enumerated() {
            guard let id = entry["id"]?.stringValue else { continue }
            if let first = firstSeen[id] {
                log.database = id
                log.add("duplicate id: entries \(first) and \(index + 1) are both '\(id)'", field: "id")
                log.database = nil
            } else {
                firstSeen[id] = index + 1
            }
        }
    }

    private func fromPrefixVariables() -> ([DatabaseConfig], [ConfigProblem]) {
        let log = ProblemLog(source: "DB_CONFIG_* variables")
        let decoder = DatabaseEntryDecoder(environment: environment, files: files)
        var databases: [DatabaseConfig] = []
        for (object, variables) in PrefixVariables.objects(from: environment, log: log) {
            log.database = nil
            log.variableName = { variables[$0] }
            if let database = decoder.decode(object, log: log) { databases.append(database) }
        }
        return (databases, log.problems)
    }

    private func fromDatabaseURL(_ url: String) -> ([DatabaseConfig], [ConfigProblem]) {
        let log = ProblemLog(source: "DATABASE_URL")
        log.variableName = { $0 == "url" ? "DATABASE_URL" : nil }
        let decoder = DatabaseEntryDecoder(environment: environment, files: files)
        let database = decoder.decode(.object(JSONObject([("id", "default"), ("url", .string(url))])), log: log)
        return (database.map { [$0] } ?? [], log.problems)
    }
}
