/// One thing wrong with the configuration, located as precisely as we can: where it came from,
/// which database, which field.
public struct ConfigProblem: Sendable, Equatable, CustomStringConvertible {
    /// e.g. `DB_CONFIGS`, `--config ./dbs.json`, `DB_CONFIG_* variables`.
    public var source: String
    /// The database's id, when known.
    public var database: String?
    /// 1-based position in a JSON array, when the id is not known.
    public var entry: Int?
    /// What `field` names, as the description says it.
    public enum FieldKind: Sendable, Equatable {
        /// A field of a database object: `pool.max`.
        case field
        /// An environment variable: `PGMCP_PORT`, `DB_CONFIG_PROD_PORT`.
        case environmentVariable
        /// A command-line option that stands for a variable: `--port`.
        case option
    }

    /// e.g. `pool.max`, `PGMCP_PORT`, `--port`, as `fieldKind` says.
    public var field: String?
    public var fieldKind = FieldKind.field
    public var message: String

    public var description: String {
        var text = source + ": "
        if let database { text += "database '\(database)': " } else if let entry { text += "entry \(entry): " }
        if let field {
            switch fieldKind {
            case .field: text += "field '\(field)': "
            case .environmentVariable: text += "environment variable \(field): "
            case .option: text += "option \(field): "
            }
        }
        return text + message
    }
}

/// The configuration cannot be used. Lists every problem found, not just the first.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var problems: [ConfigProblem]

    public init(_ problems: [ConfigProblem]) { self.problems = problems }

    /// The same problems, those about a variable that was given as a command-line option
    /// (`options`: `PGMCP_PORT` → `--port`) naming the option the person typed.
    public func naming(options: [String: String]) -> ConfigurationError {
        ConfigurationError(
            problems.map { problem in
                guard problem.fieldKind == .environmentVariable, let field = problem.field, let option = options[field] else { return problem }
                var renamed = problem
                renamed.field = option
                renamed.fieldKind = .option
                return renamed
            })
    }

    public var description: String {
        if problems.count == 1 { return "invalid configuration: \(problems[0])" }
        return "invalid configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// Collects problems while a source is read, with the context to locate each.
final class ProblemLog {
    let source: String
    var database: String?
    var entry: Int?
    /// The environment variable a field was read from, when it was (`port` → `DB_CONFIG_PROD_PORT`).
    var variableName: (String) -> String? = { _ in nil }
    private(set) var problems: [ConfigProblem] = []

    init(source: String) { self.source = source }

    func add(_ message: String, field: String? = nil) {
        if let field, let variable = variableName(field) { return add(message, variable: variable) }
        problems.append(ConfigProblem(source: source, database: database, entry: entry, field: field, message: message))
    }

    /// A problem with the environment variable `variable`.
    func add(_ message: String, variable: String) {
        problems.append(ConfigProblem(source: source, database: database, entry: entry, field: variable, fieldKind: .environmentVariable, message: message))
    }

    func add(contentsOf other: [ConfigProblem]) { problems += other }
}
