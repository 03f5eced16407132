import ArgumentParser
import Foundation
import PGConfig
import PGMCPDemo

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Serve two sample databases from a throwaway PostgreSQL cluster.",
        discussion: """
            Creates a PostgreSQL cluster in a temporary folder from the system's PostgreSQL binaries (as root it runs \
            as the unprivileged user pgmcp-postgres), with demo_dev (read-write) and demo_staging (read-only), serves MCP \
            on them and prints how to connect. Ctrl-C or SIGTERM stops the server and the cluster and deletes the folder.
            """)

    @Option(help: "Port for MCP over HTTP. [PGMCP_PORT, default 3000]") var port: String?
    @Flag(help: "Keep the cluster's folder after exit.") var keep = false
    @Option(help: "http or stdio. [PGMCP_TRANSPORT, default http]") var transport: String?

    func run() async throws {
        // Flags become their variables, so that both are checked alike (before any cluster exists).
        var overrides: [String: String] = [:]
        if let port { overrides["PGMCP_PORT"] = port }
        if let transport { overrides["PGMCP_TRANSPORT"] = transport }
        do {
            try await Demo.run(.init(keep: keep, environment: ProcessInfo.processInfo.environment.merging(overrides) { $1 }))
        } catch let error as ConfigurationError {
            throw ConfigOptions.failure(error, overrides: overrides)
        }
    }
}
