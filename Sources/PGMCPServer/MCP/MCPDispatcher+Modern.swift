import PGMCPJSON

extension MCPDispatcher {
    /// Methods a 2026-07-28 client may call here. What that version removed (`initialize`, `ping`,
    /// `logging/setLevel`, …) is unknown to it, like any other method: -32601.
    static let modernMethods: Set<String> = ["server/discover", "tools/list", "tools/call"]

    /// The answer to a 2026-07-28 request other than `tools/call` (which `MCPSessionGate.serveModern`
    /// runs in its work session): `server/discover`, `tools/list`, or -32601.
    func handleModern(id: JSONRPCID, method: String) -> OutgoingMessage {
        ProtocolMetrics.record(version: ModernProtocol.version, method: method)
        switch method {
        case "server/discover":
            return .value(JSONRPC.result(.object(ModernProtocol.discoverResult(instructions: instructions, posture: discoverPosture)), id: id))
        case "tools/list":
            var listing = catalog.listing(for: ModernProtocol.version).objectValue ?? JSONObject()
            listing["ttlMs"] = .int(ModernProtocol.listTTLMilliseconds)
            listing["cacheScope"] = "public"
            return .value(JSONRPC.result(.object(ModernProtocol.complete(listing)), id: id))
        default:
            return .value(
                JSONRPCError(
                    .methodNotFound, "Method not found: \(method) (MCP \(ModernProtocol.version) serves \(Self.modernMethods.sorted().joined(separator: ", ")))", id: id,
                    data: .string(method)
                ).response)
        }
    }

    /// The posture `server/discover` states: the configured databases by name unless OAuth decides
    /// per caller which of them exist.
    var discoverPosture: JSONValue {
        let settings = context.settings
        let databases = context.registry.configuration.databases.map { (name: $0.id, readOnly: $0.readOnly) }
        return SecurityPosture.json(settings: settings, databases: settings.oauthIssuer == nil ? databases : nil)
    }

    /// A 2026-07-28 `tools/call`'s answer, shaped as that version shapes results.
    func modernAnswer(_ outcome: Result<ToolOutcome, JSONRPCError>, id: JSONRPCID) -> OutgoingMessage {
        switch outcome {
        case .success(.structured(let structured)):
            return .toolSuccess(id: id, structured: structured, modern: true, fence: fence())
        case .success(.failed(let result)):
            return .value(JSONRPC.result(.object(ModernProtocol.complete(result.objectValue ?? JSONObject())), id: id))
        case .failure(var error):
            error.id = id
            return .value(error.response)
        }
    }
}
