import Dispatch
import Foundation

/// Who made a session copy of a clone entry: written into the copy's comment when it is made, so
/// that a later start can tell a copy left behind by a server that died (dropped) from one a live
/// server is using (kept) — several pgmcp processes may share one PostgreSQL with the same
/// configuration (an editor's stdio servers, replicas).
///
/// A process is named by its host (name and machine id), the kernel's boot id, its pid namespace,
/// its user, its pid and its start time (a pid is reused, a pid with the same start time on the
/// same boot is not). A process is judged gone only by one that sees the same processes: same
/// host, pid namespace and user (containers have namespaces of their own; `hidepid` hides other
/// users' processes).
public struct CloneOwner: Sendable, Equatable {
    public var host: String
    public var machine: String
    public var boot: String
    public var pidNamespace: String
    public var user: UInt32
    public var pid: Int32
    public var started: String

    /// The comment's text: `pgmcp clone; owner host=… machine=… boot=… pidns=… uid=… pid=… started=…`.
    public var comment: String {
        "pgmcp clone; owner host=\(host) machine=\(machine) boot=\(boot) pidns=\(pidNamespace) uid=\(user) pid=\(pid) started=\(started)"
    }

    /// Parses `comment`; nil for anything else (a database this code did not make is never touched).
    public init?(comment: String) {
        guard comment.hasPrefix("pgmcp clone; owner ") else { return nil }
        var fields: [String: String] = [:]
        for pair in comment.dropFirst("pgmcp clone; owner ".count).split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        guard let host = fields["host"], let machine = fields["machine"], let boot = fields["boot"], let pidNamespace = fields["pidns"],
            let user = fields["uid"].flatMap({ UInt32($0) }), let pid = fields["pid"].flatMap({ Int32($0) }), let started = fields["started"]
        else { return nil }
        self.init(host: host, machine: machine, boot: boot, pidNamespace: pidNamespace, user: user, pid: pid, started: started)
    }

    public init(host: String, machine: String, boot: String, pidNamespace: String, user: UInt32, pid: Int32, started: String) {
        self.host = host
        self.machine = machine
        self.boot = boot
        self.pidNamespace = pidNamespace
        self.user = user
        self.pid = pid
        self.started = started
    }

    /// This process. Reads /proc once, at first use.
    public static let current = CloneOwner(
        host: hostName(), machine: firstLine("/etc/machine-id"), boot: firstLine("/proc/sys/kernel/random/boot_id"),
        pidNamespace: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")) ?? "unknown", user: getuid(),
        pid: getpid(), started: startTime(of: getpid()) ?? "unknown")

    /// Whether the process that wrote this is certainly gone, as `observer` sees it: same host,
    /// machine, pid namespace and user, and then a later boot or no process with its pid and start
    /// time. Anything it cannot see for sure (another host, container or user, an unknown field) is
    /// never judged gone.
    public func isGone(to observer: CloneOwner = .current, startTimeOf: (Int32) -> String? = startTime(of:)) -> Bool {
        guard host == observer.host, machine == observer.machine, pidNamespace == observer.pidNamespace, user == observer.user,
            ![host, machine, boot, pidNamespace, started].contains("unknown")
        else { return false }
        if boot != observer.boot { return true }
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

    /// The file's first line without white space, or "unknown".
    static func firstLine(_ path: String) -> String {
        let text = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").first.map(String.init) ?? ""
        let cleaned = text.filter { !$0.isWhitespace }
        return cleaned.isEmpty ? "unknown" : cleaned
    }

    /// `gethostname`, not a lookup of it (which may answer "localhost" on many machines).
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).filter { !$0.isWhitespace && $0 != "=" }
        return name.isEmpty ? "unknown" : name
    }
}
