import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program (found on PATH) and returns its exit status and combined output. Blocking: call
/// it through `offPool` from async code.
///
/// posix_spawn and waitpid, not Foundation's `Process`: `pg_ctl start` leaves a daemon behind, and
/// `Process` then never reaped the exited child here (it stayed `<defunct>` and the call hung).
@discardableResult
public func runProgram(_ arguments: [String]) throws -> (status: Int32, output: String) {
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
    let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ)
    guard spawned == 0 else { throw SpawnError(program: arguments[0], code: spawned) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    let exited = (status & 0x7f) == 0
    return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), output)
}

struct SpawnError: Error, CustomStringConvertible {
    let program: String
    let code: Int32
    var description: String { "cannot run \(program): \(String(cString: strerror(code)))" }
}

/// Runs `body` on a dispatch thread, so blocking work never parks Swift's cooperative pool.
public func offPool<R: Sendable>(_ body: @escaping @Sendable () throws -> R) async throws -> R {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
