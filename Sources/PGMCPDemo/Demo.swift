import Foundation
import IOReactor
import Logging
import PGClient
import PGCluster
import PGConfig
import PGMCPServer

/// `pgmcp demo`: a throwaway PostgreSQL cluster with two sample databases — `demo_dev`
/// (read-write) and `demo_staging` (read-only, through a read-only role) — served over MCP until
/// Ctrl-C or SIGTERM, then stopped and deleted (unless `keep`).
public enum Demo {
    public struct Options: Sendable {
        public var keep: Bool
        /// The server's settings: the process's `PGMCP_*` variables, with `demo`'s flags
        /// (`--port`, `--transport`) in place of theirs.
        public var environment: [String: String]

        public init(keep: Bool, environment: [String: String]) {
            self.keep = keep
            self.environment = environment
        }
    }

    public static func run(_ options: Options) async throws {
        // Settings first: a bad one must fail at once, not after a cluster was made and seeded.
        let server = try settings(options.environment)
        for warning in server.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        // With stdio, stdout carries MCP: everything for people goes to stderr.
        let out: @Sendable (String) -> Void
        if server.transport == .stdio {
            out = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        } else {
            // Unbuffered, so a pipe (a test, `| tee`) sees each line at once.
            out = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }
        }
        let clock = ContinuousClock()
        var started = clock.now
        func step(_ text: String) {
            out("  ✓ \(text) (\((clock.now - started).readable))")
            started = clock.now
        }

        out("pgmcp demo: creating a throwaway PostgreSQL cluster…")
        let superPassword = randomSecret()
        let cluster = try await offPool { try LocalPostgres(password: superPassword) }
        step("initdb: PostgreSQL \(cluster.version) in \(cluster.directory)")
        do {
            try await offPool { try cluster.start() }
            step("server started on 127.0.0.1:\(cluster.port)")
            let roles = DemoRoles(app: randomSecret(), readOnly: randomSecret())
            try await seed(cluster, roles: roles, step: step)
            let configuration = try configuration(cluster: cluster, roles: roles, server: server)
            let logger = ServerRuntime.bootstrapLogging(configuration.server.logLevel)
            let keep = options.keep
            let directory = cluster.directory
            if server.transport == .stdio {
                out("MCP over stdio: demo_dev (read-write), demo_staging (read-only); cluster in \(directory). End input or Ctrl-C to stop.")
            }
            try await ServerRuntime.serve(configuration: configuration, logger: logger) { port in
                out(banner(port: port, host: configuration.server.host, directory: directory, keep: keep))
            }
        } catch {
            out("pgmcp demo: \(error)")
            await teardown(cluster, keep: options.keep, out: out)
            throw error
        }
        await teardown(cluster, keep: options.keep, out: out)
    }

    struct DemoRoles {
        let app: String
        let readOnly: String
    }

    /// Roles (an owner that writes, a reader), the two databases, their schema and rows.
    static func seed(_ cluster: LocalPostgres, roles: DemoRoles, step: (String) -> Void) async throws {
        let admin = try await PGConnection.connect(PGConnectionParameters(conninfo: cluster.url()), applicationName: "pgmcp/demo-setup")
        do {
            try await admin.command("CREATE ROLE demo_app LOGIN PASSWORD '\(roles.app)'")
            try await admin.command("CREATE ROLE demo_readonly LOGIN PASSWORD '\(roles.readOnly)'")
            try await admin.command("GRANT pg_read_all_data TO demo_readonly")
            for name in ["demo_dev", "demo_staging"] { try await admin.command("CREATE DATABASE \(name) OWNER demo_app") }
            for statement in DemoWorkload.grants { try await admin.command(statement) }
            await admin.close()
        } catch {
            await admin.close()
            throw error
        }
        for (name, data) in [("demo_dev", DemoData.development), ("demo_staging", DemoData.staging)] {
            try await asSuperuser(cluster, in: name, DemoWorkload.extensionStatements(cluster))
            let owner = try await PGConnection.connect(
                PGConnectionParameters(conninfo: cluster.url(database: name, user: "demo_app", password: roles.app)),
                applicationName: "pgmcp/demo-setup")
            do {
                for statement in DemoData.schema + data.rows { try await owner.command(statement) }
                if name == "demo_dev" {
                    for statement in DemoWorkload.schema { try await owner.command(statement) }
                    // The workload starts from clean statistics: the seeding is not what the tools should find.
                    try await asSuperuser(cluster, in: name, DemoWorkload.statisticsReset(cluster))
                    try await DemoWorkload.run(on: owner)
                }
                await owner.close()
            } catch {
                await owner.close()
                throw error
            }
            let extra = name == "demo_dev" ? ", page_views 200000 (and a workload for the DBA tools)" : ""
            step("\(name): customers \(data.customers), products \(data.products), orders \(data.orders), with order_items and the order_totals view\(extra)")
        }
    }

    static func asSuperuser(_ cluster: LocalPostgres, in database: String, _ statements: [String]) async throws {
        guard !statements.isEmpty else { return }
        let superuser = try await PGConnection.connect(
            PGConnectionParameters(conninfo: cluster.url(database: database)), applicationName: "pgmcp/demo-setup")
        do {
            for statement in statements { try await superuser.command(statement) }
            await superuser.close()
        } catch {
            await superuser.close()
            throw error
        }
    }

    /// The server settings `environment` gives, logging at `warning` unless it says otherwise.
    static func settings(_ environment: [String: String]) throws(ConfigurationError) -> ServerSettings {
        var environment = environment
        if environment["PGMCP_LOG_LEVEL"] == nil { environment["PGMCP_LOG_LEVEL"] = "warning" }
        // The demo shows everything, the DBA group included.
        if environment["PGMCP_TOOLS"] == nil { environment["PGMCP_TOOLS"] = "default,dba" }
        return try ServerSettings(environment: environment)
    }

    static func configuration(cluster: LocalPostgres, roles: DemoRoles, server: ServerSettings) throws -> Configuration {
        func entry(_ id: String, title: String, description: String, user: String, password: String, readOnly: Bool) throws -> DatabaseConfig {
            var connection = try PGConnectionParameters(conninfo: "host=127.0.0.1 port=\(cluster.port) dbname=\(id) user=\(user)")
            connection["sslmode"] = "disable"
            return DatabaseConfig(
                id: id, title: title, description: description, connection: connection, password: Secret(password), readOnly: readOnly,
                pool: PoolSettings(max: 5), privilegeCheck: .enforce)
        }
        return Configuration(
            databases: [
                try entry(
                    "demo_dev", title: "Demo development", description: "Sample shop data; writes allowed. Try execute here.",
                    user: "demo_app", password: roles.app, readOnly: false),
                try entry(
                    "demo_staging", title: "Demo staging", description: "Bigger sample shop data; read-only role and read-only entry.",
                    user: "demo_readonly", password: roles.readOnly, readOnly: true),
            ],
            defaultDatabaseID: "demo_dev", source: "pgmcp demo", server: server)
    }

    static func banner(port: Int, host: String, directory: String, keep: Bool) -> String {
        let endpoint = "http://\(host):\(port)/mcp"
        return """

            MCP endpoint: \(endpoint)
              demo_dev      read-write   customers, products, orders, order_items, order_totals (view)
              demo_staging  read-only    the same schema, more rows
            cluster: \(directory)\(keep ? " (kept after exit)" : " (deleted on exit)")

            Connect a client:
              Claude Code:  claude mcp add --transport http pgmcp-demo \(endpoint)
              Cursor:       {"mcpServers": {"pgmcp-demo": {"url": "\(endpoint)"}}}
              VS Code:      {"servers": {"pgmcp-demo": {"type": "http", "url": "\(endpoint)"}}}

            Try: list_databases, then query {"sql": "SELECT * FROM order_totals ORDER BY total DESC LIMIT 5"}.
            DBA: database_health, top_queries, suggest_indexes, blocking_locks (demo_dev has a workload to find).
            Press Ctrl-C to stop; the cluster is stopped and removed.
            """
    }

    static func teardown(_ cluster: LocalPostgres, keep: Bool, out: (String) -> Void) async {
        if keep {
            _ = try? await offPool { try cluster.stop() }
            out("pgmcp demo: cluster stopped and kept in \(cluster.directory)")
        } else {
            await offPool { cluster.destroy() }
            out("pgmcp demo: cluster stopped and removed")
        }
    }

    static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(generator.next() as UInt64, radix: 36) }.joined()
    }
}
