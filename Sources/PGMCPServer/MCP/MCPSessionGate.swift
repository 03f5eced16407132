import PGMCPJSON
import PGRegistry

/// What every MCP request passes before a method runs, the same over Streamable HTTP and stdio, in
/// both eras: the era (`MCPEra`), `initialize` (a 2025 session and its work session), a 2025
/// session found for its own caller only, each request counted as the session's activity, a
/// 2026-07-28 request's `_meta` envelope, and the work session a 2026-07-28 tool call runs in.
///
/// Transports keep only what is theirs: HTTP its status codes, headers and batches
/// (`MCPHTTPEndpoint`), stdio its lines and the era its pipe settled on (`StdioTransport`).
struct MCPSessionGate: Sendable {
    let dispatcher: MCPDispatcher

    var registry: ConnectionPoolRegistry { dispatcher.context.registry }

    // MARK: MCP 2025: sessions opened by initialize

    /// `initialize`: a work session for `caller` (named after the client) and the transport session
    /// `transportID` that maps to it, with the result to send. -32000 when the session table is full.
    /// `expiresWhenIdle` is false for stdio, whose one session lives as long as its stream.
    func initialize(
        _ params: JSONObject, id: JSONRPCID, transportID: String, expiresWhenIdle: Bool = true, caller: Caller
    ) throws(JSONRPCError) -> (session: TransportSession, result: JSONValue) {
        let (result, version) = dispatcher.initializeResult(params)
        ProtocolMetrics.record(version: version, method: "initialize")
        let work: WorkSession
        do {
            work = try registry.createSession(
                label: params["clientInfo"]?["name"]?.stringValue, ownedBy: caller, expiresWhenIdle: expiresWhenIdle)
        } catch {
            throw JSONRPCError(.serverBusy, error.message, id: id)
        }
        return (TransportSession(id: transportID, workSession: work, protocolVersion: version), result)
    }

    /// `session` if it is `caller`'s: a session belongs to the credential that initialized it, and
    /// to any other it does not exist.
    func owned(_ session: TransportSession?, by caller: Caller) -> TransportSession? {
        guard let session, session.workSession.belongs(to: caller) else { return nil }
        return session
    }

    /// Counts a request as `session`'s activity: its idle timeout starts again (stdio's session never
    /// idles out; there it is for the statistics).
    func markActive(_ session: TransportSession) {
        session.workSession.touch()
    }

    // MARK: MCP 2026-07-28: requests that stand alone

    /// A 2026-07-28 request's `_meta` envelope, read and checked: well formed (-32602), agreeing
    /// with what the transport carries beside the body (`transportCheck`: HTTP's headers, -32020),
    /// and of a version this server speaks (-32022).
    func envelope(
        of params: JSONObject, id: JSONRPCID, transportCheck: (ModernProtocol.Envelope) throws(JSONRPCError) -> Void = { _ in }
    ) throws(JSONRPCError) -> ModernProtocol.Envelope {
        let envelope = try ModernProtocol.envelope(of: params, id: id)
        try transportCheck(envelope)
        guard ModernProtocol.supported.contains(envelope.version) else { throw ModernProtocol.unsupported(envelope.version, id: id) }
        return envelope
    }

    /// Serves a 2026-07-28 request whose envelope passed. It holds no state: a tool call runs in a
    /// work session of its own that ends with it (what it made, a clone's copy or a statement, ends
    /// too), unless it names an open_session handle of `caller`'s. `requests` tracks the call for
    /// `notifications/cancelled` (a stdio pipe's; none over HTTP, where no other request can name it).
    ///
    /// `pipeSession`: on stdio, the work session the process's one client keeps; a call without a
    /// handle runs there, with its state (a selection, a transaction) kept for the next call.
    func serveModern(
        id: JSONRPCID, method: String, params: JSONObject, envelope: ModernProtocol.Envelope, requests: RequestTracker?, caller: Caller,
        pipeSession: WorkSession? = nil
    ) async -> OutgoingMessage {
        guard method == "tools/call" else { return dispatcher.handleModern(id: id, method: method) }
        ProtocolMetrics.record(version: ModernProtocol.version, method: method)
        return await RequestTracker.run(id, in: requests) { [self] in
            if let pipeSession {
                pipeSession.touch()
                return dispatcher.modernAnswer(await dispatcher.callTool(params, in: pipeSession), id: id)
            }
            // In a handle of the caller's the call needs no work session of its own (one would only be
            // made and ended around it); any other handle takes the path below, which explains it.
            if let session = namedSession(params, caller: caller) {
                return dispatcher.modernAnswer(await dispatcher.callTool(params, in: session), id: id)
            }
            if keepsItsSession(params) { return await callKeepingSession(params, id: id, label: envelope.clientName, caller: caller) }
            let outcome: Result<MCPDispatcher.ToolOutcome, JSONRPCError>
            do {
                outcome = try await registry.withCallSession(
                    label: envelope.clientName, ownedBy: caller, holdsPlace: callHoldsPlace(params)
                ) { session in
                    await dispatcher.callTool(params, in: session)
                }
            } catch {
                // Too many sessions and calls at once: the server is busy, say so as 2025 does.
                return .value(JSONRPCError(.serverBusy, (error as? RegistryError)?.message ?? "the server is busy", id: id).response)
            }
            return dispatcher.modernAnswer(outcome, id: id)
        }
    }

    /// The live session of the open_session handle a call of `params` runs in, when it names one of
    /// `caller`'s (for a tool that runs where `session` says).
    private func namedSession(_ params: JSONObject, caller: Caller) -> WorkSession? {
        guard case .string(let raw)? = Self.handle(in: params), tool(params)?.definition.routesBySessionArgument == true else { return nil }
        return try? registry.session(SessionHandle(rawValue: raw), ownedBy: caller)
    }

    /// Whether a 2026-07-28 call of `params` holds a place against the session limits while it
    /// runs. Not when it names a handle (it runs in that session, which holds its place already),
    /// nor for a tool that uses only its caller (`usesCallerOnly`), nor for a call that fails
    /// before any tool runs.
    func callHoldsPlace(_ params: JSONObject) -> Bool {
        guard let tool = tool(params), !tool.definition.usesCallerOnly else { return false }
        return !tool.definition.routesBySessionArgument || Self.handle(in: params) == nil
    }

    /// The served tool a call of `params` names.
    func tool(_ params: JSONObject) -> ServedTool? {
        params["name"]?.stringValue.flatMap { dispatcher.catalog[$0] }
    }

    /// The `session` argument of a call of `params`, unless it is absent or null.
    static func handle(in params: JSONObject) -> JSONValue? {
        guard case .object(let arguments)? = params["arguments"], let handle = arguments["session"], handle != .null else { return nil }
        return handle
    }
}
