import ArgumentParser
import Foundation
import PGConfig

/// `--config`, shared by every command.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A JSON file holding an array of database objects; wins over every variable.", valueName: "file"))
    var config: String?

    /// Loads the configuration with `overrides` (flags) on top of the environment; prints every
    /// problem and exits 2 when it is invalid.
    func load(overrides: [String: String] = [:]) throws -> Configuration {
        var environment = ProcessInfo.processInfo.environment
        for (name, value) in overrides { environment[name] = value }
        do {
            return try Configuration.load(environment: environment, configFile: config)
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(2)
        }
    }

    /// Writes each of `configuration`'s warnings (variables it ignored) on standard error, for the
    /// commands that have no logger.
    static func printWarnings(_ configuration: Configuration) {
        for warning in configuration.warnings {
            FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
        }
    }
}
