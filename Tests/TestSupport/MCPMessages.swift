import PGMCPJSON

/// MCP messages as a raw-protocol test writes them (one line of JSON each).
public enum MCPMessages {
    /// An MCP 2025 `initialize` request for `version`, from a client named `client`: the one
    /// initialize every test that only needs a session sends.
    public static func initialize(version: String = "2025-11-25", client: String = "test", id: Int = 1) -> String {
        let message: JSONValue = [
            "jsonrpc": "2.0", "id": .int(Int64(id)), "method": "initialize",
            "params": ["protocolVersion": .string(version), "capabilities": [:], "clientInfo": ["name": .string(client), "version": "1"]],
        ]
        return message.jsonText
    }
}
