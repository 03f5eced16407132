import Foundation

/// How configuration reads files (config files, `passwordFile`) and checks paths (`sslrootcert`).
/// Reading is blocking I/O: configuration is loaded at start-up, off Swift's cooperative pool
/// (see `Configuration.loadOffPool`).
public struct FileAccess: Sendable {
    public var readText: @Sendable (String) throws -> String
    public var exists: @Sendable (String) -> Bool

    public init(readText: @escaping @Sendable (String) throws -> String, exists: @escaping @Sendable (String) -> Bool) {
        self.readText = readText
        self.exists = exists
    }

    /// The real file system.
    public static let system = FileAccess(
        readText: { path in try String(contentsOfFile: path, encoding: .utf8) },
        exists: { path in FileManager.default.fileExists(atPath: path) }
    )
}
