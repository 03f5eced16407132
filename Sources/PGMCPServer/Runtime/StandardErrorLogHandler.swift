import Dispatch
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Log lines on standard error, in swift-log's `StreamLogHandler` format.
///
/// Ours because `StreamLogHandler` renders its metadata whenever metadata is set, and Hummingbird
/// sets a request id on every request's logger: that rendering showed in the call path's profile
/// although nothing was logged. This one renders metadata only for a line it writes.
///
/// Every logger of the process writes through it (`pgmcp serve`'s, Hummingbird's, the service
/// group's), and it escapes what it writes (`LogText`): a record is always exactly one line,
/// whatever text a client, a server or a setting put in its message or metadata.
///
/// Small enough to sit inside a `Logger`'s existential buffer (what never changes is behind one
/// shared reference), so the request id Hummingbird sets on every request's copy of the logger
/// does not allocate a box for the copy.
struct StandardErrorLogHandler: LogHandler {
    /// The label and metadata provider, shared by every copy.
    private final class Fixed: Sendable {
        let label: String
        let metadataProvider: Logger.MetadataProvider?

        init(label: String, metadataProvider: Logger.MetadataProvider?) {
            self.label = label
            self.metadataProvider = metadataProvider
        }
    }

    private var fixed: Fixed
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    var label: String { fixed.label }

    var metadataProvider: Logger.MetadataProvider? {
        get { fixed.metadataProvider }
        set { fixed = Fixed(label: fixed.label, metadataProvider: newValue) }
    }

    init(label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        fixed = Fixed(label: label, metadataProvider: metadataProvider)
        logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String, file: String,
        function: String, line: UInt
    ) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit { merged.merge(explicit) { _, new in new } }
        Self.output.write(Array(Self.line(timestamp: Self.timestamp(), level: level, label: label, metadata: merged, source: source, message: message).utf8))
    }

    /// `2025-01-02T03:04:05+0000 info pgmcp: client="a b" [PGMCPServer] session initialized` and a
    /// newline: the record's one line, every part of it escaped.
    static func line(
        timestamp: String, level: Logger.Level, label: String, metadata: Logger.Metadata, source: String, message: Logger.Message
    ) -> String {
        let rendered =
            metadata.isEmpty ? "" : " " + metadata.sorted { $0.key < $1.key }.map { "\(LogText.field($0.key))=\(LogText.field($0.value.description))" }.joined(separator: " ")
        return "\(timestamp) \(level) \(LogText.escaped(label)):\(rendered) [\(LogText.escaped(source))] \(LogText.escaped(message.description))\n"
    }

    /// Where lines go: one serial queue, so that a slow reader of standard error never blocks the
    /// thread that logs (over stdio, the one thread every task runs on), lines never interleave,
    /// and a descriptor that shares standard output's non-blocking mode (`2>&1`) is waited on
    /// rather than cut short.
    static let output = StandardErrorOutput()

    private static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Writes whole lines to standard error in order, off the caller's thread.
final class StandardErrorOutput: Sendable {
    private let queue = DispatchQueue(label: "pgmcp.stderr")

    func write(_ line: [UInt8]) {
        queue.async {
            line.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = Glibc.write(2, raw.baseAddress! + offset, raw.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                        var descriptor = pollfd(fd: 2, events: Int16(POLLOUT), revents: 0)
                        _ = poll(&descriptor, 1, 1000)
                    } else if written < 0, errno == EINTR {
                        continue
                    } else {
                        return
                    }
                }
            }
        }
    }

    /// Returns once every line logged so far is written (before the process exits).
    func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in queue.async { continuation.resume() } }
    }
}
