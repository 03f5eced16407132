import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The scale-out topology of `scripts/cluster-demo` (its own PostgreSQL, PgBouncer in transaction
/// mode, pgmcp replicas, HAProxy), started through that script so that the tests run exactly what
/// users run, and stopped by the PIDs it recorded.
public final class ScaleOutCluster: Sendable {
    public let directory: String
    /// DIR/cluster.env: ports, URLs and passwords.
    public let values: [String: String]

    /// The repository's root (scripts/ lives there).
    public static var repository: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// Starts the topology with the built `pgmcp`. `databases` replaces the replicas' entries
    /// (`@BOUNCER_PORT@` becomes PgBouncer's port; the role is `pgmcp`, its password in
    /// `PGMCP_APP_PASSWORD`); `environment` adds settings every replica gets.
    public static func start(
        replicas: Int = 2, budget: Int = 10, databases: String? = nil, environment: [String: String] = [:]
    ) async throws -> ScaleOutCluster {
        let directory = NSTemporaryDirectory() + "pgmcp-scaleout-\(UInt32.random(in: 0...UInt32.max))"
        var settings = environment
        settings["PGMCP_CLUSTER_BINARY"] = pgmcpBinary
        settings["PGMCP_CLUSTER_REPLICAS"] = "\(replicas)"
        settings["PGMCP_CLUSTER_BUDGET"] = "\(budget)"
        if let databases { settings["PGMCP_CLUSTER_DB_CONFIGS"] = databases }
        let command = [repository + "/scripts/cluster-demo", "start", directory]
        let (status, output) = try await offPool { [settings] in try ProgramRunner.run(command, extraEnvironment: settings) }
        guard status == 0 else {
            throw ProgramRunner.Failure(command: "scripts/cluster-demo start", status: status, output: output)
        }
        let text = try String(contentsOfFile: directory + "/cluster.env", encoding: .utf8)
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return ScaleOutCluster(directory: directory, values: values)
    }

    private init(directory: String, values: [String: String]) {
        self.directory = directory
        self.values = values
    }

    public var routerURL: String { values["ROUTER_URL"]! }
    public var budget: Int { Int(values["BUDGET"]!)! }

    /// The replica ids (`r1`, `r2`…) and their ports.
    public var replicaPorts: [String: Int] {
        Dictionary(
            uniqueKeysWithValues: (values["REPLICA_PORTS"] ?? "").split(separator: " ").compactMap { pair -> (String, Int)? in
                let parts = pair.split(separator: "=")
                guard parts.count == 2, let port = Int(parts[1]) else { return nil }
                return (String(parts[0]), port)
            })
    }

    /// A libpq URI straight to the topology's PostgreSQL (not through PgBouncer).
    public func postgresURL(database: String = "postgres", user: String? = nil, password: String? = nil) -> String {
        let user = user ?? values["PG_USER"]!
        let secret = password ?? (user == values["PG_USER"] ? values["PG_PASSWORD"]! : values["APP_PASSWORD"]!)
        return "postgresql://\(user):\(secret)@127.0.0.1:\(values["PG_PORT"]!)/\(database)"
    }

    /// Kills a replica as a crash would (SIGKILL): no shutdown, no cleanup of its own.
    public func kill(replica: String) throws {
        let pid = try String(contentsOfFile: "\(directory)/replica-\(replica).pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let number = Int32(pid) else { return }
        _ = Glibc.kill(number, SIGKILL)
    }

    /// PgBouncer's `SHOW POOLS` (its admin console speaks the simple protocol only: through psql).
    public func showPools() async throws -> [[String: String]] {
        let command = ["psql", "-h", "127.0.0.1", "-p", values["BOUNCER_PORT"]!, "-U", values["PG_USER"]!, "-d", "pgbouncer", "--csv", "-c", "SHOW POOLS"]
        let password = values["PG_PASSWORD"]!
        let output = try await offPool { try ProgramRunner.check(command, extraEnvironment: ["PGPASSWORD": password]) }
        let lines = output.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first else { return [] }
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    /// For `database`: the server connections PgBouncer holds (active, idle, used, tested, logging
    /// in) and the clients waiting for one.
    public func poolTotals(database: String) async throws -> (servers: Int, waiting: Int) {
        let pools = try await showPools().filter { $0["database"] == database }
        func total(_ columns: [String]) -> Int { pools.reduce(0) { sum, pool in sum + columns.reduce(0) { $0 + (Int(pool[$1] ?? "") ?? 0) } } }
        return (total(["sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login"]), total(["cl_waiting"]))
    }

    /// The PIDs of every process the topology runs (router, replicas, PgBouncer, postmaster).
    public var processIDs: [Int32] { Self.processIDs(in: directory) }

    /// The PIDs recorded in a topology's folder.
    public static func processIDs(in directory: String) -> [Int32] {
        let files =
            ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".pid") }.map { "\(directory)/\($0)" }
            + ["\(directory)/pgbouncer/pgbouncer.pid", "\(directory)/pg/data/postmaster.pid"]
        return files.compactMap { file in
            (try? String(contentsOfFile: file, encoding: .utf8))?.split(separator: "\n").first.flatMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
        }
    }

    /// Whether a process with this PID still runs.
    /// (A zombie, exited but not yet reaped by whatever adopted it, does not count.)
    public static func isRunning(_ pid: Int32) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
        return !status.split(separator: "\n").contains { $0.hasPrefix("State:") && $0.contains("Z") }
    }

    /// Stops everything the script started and removes the folder.
    public func stop() async {
        _ = try? await offPool { try ProgramRunner.run([Self.repository + "/scripts/cluster-demo", "stop", self.directory]) }
    }
}
