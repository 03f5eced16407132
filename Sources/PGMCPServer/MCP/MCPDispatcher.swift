import PGConfig
import PGMCPJSON
import PGRegistry

/// Dispatches JSON-RPC messages of an initialized transport session: `ping`, `tools/list`,
/// `tools/call`, and the notifications `initialized` and `cancelled`; and runs tools. What a
/// request passes before it gets here (its era, `initialize`, its session) is `MCPSessionGate`'s.
public final class MCPDispatcher: Sendable {
    public let context: ServerContext
    public let catalog: ToolCatalog
    /// `initialize`'s and `server/discover`'s instructions, for the tools served (`ServerInstructions`).
    let instructions: String
    /// `PGMCP_FENCE_RESULTS`, read once (every result asks).
    let fencesResults: Bool

    public init(context: ServerContext, catalog: ToolCatalog? = nil) {
        self.context = context
        let settings = context.settings
        let served = catalog ?? ToolCatalog(selection: settings.tools, dynamicConnections: settings.allowDynamicConnections)
        self.catalog = served
        instructions = ServerInstructions.text(serving: served, fencing: settings.fenceResults)
        fencesResults = settings.fenceResults
    }

    /// Methods a session can call, for telling "unknown method" from "needs a session".
    static let sessionMethods: Set<String> = ["ping", "tools/list", "tools/call"]

    /// The response to a request, or `nil` for a notification or a client's response.
    func handle(_ message: JSONRPCMessage, in transport: TransportSession) async -> OutgoingMessage? {
        switch message {
        case .response:
            return nil
        case .notification(let method, let params):
            if method == "notifications/cancelled", let id = params["requestId"].flatMap(JSONRPCID.init) {
                transport.cancel(id)
            }
            return nil
        case .request(let id, let method, let params):
            ProtocolMetrics.record(version: transport.protocolVersion, method: method)
            switch method {
            case "ping":
                return .value(JSONRPC.result([:], id: id))
            case "tools/list":
                return .value(JSONRPC.result(catalog.listing(for: transport.protocolVersion), id: id))
            case "tools/call":
                return await transport.track(id) { [self] in
                    switch await callTool(params, in: transport.workSession) {
                    case .success(.structured(let structured)):
                        return .toolSuccess(id: id, structured: structured, fence: fence())
                    case .success(.failed(let result)):
                        return .value(JSONRPC.result(result, id: id))
                    case .failure(var error):
                        error.id = id
                        return .value(error.response)
                    }
                }
            case "initialize":
                return .value(JSONRPCError(.invalidRequest, "the session is already initialized", id: id).response)
            default:
                return .value(JSONRPCError(.methodNotFound, "method not found: \(method)", id: id).response)
            }
        }
    }

    /// A fresh fence for one result's text, while `PGMCP_FENCE_RESULTS` is on.
    func fence() -> DataFence? { fencesResults ? DataFence() : nil }

    /// The `initialize` result for the requested version (negotiated as the lifecycle spec says).
    func initializeResult(_ params: JSONObject) -> (result: JSONValue, version: String) {
        let version = MCPVersion.negotiate(params["protocolVersion"]?.stringValue)
        let result: JSONValue = [
            "protocolVersion": .string(version),
            "capabilities": ["tools": ["listChanged": false]],
            "serverInfo": ["name": .string(MCPVersion.serverName), "title": "pgmcp — PostgreSQL", "version": .string(MCPVersion.serverVersion)],
            "instructions": .string(instructions),
        ]
        return (result, version)
    }

    /// What a known tool's call produced: its structured content, or an `isError` result.
    enum ToolOutcome {
        case structured(JSONObject)
        case failed(JSONValue)
    }

    /// Runs the tool `params` name in `session`, or in the open_session handle its arguments name
    /// (which must be `session`'s caller's).
    func callTool(_ params: JSONObject, in session: WorkSession) async -> Result<ToolOutcome, JSONRPCError> {
        guard case .string(let name)? = params["name"] else {
            return .failure(JSONRPCError(.invalidParams, "tools/call needs \"name\" (a string)"))
        }
        guard let tool = catalog[name] else {
            guard ToolSelection.knownTools.contains(name) else {
                return .failure(JSONRPCError(.invalidParams, "unknown tool '\(name)'; tools/list shows the tools"))
            }
            return .failure(
                JSONRPCError(
                    .invalidParams, "tool '\(name)' is not served here (PGMCP_TOOLS=\(context.settings.tools.text)); tools/list shows the tools"))
        }
        var arguments = JSONObject()
        switch params["arguments"] {
        case nil, .null?: break
        case .object(let given)?: arguments = given
        case let other?: return .failure(JSONRPCError(.invalidParams, "\"arguments\" must be an object, got \(other.typeName)"))
        }
        let started = ContinuousClock.now
        let outcome = await run(tool, arguments: arguments, in: session)
        let failed = if case .failed = outcome { true } else { false }
        tool.definition.metrics.record(duration: ContinuousClock.now - started, failed: failed)
        return .success(outcome)
    }

    /// Runs a known tool; any failure becomes an `isError` result. Either way the result honours
    /// `PGMCP_MAX_RESULT_BYTES` (see `ResultBudget`): every tool's result passes through here.
    private func run(_ tool: ServedTool, arguments: JSONObject, in caller: WorkSession) async -> ToolOutcome {
        let maxBytes = context.settings.maxResultBytes
        do {
            let session = try resolveSession(arguments, tool: tool, caller: caller)
            let call = ToolCall(
                arguments: try ToolArguments(arguments, allowed: tool.definition.argumentNames), session: session, server: context)
            switch ResultBudget.fit(try await tool.definition.handler(call), maxBytes: maxBytes) {
            case .fits(let result):
                return .structured(result)
            case .tooLarge(let bytes):
                throw ToolError(
                    "the result is \(bytes) bytes, over PGMCP_MAX_RESULT_BYTES=\(maxBytes) even cut to one item per list and its strings emptied. Narrow the request (fewer columns, a smaller statement to explain, a narrower schema or table) or raise PGMCP_MAX_RESULT_BYTES"
                )
            }
        } catch {
            let failure = ToolError.from(error)
            if Task.isCancelled, !failure.explainsCancellation { return .failed(Self.failure(ToolError("the call was cancelled"), maxBytes: maxBytes)) }
            return .failed(Self.failure(failure, maxBytes: maxBytes))
        }
    }

    /// The work session a call runs in: the `session` argument's (same credentials as `caller`
    /// only), or `caller`.
    func resolveSession(_ arguments: JSONObject, tool: ServedTool, caller: WorkSession) throws(ToolError) -> WorkSession {
        guard tool.definition.routesBySessionArgument, let value = arguments["session"], value != .null else { return caller }
        guard case .string(let raw) = value else { throw ToolError("argument 'session' must be a string handle from open_session") }
        // Already resolved for its owner (a 2026-07-28 call in its handle's session): not looked up twice.
        if raw == caller.handle.rawValue { return caller }
        do { return try context.registry.session(SessionHandle(rawValue: raw), ownedBy: caller.ownedBy) } catch {
            throw ToolError.from(error)
        }
    }

    /// The `isError` result, its text cut to fit `maxBytes` (a PostgreSQL error may quote a
    /// megabyte parameter back, a refused argument echo a megabyte name).
    static func failure(_ error: ToolError, maxBytes: Int) -> JSONValue {
        var text = error.message
        if let details = error.details, let sqlState = details["sqlstate"]?.stringValue, !text.contains(sqlState) {
            text += " (SQLSTATE \(sqlState))"
        }
        let envelope = failureResult("").serializedSize - 2
        return failureResult(text.cut(toSerializedBytes: maxBytes - envelope))
    }

    private static func failureResult(_ text: String) -> JSONValue {
        ["content": [["type": "text", "text": .string(text)]], "isError": true]
    }
}
