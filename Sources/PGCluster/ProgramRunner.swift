import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs programs to completion with posix_spawn and waitpid. Blocking: call it through `offPool` (IOReactor).
///
/// Not Foundation's `Process`: after `pg_ctl start` leaves a daemon behind, `Process` was seen never
/// to reap the exited child (it stayed `<defunct>` and the call hung).
public enum ProgramRunner {
    public struct Failure: Error, CustomStringConvertible {
        public let command: String
        public let status: Int32
        public let output: String
        public init(command: String, status: Int32, output: String) {
            self.command = command
            self.status = status
            self.output = output
        }
        public var description: String { "\(command) failed (exit \(status)): \(output.trimmingCharacters(in: .whitespacesAndNewlines))" }
    }

    /// Runs `arguments` (the program found on PATH) and returns its exit status and combined output.
    /// `extraEnvironment` is added to this process's environment for the child (a password there
    /// stays out of the arguments, which `ps` shows).
    @discardableResult
    public static func run(_ arguments: [String], extraEnvironment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let outputPath = NSTemporaryDirectory() + "pgmcp-run-\(UUID().uuidString)"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        var attributes = cleanSignalAttributes()
        defer { posix_spawnattr_destroy(&attributes) }
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in extraEnvironment { environment[key] = value }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        let spawned = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            throw Failure(command: arguments[0], status: -1, output: String(cString: strerror(spawned)))
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0
        return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), output)
    }

    /// Runs `arguments` and throws `Failure` unless it exits 0.
    @discardableResult
    public static func check(_ arguments: [String], extraEnvironment: [String: String] = [:]) throws -> String {
        let (status, output) = try run(arguments, extraEnvironment: extraEnvironment)
        guard status == 0 else { throw Failure(command: arguments.prefix(2).joined(separator: " "), status: status, output: output) }
        return output
    }
}

/// Spawn attributes that give the child an empty signal mask and default signal actions. A child
/// inherits both: spawned from a thread that blocks signals (Swift's runtime, NIO and test runners
/// do), a daemon it starts (PgBouncer, a shell script's trap) never sees SIGTERM and cannot be
/// stopped but by SIGKILL. Destroy with `posix_spawnattr_destroy`.
public func cleanSignalAttributes() -> posix_spawnattr_t {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attributes, &none)
    var all = sigset_t()
    sigfillset(&all)
    sigdelset(&all, SIGKILL)
    sigdelset(&all, SIGSTOP)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    return attributes
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
public func freeLocalPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}
