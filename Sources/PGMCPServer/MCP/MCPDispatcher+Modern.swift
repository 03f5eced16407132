import PGMCPJSON
import PGRegistry

extension MCPDispatcher {
    /// Methods a 2026-07-28 client may call here. What that version removed (`initialize`, `ping`,
    /// `logging/setLevel`, …) is unknown to it, like any other method: -32601.
    static let modernMethods: Set<String> = ["server/discover", "tools/list", "tools/call"]

    /// A 2026-07-28 request whose envelope the transport has checked (`ModernProtocol.envelope`, the
    /// version supported, over HTTP the headers too). It
    /// holds no state the call uses, unless the call names a `session` handle. `requests` tracks it
    /// for cancellation; `owner` is the caller's credential, which a handle must match.
    func handleModern(
        id: JSONRPCID, method: String, params: JSONObject, envelope: ModernProtocol.Envelope, requests: RequestTracker, owner: String?,
        identities: [String]? = nil
    ) async -> OutgoingMessage {
        ProtocolMetrics.record(version: ModernProtocol.version, method: method)
        switch method {
        case "server/discover":
            return .value(JSONRPC.result(.object(ModernProtocol.discoverResult()), id: id))
        case "tools/list":
            var listing = catalog.listing.objectValue ?? JSONObject()
            listing["ttlMs"] = .int(ModernProtocol.listTTLMilliseconds)
            listing["cacheScope"] = "public"
            return .value(JSONRPC.result(.object(ModernProtocol.complete(listing)), id: id))
        case "tools/call":
            return await requests.track(id) { [self] in
                // A work session of the call's own: what it does (a clone's copy, a statement) ends
                // with it, unless it names an open_session handle (then it holds no place of its own).
                let outcome: Result<ToolOutcome, JSONRPCError>
                do {
                    outcome = try await context.registry.withCallSession(
                        label: envelope.clientName, owner: owner, identities: identities, holdsPlace: callHoldsPlace(params)
                    ) { session in
                        let transport = TransportSession(id: "call", workSession: session, protocolVersion: ModernProtocol.version)
                        return await callTool(params, transport: transport, stateless: true)
                    }
                } catch {
                    // Too many sessions and calls at once: the server is busy, say so as 2025 does.
                    return .value(JSONRPCError(.serverBusy, (error as? RegistryError)?.message ?? "the server is busy", id: id).response)
                }
                switch outcome {
                case .success(.structured(let structured)):
                    return .toolSuccess(id: id, structured: structured, modern: true)
                case .success(.failed(let result)):
                    return .value(JSONRPC.result(.object(ModernProtocol.complete(result.objectValue ?? JSONObject())), id: id))
                case .failure(var error):
                    error.id = id
                    return .value(error.response)
                }
            }
        default:
            return .value(
                JSONRPCError(
                    .methodNotFound, "Method not found: \(method) (MCP \(ModernProtocol.version) serves \(Self.modernMethods.sorted().joined(separator: ", ")))", id: id,
                    data: .string(method)
                ).response)
        }
    }
}
