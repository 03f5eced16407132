import Foundation

/// A PostgreSQL cluster of one test's own, for tests that stop or restart the server (which
/// would disturb every other test on the shared cluster). Trust authentication on 127.0.0.1.
public final class PrivateCluster: @unchecked Sendable {
    public let directory: String
    public let port: Int
    let bin: String
    let osUser: String?

    /// initdb + start; a second or two.
    public static func start() async throws -> PrivateCluster {
        try await offPool { try PrivateCluster() }
    }

    private init() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let bin = environment["PGMCP_TEST_PG_BIN"] else { throw TestDatabase.Missing() }
        self.bin = bin
        osUser = getuid() == 0 ? environment["PGMCP_TEST_PG_OS_USER"] : nil
        directory = NSTemporaryDirectory() + "pgmcp-private-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if let osUser { try runProgram(["chown", osUser, directory]) }
        port = Int(try runProgram(["python3", "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"]).output.trimmingCharacters(in: .whitespacesAndNewlines))!
        let initdb = try asPostgres(["\(bin)/initdb", "-D", "\(directory)/data", "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--no-locale"])
        guard initdb.status == 0 else { throw ClusterError(output: initdb.output) }
        try startServer()
    }

    func asPostgres(_ arguments: [String]) throws -> (status: Int32, output: String) {
        if let osUser { return try runProgram(["runuser", "-u", osUser, "--"] + arguments) }
        return try runProgram(arguments)
    }

    private func startServer() throws {
        let result = try asPostgres([
            "\(bin)/pg_ctl", "-D", "\(directory)/data", "-l", "\(directory)/log", "-w", "-t", "30",
            "-o", "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off", "start",
        ])
        guard result.status == 0 else { throw ClusterError(output: result.output) }
    }

    public var url: String { "postgresql://postgres@127.0.0.1:\(port)/postgres" }

    /// Stops the server (fast shutdown: sessions are terminated).
    public func stop() async throws {
        let result = try await offPool { try self.asPostgres(["\(self.bin)/pg_ctl", "-D", "\(self.directory)/data", "-m", "fast", "-w", "stop"]) }
        guard result.status == 0 else { throw ClusterError(output: result.output) }
    }

    public func startAgain() async throws { try await offPool { try self.startServer() } }

    /// Stops the server and deletes its folder.
    public func destroy() async {
        _ = try? await offPool { try self.asPostgres(["\(self.bin)/pg_ctl", "-D", "\(self.directory)/data", "-m", "immediate", "-w", "stop"]) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    struct ClusterError: Error, CustomStringConvertible {
        let output: String
        var description: String { "private cluster failed: \(output)" }
    }
}
