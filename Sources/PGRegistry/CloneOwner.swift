import Dispatch
import Foundation

/// Who made a session copy of a clone entry: written into the copy's comment when it is made, so
/// that a later start can tell a copy left behind by a server that died (dropped) from one a live
/// server is using (kept) — several pgmcp processes may share one PostgreSQL with the same
/// configuration (an editor's stdio servers, replicas).
///
/// A process is named by its host, the kernel's boot id, its pid and its start time (a pid is
/// reused, a pid with the same start time on the same boot is not).
public struct CloneOwner: Sendable, Equatable {
    public var host: String
    public var boot: String
    public var pid: Int32
    public var started: String

    /// The comment's text: `pgmcp clone; owner host=… boot=… pid=… started=…`.
    public var comment: String { "pgmcp clone; owner host=\(host) boot=\(boot) pid=\(pid) started=\(started)" }

    /// Parses `comment`; nil for anything else (a database this code did not make is never touched).
    public init?(comment: String) {
        guard comment.hasPrefix("pgmcp clone; owner ") else { return nil }
        var fields: [String: String] = [:]
        for pair in comment.dropFirst("pgmcp clone; owner ".count).split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        guard let host = fields["host"], let boot = fields["boot"], let pid = fields["pid"].flatMap({ Int32($0) }), let started = fields["started"]
        else { return nil }
        self.init(host: host, boot: boot, pid: pid, started: started)
    }

    public init(host: String, boot: String, pid: Int32, started: String) {
        self.host = host
        self.boot = boot
        self.pid = pid
        self.started = started
    }

    /// This process. Reads /proc once, at first use.
    public static let current = CloneOwner(
        host: ProcessInfo.processInfo.hostName.filter { !$0.isWhitespace }, boot: bootID(), pid: getpid(),
        started: startTime(of: getpid()) ?? "unknown")

    /// Whether the process that wrote this is certainly gone: same host and boot, and no process
    /// with its pid and start time. A copy from another host (or an unknown one) is never judged dead.
    public func isGone(on host: CloneOwner = .current, startTimeOf: (Int32) -> String? = startTime(of:)) -> Bool {
        guard self.host == host.host else { return false }
        if boot != host.boot { return true }
        return startTimeOf(pid) != started
    }

    /// `/proc/<pid>/stat`'s start time (clock ticks after boot), or nil when there is no such process.
    public static func startTime(of pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name (which may hold spaces): state is field 3, starttime field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
    }

    static func bootID() -> String {
        ((try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)) ?? "unknown").filter { !$0.isWhitespace }
    }

    /// Runs `body` (file reads of /proc) on a dispatch thread, off Swift's cooperative pool.
    static func offPool<R: Sendable>(_ body: @escaping @Sendable () -> R) async -> R {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .utility).async { continuation.resume(returning: body()) }
        }
    }
}
