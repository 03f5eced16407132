import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PGMCPJSON

/// MCP 2026-07-28 on the same `/mcp` endpoint: a request of that era (`MCPEra`) stands alone. No `initialize`, no `Mcp-Session-Id` (ignored, never issued), no GET stream. Its headers
/// must repeat what its body says (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`,
/// `Mcp-Param-*`): a proxy routes on them, so a mismatch is refused (400, -32020).
extension MCPHTTPEndpoint {
    static let method = HTTPField.Name("Mcp-Method")!
    static let name = HTTPField.Name("Mcp-Name")!

    func modernPost(_ parsed: JSONValue, request: Request, format: ResponseFormat, channel: (any Channel)?, caller: Caller) async -> Response {
        if case .array = parsed {
            return errorResponse(.badRequest, JSONRPCError(.invalidRequest, "MCP \(ModernProtocol.version) takes one message per POST, not a batch"))
        }
        let message: JSONRPCMessage
        do throws(JSONRPCError) { message = try JSONRPCMessage.parse(parsed) } catch { return errorResponse(.badRequest, error) }
        let id: JSONRPCID
        let method: String
        let params: JSONObject
        switch message {
        case .notification:
            // Nothing of 2026-07-28's notifications to a server needs an answer or changes anything here.
            return Response(status: .accepted)
        case .response:
            return errorResponse(.badRequest, JSONRPCError(.invalidRequest, "this server sends no requests, so it takes no responses"))
        case .request(let requestID, let requestMethod, let requestParams):
            (id, method, params) = (requestID, requestMethod, requestParams)
        }
        let envelope: ModernProtocol.Envelope
        do throws(JSONRPCError) {
            try checkRoutingHeaders(request, id: id, method: method, params: params)
            envelope = try gate.envelope(of: params, id: id) { envelope throws(JSONRPCError) in try checkVersionHeader(request, envelope: envelope, id: id) }
            if method == "tools/call" { try checkParameterHeaders(request, params: params, id: id) }
        } catch {
            return errorResponse(Self.status(of: error.code), error)
        }
        // Only a tool call runs long enough to be worth cancelling when the client goes.
        let answer = await watchingClient(method == "tools/call" ? channel : nil) {
            await gate.serveModern(id: id, method: method, params: params, envelope: envelope, requests: nil, caller: caller)
        }
        let status: HTTPResponse.Status =
            if case .value(let value) = answer, let code = value["error"]?["code"]?.intValue {
                JSONRPCError.Code(rawValue: code).map(Self.status(of:)) ?? .ok
            } else {
                .ok
            }
        return respond(answer, format: format, status: status)
    }

    /// The HTTP status of a 2026-07-28 error: 400 for a request that is malformed or does not agree
    /// with its headers, 404 for an unknown method, 200 for everything else (a tool's own error).
    static func status(of code: JSONRPCError.Code) -> HTTPResponse.Status {
        switch code {
        case .parseError, .invalidRequest, .invalidParams, .headerMismatch, .unsupportedProtocolVersion: .badRequest
        case .methodNotFound: .notFound
        default: .ok
        }
    }

    /// `Mcp-Method` equal to the body's method and, for `tools/call`, `Mcp-Name` equal to the
    /// tool's name; none of the routing headers given twice.
    func checkRoutingHeaders(_ request: Request, id: JSONRPCID, method: String, params: JSONObject) throws(JSONRPCError) {
        for name in [RequestValidation.protocolVersion, Self.method, Self.name] where request.headers[values: name].count > 1 {
            throw JSONRPCError(.headerMismatch, "Header mismatch: \(name) appears more than once", id: id)
        }
        guard let given = request.headers[Self.method] else {
            throw JSONRPCError(.headerMismatch, "Header mismatch: Mcp-Method is required and must be the body's method (\(method))", id: id)
        }
        guard given.trimmingCharacters(in: .whitespaces) == method else {
            throw JSONRPCError(.headerMismatch, "Header mismatch: Mcp-Method header value '\(given)' does not match body value '\(method)'", id: id)
        }
        guard method == "tools/call", case .string(let tool)? = params["name"] else { return }
        guard let header = request.headers[Self.name] else {
            throw JSONRPCError(.headerMismatch, "Header mismatch: Mcp-Name is required for tools/call and must be the tool's name (\(tool))", id: id)
        }
        guard Self.decodedHeaderValue(header) == tool else {
            throw JSONRPCError(.headerMismatch, "Header mismatch: Mcp-Name header value '\(header)' does not match body value '\(tool)'", id: id)
        }
    }

    /// `MCP-Protocol-Version` equal to the version in `_meta`.
    func checkVersionHeader(_ request: Request, envelope: ModernProtocol.Envelope, id: JSONRPCID) throws(JSONRPCError) {
        guard let header = request.headers[RequestValidation.protocolVersion] else {
            throw JSONRPCError(.headerMismatch, "Header mismatch: MCP-Protocol-Version is required and must be params._meta's version (\(envelope.version))", id: id)
        }
        guard header.trimmingCharacters(in: .whitespaces) == envelope.version else {
            throw JSONRPCError(
                .headerMismatch, "Header mismatch: MCP-Protocol-Version header value '\(header)' does not match body value '\(envelope.version)'", id: id)
        }
    }

    /// Every `Mcp-Param-*` header of an `x-mcp-header` property: present exactly when its argument
    /// is, and equal to it.
    func checkParameterHeaders(_ request: Request, params: JSONObject, id: JSONRPCID) throws(JSONRPCError) {
        guard case .string(let toolName)? = params["name"], let tool = dispatcher.catalog[toolName] else { return }
        let arguments = params["arguments"]?.objectValue ?? JSONObject()
        for (property, header) in tool.definition.headerParameters {
            let field = HTTPField.Name("Mcp-Param-\(header)")!
            let given = request.headers[values: field]
            let argument = arguments[property].flatMap { $0 == .null ? nil : $0 }
            if given.count > 1 { throw JSONRPCError(.headerMismatch, "Header mismatch: \(field) appears more than once", id: id) }
            switch (argument, given.first) {
            case (nil, nil):
                continue
            case (nil, .some):
                throw JSONRPCError(.headerMismatch, "Header mismatch: \(field) is present but the request body's '\(property)' argument is not", id: id)
            case (.some, nil):
                throw JSONRPCError(.headerMismatch, "Header mismatch: \(field) header is missing but the request body's '\(property)' argument is present", id: id)
            case (.some(let value), .some(let text)):
                guard let decoded = Self.decodedHeaderValue(text), Self.headerText(of: value) == decoded else {
                    throw JSONRPCError(.headerMismatch, "Header mismatch: \(field) header value does not match the request body's '\(property)' argument", id: id)
                }
            }
        }
    }

    /// A header value as sent: plain, or `=?base64?…?=` (UTF-8) for text a header cannot carry.
    /// `nil` for a malformed encoding.
    static func decodedHeaderValue(_ raw: String) -> String? {
        let value = raw.trimmingCharacters(in: .whitespaces)
        guard value.hasPrefix("=?base64?"), value.hasSuffix("?="), value.count >= 11 else { return value }
        let encoded = value.dropFirst("=?base64?".count).dropLast(2)
        guard let data = Data(base64Encoded: String(encoded)) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    /// How an argument appears in its header: a string as is, an integer in decimal, a boolean as
    /// `true`/`false`; other types are never header parameters.
    static func headerText(of value: JSONValue) -> String? {
        switch value {
        case .string(let text): text
        case .int(let number): String(number)
        case .bool(let flag): flag ? "true" : "false"
        default: nil
        }
    }

    /// GET or DELETE of the 2026-07-28 era: there is no stream to open and no session to end.
    func modernNotAllowed() -> Response {
        var headers = HTTPFields()
        headers[.allow] = "POST"
        return Response(status: .methodNotAllowed, headers: headers)
    }
}
