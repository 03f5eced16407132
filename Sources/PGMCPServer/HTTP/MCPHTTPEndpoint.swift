import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PGMCPJSON
import PGRegistry

/// `POST|GET|DELETE /mcp`: MCP Streamable HTTP (2025-03-26 through 2025-11-25).
///
/// POST carries one JSON-RPC message (or, for 2025-03-26 clients, a batch). `initialize` creates the
/// session — after validation, never before — and answers with its `Mcp-Session-Id`; every later
/// request must carry that id (400 without, 404 once the session ended). Requests are answered as
/// JSON, or as a one-event SSE stream for a client that accepts only `text/event-stream`;
/// notifications get 202. GET would open a server-to-client stream, which this server never needs:
/// 405. DELETE ends the session.
struct MCPHTTPEndpoint: Sendable {
    let dispatcher: MCPDispatcher
    let sessions: TransportSessions
    let validation: RequestValidation
    let logger: Logger

    var registry: ConnectionPoolRegistry { dispatcher.context.registry }

    func post(_ request: Request) async -> Response {
        let format: ResponseFormat
        do {
            try validation.checkAccess(request)
            format = try validation.checkPost(request)
        } catch { return reject(error) }

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
                try JSONParser.parse(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count))
            }
        } catch {
            return errorResponse(.badRequest, JSONRPCError(.parseError, "invalid JSON: \(error)"))
        }

        let isBatch: Bool
        let messages: [JSONValue]
        if case .array(let items) = parsed {
            guard !items.isEmpty else { return errorResponse(.badRequest, JSONRPCError(.invalidRequest, "an empty batch")) }
            isBatch = true
            messages = items
        } else {
            isBatch = false
            messages = [parsed]
        }

        if !isBatch, parsed["method"]?.stringValue == "initialize" {
            return initialize(parsed, format: format)
        }
        guard let sessionID = request.headers[RequestValidation.sessionID] else {
            // A method we do not serve at all (e.g. 2026-07-28's server/discover) gets -32601, so
            // that newer clients fall back to initialize; anything else needs a session first.
            if !isBatch, let method = parsed["method"]?.stringValue, !MCPDispatcher.sessionMethods.contains(method),
                !method.hasPrefix("notifications/")
            {
                let id = parsed["id"].flatMap(JSONRPCID.init)
                return respond(JSONRPCError(.methodNotFound, "method not found: \(method)", id: id).response, format: format)
            }
            return errorResponse(.badRequest, JSONRPCError(.invalidRequest, "missing Mcp-Session-Id header: send initialize first"))
        }
        guard let transport = sessions.find(sessionID) else {
            return errorResponse(.notFound, JSONRPCError(.invalidRequest, "unknown or ended session: initialize a new one"))
        }
        if let version = request.headers[RequestValidation.protocolVersion], !MCPVersion.supported.contains(version) {
            return errorResponse(
                .badRequest,
                JSONRPCError(.invalidRequest, "unsupported MCP-Protocol-Version \(version); supported: \(MCPVersion.supported.joined(separator: ", "))"))
        }
        _ = try? registry.session(transport.workSession.handle)  // counts as activity for the idle timeout

        var responses: [OutgoingMessage] = []
        for message in messages {
            do {
                let parsedMessage = try JSONRPCMessage.parse(message)
                if case .request(let id, "initialize", _) = parsedMessage, isBatch {
                    responses.append(.value(JSONRPCError(.invalidRequest, "initialize cannot be part of a batch", id: id).response))
                    continue
                }
                if let response = await dispatcher.handle(parsedMessage, in: transport) { responses.append(response) }
            } catch {
                responses.append(.value(error.response))
            }
        }
        if responses.isEmpty { return Response(status: .accepted) }
        return respond(isBatch ? .batch(responses) : responses[0], format: format)
    }

    private func initialize(_ message: JSONValue, format: ResponseFormat) -> Response {
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
        do {
            (transport, result) = try dispatcher.initialize(request.params, transportID: SessionHandle.random().rawValue)
        } catch {
            return errorResponse(.serviceUnavailable, JSONRPCError(.serverBusy, error.message, id: request.id))
        }
        sessions.add(transport)
        logger.info("session initialized", metadata: ["protocol": "\(transport.protocolVersion)", "client": "\(transport.workSession.label ?? "?")"])
        var headers = HTTPFields()
        headers[RequestValidation.sessionID] = transport.id
        return respond(JSONRPC.result(result, id: request.id), format: format, headers: headers)
    }

    func get(_ request: Request) -> Response {
        do { try validation.checkAccess(request) } catch { return reject(error) }
        if let id = request.headers[RequestValidation.sessionID], sessions.find(id) == nil {
            return errorResponse(.notFound, JSONRPCError(.invalidRequest, "unknown or ended session"))
        }
        var headers = HTTPFields()
        headers[.allow] = "POST, DELETE"
        return Response(status: .methodNotAllowed, headers: headers)
    }

    func delete(_ request: Request) async -> Response {
        do { try validation.checkAccess(request) } catch { return reject(error) }
        guard let id = request.headers[RequestValidation.sessionID] else {
            return errorResponse(.badRequest, JSONRPCError(.invalidRequest, "missing Mcp-Session-Id header"))
        }
        guard let transport = sessions.find(id) else {
            return errorResponse(.notFound, JSONRPCError(.invalidRequest, "unknown or ended session"))
        }
        await registry.endSession(transport.workSession.handle, reason: "DELETE")
        return Response(status: .ok)
    }

    // MARK: - Responses

    func respond(_ payload: JSONValue, format: ResponseFormat, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        respond(.value(payload), format: format, status: status, headers: headers)
    }

    func respond(_ message: OutgoingMessage, format: ResponseFormat, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        var writer = JSONWriter()
        switch format {
        case .json:
            headers[.contentType] = "application/json"
            message.write(into: &writer)
        case .eventStream:
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            writer.writeRaw("event: message\ndata: ")
            message.write(into: &writer)
            writer.writeRaw("\n\n")
        }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }

    func errorResponse(_ status: HTTPResponse.Status, _ error: JSONRPCError) -> Response {
        respond(error.response, format: .json, status: status)
    }

    func reject(_ error: RequestValidation.Rejection) -> Response {
        var response = errorResponse(error.status, JSONRPCError(.invalidRequest, error.message))
        if error.status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }
}
