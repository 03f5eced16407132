import ArgumentParser
import Foundation
import PGConfig

/// `--config`, shared by every command.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A JSON file holding an array of database objects; wins over every variable.", valueName: "file"))
    var config: String?

    /// Loads the configuration with `overrides` (flags, as the variables they stand for) on top of
    /// the environment; prints every problem, naming the flag for one given as a flag, and exits 2
    /// when it is invalid.
    func load(overrides: [String: String] = [:]) throws -> Configuration {
        var environment = ProcessInfo.processInfo.environment
        for (name, value) in overrides { environment[name] = value }
        do {
            return try Configuration.load(environment: environment, configFile: config)
        } catch {
            throw Self.failure(error, overrides: overrides)
        }
    }

    /// Prints `error`'s problems, a variable in `overrides` named as its flag; the exit status 2 to throw.
    static func failure(_ error: ConfigurationError, overrides: [String: String]) -> ExitCode {
        let options = Dictionary(uniqueKeysWithValues: overrides.keys.map { ($0, flag(for: $0)) })
        FileHandle.standardError.write(Data((error.naming(options: options).description + "\n").utf8))
        return ExitCode(2)
    }

    /// The flag that stands for a `PGMCP_*` variable: `PGMCP_MAX_SESSIONS` → `--max-sessions`.
    static func flag(for variable: String) -> String {
        "--" + variable.dropFirst("PGMCP_".count).lowercased().split(separator: "_").joined(separator: "-")
    }

    /// Writes each of `configuration`'s warnings (variables it ignored) on standard error, for the
    /// commands that have no logger.
    static func printWarnings(_ configuration: Configuration) {
        for warning in configuration.warnings {
            FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
        }
    }
}
