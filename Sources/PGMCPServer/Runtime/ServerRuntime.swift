import Hummingbird
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

    public static func serve(
        configuration: Configuration, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let metrics = prometheus
        let registry = ConnectionPoolRegistry(configuration: configuration, logger: logger)
        let dispatcher = MCPDispatcher(context: ServerContext(registry: registry, logger: logger))
        let housekeeping = RegistryHousekeeping(registry: registry)
        let sessionsFirst = EndSessionsOnShutdown(registry: registry)

        switch configuration.server.transport {
        case .stdio:
            let stdio = StdioTransport(dispatcher: dispatcher, logger: logger)
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await housekeeping.runUntilCancelled() }
                await stdio.run()
                group.cancelAll()
            }
            await registry.shutdown()
        case .http:
            let app = HTTPServer.makeApplication(dispatcher: dispatcher, metrics: metrics, logger: logger, onListening: onListening)
            let group = ServiceGroup(
                configuration: .init(
                    services: [housekeeping, app, sessionsFirst], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
        logger.info("stopped")
    }
}

/// Pool ticks and the session reaper, once a second, until shutdown; then every pool closes.
struct RegistryHousekeeping: Service {
    let registry: ConnectionPoolRegistry

    func run() async throws {
        await cancelWhenGracefulShutdown { await registry.run() }
        await registry.shutdown()
    }

    func runUntilCancelled() async { await registry.run() }
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
