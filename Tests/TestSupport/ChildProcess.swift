import Foundation
import PGClient

#if canImport(Glibc)
    import Glibc
#endif

/// A child process with pipes on its stdin and stdout (stderr goes to a file, removed when the
/// child is released), spawned with posix_spawn so it is reaped reliably. For driving `pgmcp` as
/// users run it.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let stderrPath: String
    private let input: Int32
    private let output: Int32
    private var buffered: [UInt8] = []
    /// How far `buffered` is known to hold no newline (so a long line is scanned once).
    private var scanned = 0
    private let lock = NSLock()

    public init(_ arguments: [String], environment: [String: String]) throws {
        // Writing to a child that already exited must fail the write, not kill the test process.
        _ = Glibc.signal(SIGPIPE, SIG_IGN)
        var toChild: [Int32] = [0, 0]
        var fromChild: [Int32] = [0, 0]
        guard pipe(&toChild) == 0, pipe(&fromChild) == 0 else { throw ProgramRunner.Failure(command: arguments[0], status: errno, output: "pipe failed") }
        stderrPath = NSTemporaryDirectory() + "pgmcp-child-\(UUID().uuidString).log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        for fd in toChild + fromChild { posix_spawn_file_actions_addclose(&actions, fd) }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        var attributes = cleanSignalAttributes()
        defer { posix_spawnattr_destroy(&attributes) }
        let spawned = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        close(toChild[0])
        close(fromChild[1])
        guard spawned == 0 else { throw ProgramRunner.Failure(command: arguments[0], status: spawned, output: String(cString: strerror(spawned))) }
        self.pid = pid
        input = toChild[1]
        output = fromChild[0]
    }

    /// Writes one line to the child's stdin.
    public func send(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        bytes.withUnsafeBytes { raw in _ = write(input, raw.baseAddress, raw.count) }
    }

    /// Writes `text` to the child's stdin as it is (no newline added).
    public func sendPartial(_ text: String) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { raw in _ = write(input, raw.baseAddress, raw.count) }
    }

    /// Closes the child's stdin (end of input).
    public func closeInput() { close(input) }

    /// The next line of stdout, or `nil` at end of output or after `timeout`.
    public func readLine(timeout: Duration = .seconds(10)) async throws -> String? {
        try await offPool { self.blockingReadLine(timeout: timeout) }
    }

    private func blockingReadLine(timeout: Duration) -> String? {
        lock.lock()
        defer { lock.unlock() }
        let deadline = ContinuousClock.now + timeout
        while true {
            if let newline = buffered[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                scanned = 0
                return line
            }
            scanned = buffered.count
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return nil }
            var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(clamping: Int(remaining.inMilliseconds))
            guard poll(&descriptor, 1, max(1, milliseconds)) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = read(output, &chunk, chunk.count)
            if count <= 0 { return nil }
            buffered += chunk[..<count]
        }
    }

    public func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the child to exit (at most `timeout`, then SIGKILL) and returns its exit status.
    public func wait(timeout: Duration = .seconds(15)) async throws -> Int32 {
        try await offPool {
            let deadline = ContinuousClock.now + timeout
            var status: Int32 = 0
            while true {
                let result = waitpid(self.pid, &status, WNOHANG)
                if result == self.pid { break }
                if ContinuousClock.now > deadline {
                    kill(self.pid, SIGKILL)
                    waitpid(self.pid, &status, 0)
                    break
                }
                usleep(20_000)
            }
            close(self.output)
            let exited = (status & 0x7f) == 0
            return exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        }
    }

    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// The stderr file goes with the child: a test reads it (`stderr`) while it holds the child, and
    /// quotes what it needs in its failure message.
    deinit { unlink(stderrPath) }
}

/// The `pgmcp` executable built next to the test bundle.
public var pgmcpBinary: String {
    let environment = ProcessInfo.processInfo.environment
    if let directory = environment["PGMCP_TEST_BIN_DIR"] { return directory + "/pgmcp" }
    let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    return bundle.appendingPathComponent("pgmcp").path
}
