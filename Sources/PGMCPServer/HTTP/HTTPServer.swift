import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PGMCPJSON
import PGMCPOAuth
import PGRegistry
import Prometheus

/// The HTTP application: `/mcp`, `/healthz`, `/readyz`, `/metrics`.
public enum HTTPServer {
    /// Builds the Hummingbird application. `onListening` receives the bound port (useful with port 0).
    public static func makeApplication(
        dispatcher: MCPDispatcher, metrics: PrometheusCollectorRegistry?, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let settings = dispatcher.context.settings
        let validation = RequestValidation(settings: settings)
        for entry in validation.unusableOrigins {
            logger.warning("PGMCP_ALLOWED_ORIGINS: '\(entry)' is not an origin (scheme://host[:port]); it allows nothing")
        }
        let oauth = OAuthConfiguration(settings: settings).map { configuration in
            OAuthGate(
                verifier: TokenVerifier(configuration: configuration, logger: logger), configuration: configuration,
                staticToken: settings.authToken?.reveal())
        }
        let endpoint = MCPHTTPEndpoint(
            gate: MCPSessionGate(dispatcher: dispatcher), sessions: TransportSessions(registry: dispatcher.context.registry), validation: validation,
            logger: logger)
        func guarded(_ level: AccessMiddleware.Level) -> AccessMiddleware { AccessMiddleware(level: level, validation: validation, oauth: oauth) }
        let router = Router(context: MCPRequestContext.self)

        // Open routes: they say nothing about the databases.
        router.get("/healthz") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        if let oauth {
            // RFC 9728: where clients learn which authorization server issues tokens for this resource.
            let document: @Sendable (Request, MCPRequestContext) -> Response = { _, _ in
                Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: oauth.metadataDocument)))
            }
            router.get("/.well-known/oauth-protected-resource", use: document)
            let path = URL(string: oauth.configuration.audience)?.path ?? ""
            if !path.isEmpty && path != "/" { router.get("/.well-known/oauth-protected-resource\(path)", use: document) }
        }
        router.group().add(middleware: guarded(.originAndHost)).get("/readyz") { _, _ in await readiness(dispatcher.context) }
        router.group().add(middleware: guarded(.operator)).get("/metrics") { _, _ in
            var text: [UInt8] = []
            dispatcher.context.registry.publishPoolGauges()
            metrics?.emit(into: &text)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }

        // Every route from here on has a caller, checked: a new one cannot forget it.
        router.add(middleware: guarded(.caller))
        router.post("/mcp") { request, context in
            let admission = try context.admission
            return await EventLoopTaskExecutor.stayOnThisLoop {
                await endpoint.post(request, headers: admission.headers, caller: admission.caller, channel: context.channel)
            }
        }
        router.get("/mcp") { request, context in try await endpoint.get(request, caller: context.caller) }
        router.delete("/mcp") { request, context in try await endpoint.delete(request, caller: context.caller) }
        return Application(
            router: router,
            // Every connection is watched for its client going away, to cancel calls nobody awaits.
            server: .http1(configuration: .init(additionalChannelHandlers: [ClientConnectionHandler()])),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "pgmcp"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? settings.port) },
            logger: logger)
    }

    /// 200 when the default database answers `SELECT 1`, else 503 with the reason.
    static func readiness(_ context: ServerContext) async -> Response {
        let database = context.registry.configuration.defaultDatabaseID
        let timeout = min(context.settings.acquireTimeout, .seconds(2))
        var body: JSONValue
        var status = HTTPResponse.Status.ok
        do {
            try await context.registry.probe(database, timeout: timeout)
            body = ["status": "ready", "database": .string(database)]
        } catch {
            status = .serviceUnavailable
            body = ["status": "unavailable", "database": .string(database), "reason": .string(ToolError.from(error).message)]
        }
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: body.serialized())))
    }
}
