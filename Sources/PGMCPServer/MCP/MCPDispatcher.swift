import PGMCPJSON
import PGRegistry

/// Dispatches JSON-RPC messages of an initialized transport session: `ping`, `tools/list`,
/// `tools/call`, and the notifications `initialized` and `cancelled`. Transports handle
/// `initialize` themselves (it creates the session) through `initialize(_:transportID:)`.
public final class MCPDispatcher: Sendable {
    public let context: ServerContext
    public let catalog: ToolCatalog

    public init(context: ServerContext, catalog: ToolCatalog = ToolCatalog()) {
        self.context = context
        self.catalog = catalog
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
                return .value(JSONRPC.result(catalog.listing, id: id))
            case "tools/call":
                return await transport.track(id) { [self] in
                    switch await callTool(params, transport: transport) {
                    case .success(.structured(let structured)):
                        return .toolSuccess(id: id, structured: structured)
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

    /// `initialize`: creates the transport session's work session (named after the client) and returns
    /// the transport session with the result to send. Transports call this after validating the request.
    /// `expiresWhenIdle` is false for stdio, whose one session lives as long as its stream.
    func initialize(
        _ params: JSONObject, transportID: String, expiresWhenIdle: Bool = true, owner: String? = nil, identities: [String]? = nil
    ) throws(RegistryError) -> (TransportSession, JSONValue) {
        let (result, version) = initializeResult(params)
        ProtocolMetrics.record(version: version, method: "initialize")
        let work = try context.registry.createSession(
            label: params["clientInfo"]?["name"]?.stringValue, owner: owner, identities: identities, expiresWhenIdle: expiresWhenIdle)
        return (TransportSession(id: transportID, workSession: work, protocolVersion: version), result)
    }

    /// The `initialize` result for the requested version (negotiated as the lifecycle spec says).
    private func initializeResult(_ params: JSONObject) -> (result: JSONValue, version: String) {
        let version = MCPVersion.negotiate(params["protocolVersion"]?.stringValue)
        let result: JSONValue = [
            "protocolVersion": .string(version),
            "capabilities": ["tools": ["listChanged": false]],
            "serverInfo": ["name": .string(MCPVersion.serverName), "title": "pgmcp — PostgreSQL", "version": .string(MCPVersion.serverVersion)],
            "instructions": .string(Self.instructions),
        ]
        return (result, version)
    }

    static let instructions = """
        pgmcp gives access to several named PostgreSQL databases. Start with list_databases; select_database \
        switches this session's active database, or pass 'database' to any tool. A selection lasts for this MCP \
        session only: if your client opens a new session per call, pass 'database' (or an open_session handle as \
        'session') on every call. execute writes only to a database the call names or this session selected. query runs one read-only \
        statement; execute writes where a database allows it; list_schemas, list_tables, describe_table and \
        explain show structure and plans. Use $1, $2 … with 'params' for values. open_session mints an \
        isolated work session to pass as 'session'.
        """

    /// What a known tool's call produced: its structured content, or an `isError` result.
    enum ToolOutcome {
        case structured(JSONObject)
        case failed(JSONValue)
    }

    /// - Parameter stateless: the call's protocol keeps no session (MCP 2026-07-28): without a
    ///   `session` handle it runs in a work session of its own that ends with it, and a tool that
    ///   changes a session's state is refused.
    func callTool(
        _ params: JSONObject, transport: TransportSession, stateless: Bool = false
    ) async -> Result<ToolOutcome, JSONRPCError> {
        guard case .string(let name)? = params["name"] else {
            return .failure(JSONRPCError(.invalidParams, "tools/call needs \"name\" (a string)"))
        }
        guard let tool = catalog[name] else {
            return .failure(JSONRPCError(.invalidParams, "unknown tool '\(name)'; tools/list shows the tools"))
        }
        var arguments = JSONObject()
        switch params["arguments"] {
        case nil, .null?: break
        case .object(let given)?: arguments = given
        case let other?: return .failure(JSONRPCError(.invalidParams, "\"arguments\" must be an object, got \(other.typeName)"))
        }
        let started = ContinuousClock.now
        let outcome = await run(tool, arguments: arguments, transport: transport, stateless: stateless)
        let failed = if case .failed = outcome { true } else { false }
        tool.metrics.record(duration: ContinuousClock.now - started, failed: failed)
        return .success(outcome)
    }

    /// Runs a known tool; any failure becomes an `isError` result. Either way the result honours
    /// `PGMCP_MAX_RESULT_BYTES` (see `ResultBudget`): every tool's result passes through here.
    private func run(_ tool: ToolDefinition, arguments: JSONObject, transport: TransportSession, stateless: Bool) async -> ToolOutcome {
        let handle = arguments["session"]
        if stateless, tool.keepsSessionState, handle == nil || handle == .null {
            return .failed(
                Self.failure(
                    ToolError(
                        "\(tool.name) changes a work session's state, and MCP \(ModernProtocol.version) keeps none between calls: call open_session first and pass its handle as 'session' to this and the calls that follow"
                    ),
                    maxBytes: context.settings.maxResultBytes))
        }
        // Stateless, the transport's work session is the call's own (see `handleModern`).
        return await run(tool, arguments: arguments, transport: transport, in: nil)
    }

    /// Runs a known tool in `callSession`, or in the session its arguments or transport name.
    private func run(_ tool: ToolDefinition, arguments: JSONObject, transport: TransportSession, in callSession: WorkSession?) async -> ToolOutcome {
        let maxBytes = context.settings.maxResultBytes
        do {
            let session = try callSession ?? resolveSession(arguments, tool: tool, transport: transport)
            let call = ToolCall(
                arguments: try ToolArguments(arguments, allowed: tool.argumentNames), session: session, server: context)
            switch ResultBudget.fit(try await tool.handler(call), maxBytes: maxBytes) {
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

    /// The work session a call runs in: the `session` argument's (same credentials only), or the transport's.
    func resolveSession(_ arguments: JSONObject, tool: ToolDefinition, transport: TransportSession) throws(ToolError) -> WorkSession {
        guard tool.routesBySessionArgument, let value = arguments["session"], value != .null else { return transport.workSession }
        guard case .string(let raw) = value else { throw ToolError("argument 'session' must be a string handle from open_session") }
        let caller = transport.workSession
        do { return try context.registry.session(SessionHandle(rawValue: raw), ownedBy: caller.owner, identities: caller.identities) } catch {
            throw ToolError.from(error)
        }
    }

    /// Whether a stateless call (MCP 2026-07-28) of `params` needs a work session of its own that
    /// holds a place against the session limits. Not when it names a handle (it runs in that
    /// session, which holds its place already), nor for a tool that uses only its caller
    /// (`usesCallerOnly`), nor for a call that fails before any tool runs.
    func callHoldsPlace(_ params: JSONObject) -> Bool {
        guard case .string(let name)? = params["name"], let tool = catalog[name], !tool.usesCallerOnly else { return false }
        guard tool.routesBySessionArgument, case .object(let arguments)? = params["arguments"], let handle = arguments["session"] else { return true }
        return handle == .null
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
