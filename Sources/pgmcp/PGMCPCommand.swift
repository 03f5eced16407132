import ArgumentParser
import PGMCPBuild

@main
struct PGMCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pgmcp",
        abstract: "A multi-database, session-aware MCP server for PostgreSQL.",
        discussion: """
            Databases come from --config FILE, DB_CONFIGS_FILE, DB_CONFIGS, DB_CONFIG_<ID>_* variables or DATABASE_URL \
            (the first that is set). See README.md for every setting.
            """,
        version: BuildInfo.versionLine,
        subcommands: [ServeCommand.self, DemoCommand.self, CheckCommand.self, DatabasesCommand.self]
    )
}
