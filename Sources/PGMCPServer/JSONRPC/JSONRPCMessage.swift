import PGMCPJSON

/// A JSON-RPC 2.0 request id: a string or an integer (never null for requests we answer).
public enum JSONRPCID: Hashable, Sendable {
    case int(Int64)
    case string(String)

    var json: JSONValue {
        switch self {
        case .int(let i): .int(i)
        case .string(let s): .string(s)
        }
    }

    /// `nil` for anything but an integer or a string of at most `maxStringBytes`: every answer echoes
    /// the id, and a megabyte id would make every answer (errors included) a megabyte.
    init?(_ value: JSONValue) {
        switch value {
        case .int(let i): self = .int(i)
        case .string(let s) where s.utf8.count <= Self.maxStringBytes: self = .string(s)
        default: return nil
        }
    }

    static let maxStringBytes = 256
}

/// One incoming JSON-RPC message, validated for shape.
public enum JSONRPCMessage: Sendable {
    case request(id: JSONRPCID, method: String, params: JSONObject)
    case notification(method: String, params: JSONObject)
    /// A response from the client (we send no requests, so these are acknowledged and dropped).
    case response(id: JSONRPCID?)

    /// Validates one message object. Throws `JSONRPCError` with the id when one could be read.
    static func parse(_ value: JSONValue) throws(JSONRPCError) -> JSONRPCMessage {
        guard case .object(let object) = value else {
            throw JSONRPCError(.invalidRequest, "a JSON-RPC message must be an object, got \(value.typeName)")
        }
        let id = object["id"].flatMap(JSONRPCID.init)
        guard object["jsonrpc"] == .string("2.0") else {
            throw JSONRPCError(.invalidRequest, "\"jsonrpc\" must be \"2.0\"", id: id)
        }
        if object["result"] != nil || object["error"] != nil { return .response(id: id) }
        guard case .string(let method) = object["method"] else {
            throw JSONRPCError(.invalidRequest, "\"method\" must be a string", id: id)
        }
        var params = JSONObject()
        switch object["params"] {
        case nil, .null?: break
        case .object(let given)?: params = given
        default: throw JSONRPCError(.invalidParams, "\"params\" must be an object", id: id)
        }
        guard let rawID = object["id"] else { return .notification(method: method, params: params) }
        guard let id else { throw JSONRPCError(.invalidRequest, "\"id\" must be an integer or a string of at most \(JSONRPCID.maxStringBytes) bytes") }
        _ = rawID
        return .request(id: id, method: method, params: params)
    }
}

/// A JSON-RPC error response, with the spec's codes.
public struct JSONRPCError: Error, Sendable {
    public enum Code: Int64, Sendable {
        case parseError = -32700
        case invalidRequest = -32600
        case methodNotFound = -32601
        case invalidParams = -32602
        case internalError = -32603
        /// Server-defined: the server cannot take the request now (e.g. too many sessions).
        case serverBusy = -32000
        /// MCP 2026-07-28's `HeaderMismatchError`: an HTTP header does not repeat what the body says.
        case headerMismatch = -32020
        /// MCP 2026-07-28's `UnsupportedProtocolVersionError`: `data` lists the versions served.
        case unsupportedProtocolVersion = -32022
    }

    public var code: Code
    public var message: String
    public var id: JSONRPCID?
    public var data: JSONValue?

    public init(_ code: Code, _ message: String, id: JSONRPCID? = nil, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.id = id
        self.data = data
    }

    /// A request declared a protocol version this server does not speak (in `MCP-Protocol-Version`
    /// or, the 2026-07-28 way, in `_meta`). The shape is the 2026-07-28 spec's; since every version
    /// listed needs `initialize`, a dual-era client (the official SDKs) falls back to it.
    static func unsupportedProtocolVersion(_ requested: String, id: JSONRPCID?) -> JSONRPCError {
        JSONRPCError(
            .unsupportedProtocolVersion,
            "Unsupported protocol version \(requested); supported: \(MCPVersion.supported.joined(separator: ", ")) (send initialize)",
            id: id,
            data: ["supported": .array(MCPVersion.supported.map { .string($0) }), "requested": .string(requested)])
    }

    /// A message that is not JSON we read (-32700), or (-32600) one that names a key twice in an
    /// object: which of the two counts differs between readers, so a proxy that checked one would
    /// let the other run. Both transports, both eras, answer with this.
    static func unreadable(_ error: JSONParseError) -> JSONRPCError {
        guard let key = error.duplicateKey else { return JSONRPCError(.parseError, "invalid JSON: \(error)") }
        return JSONRPCError(
            .invalidRequest,
            "the key \"\(key)\" appears twice in one object (line \(error.line), column \(error.column)); readers disagree on which one counts, so nothing of this message ran: send each key once"
        )
    }

    /// The most a message takes: it may echo what a client sent (a method or tool name), which can
    /// be megabytes. Below the smallest `PGMCP_MAX_RESULT_BYTES` (1024).
    static let maxMessageBytes = 1000

    /// The response object, its message and the strings of its data (a requested version is the
    /// client's own text) cut to `maxMessageBytes`.
    public var response: JSONValue {
        var error = JSONObject([("code", .int(code.rawValue)), ("message", .string(message.cut(toSerializedBytes: Self.maxMessageBytes)))])
        if let data { error.append("data", data.cuttingStrings(to: Self.maxMessageBytes)) }
        return ["jsonrpc": "2.0", "id": id?.json ?? .null, "error": .object(error)]
    }
}

enum JSONRPC {
    static func result(_ result: JSONValue, id: JSONRPCID) -> JSONValue {
        ["jsonrpc": "2.0", "id": id.json, "result": result]
    }
}
