import PGMCPJSON

/// MCP 2026-07-28, the "modern" era: no `initialize` and no protocol sessions. Every request
/// carries its protocol version, client capabilities and (optionally) client info in
/// `params._meta`; state across calls lives in explicit handles (`open_session`, `session`).
enum ModernProtocol {
    static let version = "2026-07-28"
    /// The modern versions this server speaks: what `server/discover` lists and -32022 names.
    static let supported = [version]

    static let versionKey = "io.modelcontextprotocol/protocolVersion"
    static let capabilitiesKey = "io.modelcontextprotocol/clientCapabilities"
    static let clientInfoKey = "io.modelcontextprotocol/clientInfo"
    static let serverInfoKey = "io.modelcontextprotocol/serverInfo"

    /// How long a client may cache `tools/list` and `server/discover`: the catalog never changes
    /// while the process runs, and is the same for every caller ("public").
    static let listTTLMilliseconds: Int64 = 300_000

    /// What a request's `_meta` says about its client.
    struct Envelope {
        var version: String
        var clientName: String?
    }

    /// Reads and checks the envelope: `_meta` must be an object with the protocol version (a
    /// string) and the client capabilities (an object). -32602 otherwise, naming what is missing.
    static func envelope(of params: JSONObject, id: JSONRPCID) throws(JSONRPCError) -> Envelope {
        guard case .object(let meta)? = params["_meta"] else {
            throw JSONRPCError(
                .invalidParams,
                "an MCP \(version) request carries params._meta with \"\(versionKey)\" and \"\(capabilitiesKey)\"; this one has no _meta", id: id)
        }
        guard case .string(let requested)? = meta[versionKey] else {
            throw JSONRPCError(.invalidParams, "params._meta needs \"\(versionKey)\" (a string, e.g. \"\(version)\")", id: id)
        }
        guard case .object? = meta[capabilitiesKey] else {
            throw JSONRPCError(.invalidParams, "params._meta needs \"\(capabilitiesKey)\" (an object; {} for none)", id: id)
        }
        return Envelope(version: requested, clientName: meta[clientInfoKey]?["name"]?.stringValue)
    }

    /// -32022 for a modern request of a version this server does not speak, naming those it does.
    static func unsupported(_ requested: String, id: JSONRPCID?) -> JSONRPCError {
        JSONRPCError(
            .unsupportedProtocolVersion, "Unsupported protocol version \(requested); supported: \(supported.joined(separator: ", "))", id: id,
            data: ["supported": .array(supported.map { .string($0) }), "requested": .string(requested)])
    }

    static let serverInfo: JSONValue = [
        "name": .string(MCPVersion.serverName), "title": "pgmcp — PostgreSQL", "version": .string(MCPVersion.serverVersion),
    ]

    /// A result as 2026-07-28 shapes every result: `resultType`, and the server's info in `_meta`.
    static func complete(_ result: JSONObject) -> JSONObject {
        var result = result
        result["resultType"] = "complete"
        var meta = result["_meta"]?.objectValue ?? JSONObject()
        meta[serverInfoKey] = serverInfo
        result["_meta"] = .object(meta)
        return result
    }

    /// `server/discover`'s result, the server's security posture (`SecurityPosture`) in its `_meta`.
    static func discoverResult(instructions: String, posture: JSONValue) -> JSONObject {
        var result = complete(
            JSONObject([
                ("supportedVersions", .array(supported.map { .string($0) })), ("capabilities", ["tools": ["listChanged": false]]),
                ("instructions", .string(instructions)), ("ttlMs", .int(listTTLMilliseconds)), ("cacheScope", "public"),
            ]))
        var meta = result["_meta"]?.objectValue ?? JSONObject()
        meta[SecurityPosture.metaKey] = posture
        result["_meta"] = .object(meta)
        return result
    }
}
