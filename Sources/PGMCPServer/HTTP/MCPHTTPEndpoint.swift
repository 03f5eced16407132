import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PGMCPJSON
import PGRegistry

/// `POST|GET|DELETE /mcp`: MCP Streamable HTTP (2025-03-26 through 2025-11-25).
///
/// POST carries one JSON-RPC message (or, for 2025-03-26 clients, a bounded batch). `initialize` creates the
/// session — after validation, never before — and answers with its `Mcp-Session-Id`; every later
/// request must carry that id (400 without, 404 once the session ended). Requests are answered as
/// JSON, or as a one-event SSE stream for a client that accepts only `text/event-stream`;
/// notifications get 202. GET would open a server-to-client stream, which this server never needs:
/// 405. DELETE ends the session.
///
/// Every route here is behind `AccessMiddleware`, which names the caller; what a request passes before
/// a method runs (era, initialize, its session, activity) is `MCPSessionGate`'s.
struct MCPHTTPEndpoint: Sendable {
    let gate: MCPSessionGate
    let sessions: TransportSessions
    let validation: RequestValidation
    let logger: Logger

    var dispatcher: MCPDispatcher { gate.dispatcher }
    var registry: ConnectionPoolRegistry { dispatcher.context.registry }

    /// At most this many messages in one JSON-RPC batch (sessions of 2025-03-26, the one version
    /// with batches): enough for a client's burst of parallel calls, far from the hundreds that
    /// made a 191 MiB answer. A longer batch is refused whole, before anything runs.
    static let maxBatchMessages = 32

    /// The bytes a batch's answer may reach: 4 × `PGMCP_MAX_RESULT_BYTES` (1 MiB by default, the
    /// largest message real MCP clients accept). Once the answers so far pass it, the batch's
    /// remaining requests are answered with an error instead of running; so an answer ends at most
    /// one result past it.
    var maxBatchAnswerBytes: Int { 4 * validation.settings.maxResultBytes }

    /// `channel` is the connection the request came on: its calls are cancelled if the client goes away.
    /// `headers` are the request's, as `AccessMiddleware` found them.
    func post(_ request: Request, headers: RequestHeaders, caller: Caller, channel: (any Channel)? = nil) async -> Response {
        let format: ResponseFormat
        do throws(RequestValidation.Rejection) { format = try validation.checkPost(headers) } catch { return error.response }

        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: validation.settings.maxRequestBytes)
        } catch {
            return errorResponse(
                .contentTooLarge, JSONRPCError(.invalidRequest, "request body over \(validation.settings.maxRequestBytes) bytes (PGMCP_MAX_REQUEST_BYTES)"))
        }
        let parsed: JSONValue
        do {
            parsed = try body.withUnsafeReadableBytes { raw throws(JSONParseError) in
                try JSONParser.parse(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count), options: .request)
            }
        } catch {
            return errorResponse(.badRequest, .unreadable(error))
        }

        if MCPEra.of(parsed, versionHeader: headers.protocolVersion) == .modern {
            return await modernPost(parsed, request: request, format: format, channel: channel, caller: caller)
        }
        if case .array(let items) = parsed {
            return await batch(items, headers: headers, format: format, channel: channel, caller: caller)
        }
        if parsed["method"]?.stringValue == "initialize" {
            return initialize(parsed, format: format, caller: caller)
        }
        // From here every error about the request as a whole answers its id, when it has a readable one.
        let id = parsed["id"].flatMap(JSONRPCID.init)
        // A legacy request's version is its header's (`MCPEra`: one that declares a version in `_meta` is modern).
        if let version = headers.protocolVersion, !MCPVersion.supported.contains(version) {
            return errorResponse(.badRequest, .unsupportedProtocolVersion(version, id: id))
        }
        guard let sessionID = headers.sessionID else {
            // A method we do not serve at all gets -32601; anything else needs a session first.
            if let method = parsed["method"]?.stringValue, !MCPDispatcher.sessionMethods.contains(method), !method.hasPrefix("notifications/") {
                return respond(JSONRPCError(.methodNotFound, "method not found: \(method)", id: id).response, format: format)
            }
            return errorResponse(.badRequest, JSONRPCError(.invalidRequest, "missing Mcp-Session-Id header: send initialize first", id: id))
        }
        guard let transport = gate.owned(sessions.find(sessionID), by: caller) else {
            return errorResponse(.notFound, JSONRPCError(.invalidRequest, "unknown or ended session: initialize a new one", id: id))
        }
        gate.markActive(transport)

        let message: JSONRPCMessage
        do throws(JSONRPCError) { message = try JSONRPCMessage.parse(parsed) } catch { return respond(error.response, format: format) }
        guard let answer = await dispatch(message, in: transport, channel: channel) else { return Response(status: .accepted) }
        return respond(answer, format: format)
    }

    /// A JSON-RPC batch: refused for sessions of 2025-06-18 and later (the spec dropped batches),
    /// and over `maxBatchMessages`; otherwise run one message after another, the answer capped at
    /// `maxBatchAnswerBytes`.
    private func batch(_ items: [JSONValue], headers: RequestHeaders, format: ResponseFormat, channel: (any Channel)?, caller: Caller) async -> Response {
        guard !items.isEmpty else { return errorResponse(.badRequest, JSONRPCError(.invalidRequest, "an empty batch")) }
        if let version = headers.protocolVersion, !MCPVersion.supported.contains(version) {
            return errorResponse(.badRequest, .unsupportedProtocolVersion(version, id: nil))
        }
        guard let sessionID = headers.sessionID else {
            return errorResponse(.badRequest, JSONRPCError(.invalidRequest, "missing Mcp-Session-Id header: send initialize first (on its own, not in a batch)"))
        }
        guard let transport = gate.owned(sessions.find(sessionID), by: caller) else {
            return errorResponse(.notFound, JSONRPCError(.invalidRequest, "unknown or ended session: initialize a new one"))
        }
        guard MCPVersion.allowsBatches(transport.protocolVersion) else {
            return errorResponse(
                .badRequest,
                JSONRPCError(
                    .invalidRequest,
                    "JSON-RPC batches are not part of MCP \(transport.protocolVersion), which this session negotiated (2025-06-18 removed them): send one message per POST"))
        }
        guard items.count <= Self.maxBatchMessages else {
            return errorResponse(
                .badRequest,
                JSONRPCError(.invalidRequest, "a batch of \(items.count) messages; at most \(Self.maxBatchMessages) are accepted in one batch: split it"))
        }
        gate.markActive(transport)

        // Answers are written as they come, so the running size is exact and nothing is serialized twice.
        var answers = JSONWriter()
        var count = 0
        answers.writeRaw("[")
        func add(_ answer: OutgoingMessage) {
            if count > 0 { answers.writeRaw(",") }
            answer.write(into: &answers)
            count += 1
        }
        let limit = maxBatchAnswerBytes
        for item in items {
            let message: JSONRPCMessage
            do throws(JSONRPCError) { message = try JSONRPCMessage.parse(item) } catch {
                add(.value(error.response))
                continue
            }
            if case .request(let id, let method, _) = message {
                if method == "initialize" {
                    add(.value(JSONRPCError(.invalidRequest, "initialize cannot be part of a batch", id: id).response))
                    continue
                }
                if answers.bytes.count > limit {
                    add(
                        .value(
                            JSONRPCError(
                                .serverBusy,
                                "not run: this batch's answer passed \(limit) bytes (4 × PGMCP_MAX_RESULT_BYTES) before this request; send it again, on its own or in a smaller batch",
                                id: id
                            ).response))
                    continue
                }
            }
            if let answer = await dispatch(message, in: transport, channel: channel) { add(answer) }
        }
        if count == 0 { return Response(status: .accepted) }
        answers.writeRaw("]")
        return respond(json: answers.bytes, format: format)
    }

    /// Dispatches one message; a `tools/call` is cancelled if the client goes away before its answer.
    private func dispatch(_ message: JSONRPCMessage, in transport: TransportSession, channel: (any Channel)?) async -> OutgoingMessage? {
        guard case .request(_, "tools/call", _) = message else { return await dispatcher.handle(message, in: transport) }
        return await watchingClient(channel) { await dispatcher.handle(message, in: transport) }
    }

    /// Runs `body` with the request's client connection at hand (`ClientConnection.current`), so a
    /// call it starts is cancelled if the client goes away.
    func watchingClient<R>(_ channel: (any Channel)?, _ body: () async -> R) async -> R {
        guard let channel, let connection = await ClientConnectionHandler.connection(of: channel) else { return await body() }
        return await ClientConnection.$current.withValue(connection, operation: body)
    }

    private func initialize(_ message: JSONValue, format: ResponseFormat, caller: Caller) -> Response {
        let request: (id: JSONRPCID, params: JSONObject)
        do {
            guard case .request(let id, _, let params) = try JSONRPCMessage.parse(message) else {
                return errorResponse(.badRequest, JSONRPCError(.invalidRequest, "initialize must be a request with an id"))
            }
            request = (id, params)
        } catch {
            return errorResponse(.badRequest, error)
        }
        let transport: TransportSession
        let result: JSONValue
        do throws(JSONRPCError) {
            (transport, result) = try gate.initialize(
                request.params, id: request.id, transportID: SessionHandle.random(replica: validation.settings.replicaID).rawValue, caller: caller)
        } catch {
            return errorResponse(.serviceUnavailable, error)
        }
        sessions.add(transport)
        logger.info("session initialized", metadata: ["protocol": "\(transport.protocolVersion)", "client": "\(transport.workSession.label ?? "?")"])
        var headers = HTTPFields()
        headers[RequestValidation.sessionID] = transport.id
        return respond(JSONRPC.result(result, id: request.id), format: format, headers: headers)
    }

    func get(_ request: Request, caller: Caller) async -> Response {
        if MCPEra.of(nil, versionHeader: request.headers[RequestValidation.protocolVersion]) == .modern { return modernNotAllowed() }
        // Another caller's session does not exist here either (as for POST and DELETE).
        if let id = request.headers[RequestValidation.sessionID], gate.owned(sessions.find(id), by: caller) == nil {
            return errorResponse(.notFound, JSONRPCError(.invalidRequest, "unknown or ended session"))
        }
        var headers = HTTPFields()
        headers[.allow] = "POST, DELETE"
        return Response(status: .methodNotAllowed, headers: headers)
    }

    func delete(_ request: Request, caller: Caller) async -> Response {
        if MCPEra.of(nil, versionHeader: request.headers[RequestValidation.protocolVersion]) == .modern { return modernNotAllowed() }
        guard let id = request.headers[RequestValidation.sessionID] else {
            return errorResponse(.badRequest, JSONRPCError(.invalidRequest, "missing Mcp-Session-Id header"))
        }
        guard let transport = gate.owned(sessions.find(id), by: caller) else {
            return errorResponse(.notFound, JSONRPCError(.invalidRequest, "unknown or ended session"))
        }
        await Self.endSession(transport.workSession.handle, of: registry, answeringWithin: Self.deleteAnswerBound)
        return Response(status: .ok)
    }

    /// How long DELETE waits for the session's end before it answers anyway.
    static let deleteAnswerBound = Duration.seconds(1)

    /// Ends a session, waiting for the end at most `bound`. A healthy PostgreSQL lets the end finish
    /// in milliseconds, so DELETE answers once everything is returned; with a frozen backend the end
    /// takes up to its own deadline (PGMCP_CONNECT_TIMEOUT), and the client is not kept waiting for
    /// it: the session is already gone for every request (404), and the end goes on, bounded, in a
    /// task that shutdown's own end of the session waits for.
    static func endSession(_ handle: SessionHandle, of registry: ConnectionPoolRegistry, answeringWithin bound: Duration) async {
        // The timer ends at `bound`, or earlier when the end is done and cancels it.
        let timer = Task { try? await Task.sleep(for: bound) }
        Task {
            await registry.endSession(handle, reason: "DELETE")
            timer.cancel()
        }
        await timer.value
    }
}
