import PGMCPJSON

/// MCP 2026-07-28 requests as a client writes them on `/mcp`: the envelope in `_meta` and the
/// headers that repeat it.
public enum MCP2026 {
    public static let version = "2026-07-28"

    /// A modern request: the envelope in `_meta` and the headers that repeat it.
    public static func request(
        _ method: String, id: Int = 1, params given: JSONValue = [:], version: String = version, headers extra: [String: String?] = [:]
    ) -> (body: String, headers: [String: String]) {
        var params = given.objectValue ?? JSONObject()
        params["_meta"] = [
            "io.modelcontextprotocol/protocolVersion": .string(version), "io.modelcontextprotocol/clientCapabilities": [:],
            "io.modelcontextprotocol/clientInfo": ["name": "raw-2026", "version": "1"],
        ]
        let body: JSONValue = ["jsonrpc": "2.0", "id": .int(Int64(id)), "method": .string(method), "params": .object(params)]
        var headers = RawHTTP.mcpHeaders
        headers["MCP-Protocol-Version"] = version
        headers["Mcp-Method"] = method
        if method == "tools/call", let name = params["name"]?.stringValue { headers["Mcp-Name"] = name }
        if let session = params["arguments"]?["session"]?.stringValue { headers["Mcp-Param-Session"] = session }
        for (name, value) in extra { headers[name] = value }
        return (body.jsonText, headers)
    }

    public static func send(
        _ url: String, _ method: String, id: Int = 1, params: JSONValue = [:], version: String = version, headers: [String: String?] = [:]
    )
        async throws -> RawHTTP.Reply
    {
        let (body, headers) = request(method, id: id, params: params, version: version, headers: headers)
        return try await RawHTTP.send("POST", url, body: body, headers: headers)
    }

    public static func call(_ url: String, _ tool: String, _ arguments: JSONValue = [:], headers: [String: String?] = [:]) async throws -> RawHTTP.Reply {
        try await send(url, "tools/call", params: ["name": .string(tool), "arguments": arguments], headers: headers)
    }
}
