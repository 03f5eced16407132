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

    @Option(help: "Port for MCP over HTTP.") var port: Int = 3000
    @Flag(help: "Keep the cluster's folder after exit.") var keep = false
    @Option(help: "http or stdio.") var transport: String = "http"

    func run() async throws {
        guard let transport = ServerSettings.Transport(rawValue: transport) else {
            throw ValidationError("--transport must be http or stdio")
        }
        try await Demo.run(.init(port: port, keep: keep, transport: transport, environment: ProcessInfo.processInfo.environment))
    }
}
