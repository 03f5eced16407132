import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Freezes a PostgreSQL process with SIGSTOP for the length of `body`, then thaws it whatever
/// happens: a server that accepts connections but never answers, as a hung host or a stopped VM
/// looks from outside. The tests run as root or as the cluster's owner, so they may signal it.
public func whileFrozen<R>(_ pid: Int32, _ body: () async throws -> R) async rethrows -> R {
    kill(pid, SIGSTOP)
    defer { kill(pid, SIGCONT) }
    return try await body()
}

extension TestDatabase {
    /// The test cluster's postmaster, from its `postmaster.pid`.
    public static var postmasterPID: Int32 {
        get throws {
            let text = try String(contentsOfFile: try variable("PGMCP_TEST_PGDATA") + "/postmaster.pid", encoding: .utf8)
            guard let pid = text.split(separator: "\n").first.flatMap({ Int32($0) }) else { throw Missing() }
            return pid
        }
    }
}
