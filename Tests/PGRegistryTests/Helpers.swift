import Foundation
import Logging
import PGClient
import PGConfig
import PGRegistry
import Synchronization
import TestSupport

/// A pool on the test cluster with its own `application_name`, so its backends can be counted.
/// A pool's configuration for tests: short back-offs, so that a refused connect is retried soon.
func testPoolConfiguration(maximum: Int, minimum: Int, idleTimeout: Duration, maxLifetime: Duration?) -> PoolStateMachine.Configuration {
    var configuration = PoolStateMachine.Configuration()
    configuration.maximum = maximum
    configuration.minimum = minimum
    configuration.idleTimeout = idleTimeout
    configuration.maxLifetime = maxLifetime
    configuration.backoffInitial = .milliseconds(100)
    configuration.backoffMaximum = .seconds(1)
    return configuration
}

func testPool(
    name: String = TestDatabase.uniqueName("pool"), maximum: Int = 3, minimum: Int = 0,
    idleTimeout: Duration = .seconds(300), maxLifetime: Duration? = .seconds(1800),
    parameters: PGConnectionParameters? = nil
) throws -> ConnectionPool {
    let pool = ConnectionPool(
        name: name, parameters: try parameters ?? TestDatabase.parameters(),
        configuration: testPoolConfiguration(maximum: maximum, minimum: minimum, idleTimeout: idleTimeout, maxLifetime: maxLifetime),
        applicationName: name, connectTimeout: .seconds(5), logger: Logger(label: "test"))
    // Its connects and closes: until the test shuts it down.
    Task { await pool.run() }
    return pool
}

/// A registry over the test cluster; `server` tweaks the settings.
func testRegistry(
    databases: [DatabaseConfig]? = nil, clock: ManualClock? = nil, _ server: (inout ServerSettings) -> Void = { _ in }
) throws -> (ConnectionPoolRegistry, String) {
    let prefix = TestDatabase.uniqueName("reg")
    var settings = ServerSettings()
    settings.acquireTimeout = .seconds(5)
    server(&settings)
    let configuration = Configuration(databases: try databases ?? [TestDatabase.config(id: "main")], source: "test", server: settings)
    let now: @Sendable () -> ContinuousClock.Instant
    if let clock { now = { clock.now } } else { now = { .now } }
    let registry = ConnectionPoolRegistry(configuration: configuration, applicationName: prefix, clock: now)
    // Its pools' connects and closes: until the test shuts it down.
    Task { await registry.poolGroup.run() }
    return (registry, prefix)
}

/// Resident set size of this process, in bytes.
func residentBytes() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }
    return 0
}

/// Collects what is logged, for tests that check a log line was written (and holds no secret).
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "captured") { _ in Handler(log: self) }
        logger.logLevel = .debug
        return logger
    }

    var messages: [String] { lines.withLock { $0 } }

    struct Handler: LogHandler {
        let log: CapturedLog
        var logLevel = Logger.Level.debug
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            log.lines.withLock { $0.append("\(event.level) \(event.message) \(fields)") }
        }
    }
}
