import Hummingbird
import IOReactor
import Logging
import Metrics
import PGConfig
import PGRegistry
import Prometheus
import ServiceLifecycle

/// Runs `pgmcp serve`: the registry's housekeeping, the HTTP or stdio transport, and an orderly
/// shutdown on SIGINT/SIGTERM: sessions end first (their statements cancelled), so in-flight requests
/// finish at once; then the HTTP server drains and the pools close.
public enum ServerRuntime {
    /// The Prometheus registry behind `/metrics`; swift-metrics can be bootstrapped once per process.
    public static let prometheus: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// Logs to standard error only (stdout belongs to stdio MCP), at `level`. Once per process.
    public static func bootstrapLogging(_ level: ServerSettings.LogLevel) -> Logger {
        LoggingSystem.bootstrap { label in
            StandardErrorLogHandler(label: label, level: Logger.Level(rawValue: level.rawValue) ?? .info)
        }
        return Logger(label: "pgmcp")
    }

    /// Runs `body`, and every task it starts in structured concurrency (child tasks inherit the
    /// preference; Hummingbird's connection handlers are child tasks), on the NIO event loops:
    /// see `EventLoopTaskExecutor`.
    public static func onEventLoops<T>(_ body: () async throws -> T) async throws -> T {
        try await on(EventLoopTaskExecutor.shared, body)
    }

    static func on<T>(_ executor: any TaskExecutor, _ body: () async throws -> T) async throws -> T {
        try await EventLoopTaskExecutor.$current.withValue(executor) {
            try await withTaskExecutorPreference(executor, operation: body)
        }
    }

    public static func serve(
        configuration: Configuration, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let metrics = prometheus
        // A replica id of its own unless one is set: handles and session ids name the process.
        var configuration = configuration
        if configuration.server.replicaID == nil { configuration.server.replicaID = ServerSettings.randomReplicaID() }
        logger.info("replica", metadata: ["id": "\(configuration.server.replicaID ?? "")"])
        let registry = ConnectionPoolRegistry(configuration: configuration, logger: logger)
        let dispatcher = MCPDispatcher(context: ServerContext(registry: registry, logger: logger))
        let housekeeping = RegistryHousekeeping(registry: registry)
        let sessionsFirst = EndSessionsOnShutdown(registry: registry)

        // The transport runs between housekeeping and the session closer; when it ends on its own
        // (stdio's input closed) the whole group shuts down gracefully.
        let transport: any Service
        let executor: any TaskExecutor
        switch configuration.server.transport {
        case .stdio:
            // One session, whose waits (input, PostgreSQL) are all on IOReactor's thread: its tasks
            // run there too, so an answer resumes its call without waking another thread.
            transport = StdioService(transport: StdioTransport(dispatcher: dispatcher))
            executor = IOReactor.shared
        case .http:
            transport = HTTPServer.makeApplication(dispatcher: dispatcher, metrics: metrics, logger: logger, onListening: onListening)
            executor = EventLoopTaskExecutor.shared
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: housekeeping),
                    .init(service: transport, successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: sessionsFirst),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await on(executor) { try await group.run() }
        logger.info("stopped")
        await StandardErrorLogHandler.output.flush()
    }
}

/// Pool ticks and the session reaper, once a second, until shutdown; then every pool closes.
struct RegistryHousekeeping: Service {
    let registry: ConnectionPoolRegistry

    func run() async throws {
        await cancelWhenGracefulShutdown { await registry.run() }
        await registry.shutdown()
    }

}

/// The stdio transport as a service: ends at end of input, or at shutdown.
struct StdioService: Service {
    let transport: StdioTransport

    func run() async throws {
        await cancelWhenGracefulShutdown { await transport.run() }
    }
}

/// Last in the service group, so first to hear of shutdown: ends every session at once, which
/// cancels running statements and lets the HTTP server drain quickly.
struct EndSessionsOnShutdown: Service {
    let registry: ConnectionPoolRegistry

    func run() async throws {
        try? await gracefulShutdown()
        await registry.shutdown()
    }
}
