import Dispatch
import IOReactor

/// Everything pgmcp is configured with: the databases, which one new sessions start on, and the
/// server settings. Loading validates all of it and reports every problem at once.
public struct Configuration: Sendable {
    public var databases: [DatabaseConfig]
    /// The database a new session starts on: `DB_DEFAULT_CONFIG`, else the first one.
    public var defaultDatabaseID: String
    /// Where the databases came from, e.g. `DB_CONFIGS` or `--config ./dbs.json`.
    public var source: String
    /// Sources that were also set but lost to `source` (worth a warning at start-up).
    public var shadowedSources: [String]
    public var server: ServerSettings
    /// Variables that were set but mean nothing to pgmcp (`PGMCP_BIN`, `DB_CONFIG_PATH`): ignored,
    /// each worth a warning at start-up.
    public var warnings: [ConfigProblem] = []

    public init(databases: [DatabaseConfig], defaultDatabaseID: String? = nil, source: String, server: ServerSettings = ServerSettings()) {
        self.databases = databases
        self.defaultDatabaseID = defaultDatabaseID ?? databases.first?.id ?? "default"
        self.source = source
        self.shadowedSources = []
        self.server = server
    }

    public func database(_ id: String) -> DatabaseConfig? { databases.first { $0.id == id } }

    public var defaultDatabase: DatabaseConfig { database(defaultDatabaseID)! }

    /// Whether some database maps callers to roles of their own (`roles`): then not every caller
    /// sees every database, OAuth or not.
    public var hasRoles: Bool { databases.contains { $0.roles != nil } }

    /// Reads the configuration from `environment` (and `configFile`, the `--config` flag, which wins
    /// over every variable). Blocking: file reads. Use `loadOffPool` from async code.
    public static func load(
        environment: [String: String], configFile: String? = nil, files: FileAccess = .system
    ) throws(ConfigurationError) -> Configuration {
        var problems: [ConfigProblem] = []
        var found: DatabaseSources.Found?
        do {
            found = try DatabaseSources(environment: environment, configFile: configFile, files: files).load()
        } catch {
            problems += error.problems
        }
        var server = ServerSettings()
        do {
            server = try ServerSettings(environment: environment)
        } catch {
            problems += error.problems
        }
        guard let found, problems.isEmpty else { throw ConfigurationError(problems) }

        var defaultID = found.databases[0].id
        if let requested = environment["DB_DEFAULT_CONFIG"], !requested.isEmpty {
            guard found.databases.contains(where: { $0.id == requested }) else {
                let names = found.databases.map { "'\($0.id)'" }.joined(separator: ", ")
                throw ConfigurationError([
                    ConfigProblem(source: "DB_DEFAULT_CONFIG", message: "names no configured database: '\(requested)' (configured: \(names))")
                ])
            }
            defaultID = requested
        }
        var configuration = Configuration(databases: found.databases, defaultDatabaseID: defaultID, source: found.source, server: server)
        configuration.shadowedSources = found.shadowed
        configuration.warnings = found.warnings + server.warnings
        return configuration
    }

    /// `load`, run on a dispatch queue so its file reads never block Swift's cooperative pool.
    public static func loadOffPool(
        environment: [String: String], configFile: String? = nil, files: FileAccess = .system
    ) async throws -> Configuration {
        try await offPool { try load(environment: environment, configFile: configFile, files: files) }
    }
}
