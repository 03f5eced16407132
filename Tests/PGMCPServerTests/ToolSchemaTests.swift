import Foundation
import MCPTestSupport
import PGConfig
import PGMCPJSON
import TestSupport
import Testing

/// The tool catalog as `tools/list` serves it over HTTP: JSON Schemas and annotations.
@Suite("Tool schemas", .serialized) struct ToolSchemaTests {
    /// `tools/list` (and the initialize result) as a client of `version` gets them over HTTP.
    func listing(version: String = "2025-06-18", _ tweak: (inout ServerSettings) -> Void = { _ in }) async throws -> (tools: JSONValue, initialize: JSONValue) {
        var result: (JSONValue, JSONValue)?
        try await TestServer.with(databases: [try TestDatabase.config(id: "main")], tweak) { server in
            let url = server.url.absoluteString
            let opened = try await RawHTTP.send("POST", url, body: MCPMessages.initialize(version: version, client: "raw"))
            let session = try #require(opened.header("Mcp-Session-Id"))
            let reply = try await RawHTTP.send(
                "POST", url, body: #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
                headers: RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": session, "MCP-Protocol-Version": version]) { $1 })
            result = (try #require(reply.json?["result"]), try #require(opened.json?["result"]))
        }
        let (tools, initialize) = try #require(result)
        return (tools, initialize)
    }

    func listTools(version: String = "2025-06-18", _ tweak: (inout ServerSettings) -> Void = { _ in }) async throws -> [JSONValue] {
        try #require(try await listing(version: version, tweak).tools["tools"]?.arrayValue)
    }

    /// Paths of every schema under `schema` whose `type` is or includes "array" but that has no `items`.
    func arraysWithoutItems(_ schema: JSONValue, at path: String) -> [String] {
        switch schema {
        case .object(let object):
            var found: [String] = []
            let type = object["type"]
            let isArray = type == "array" || (type?.arrayValue?.contains("array") ?? false)
            if isArray && object["items"] == nil { found.append(path) }
            for (key, value) in object { found += arraysWithoutItems(value, at: "\(path)/\(key)") }
            return found
        case .array(let items):
            return items.enumerated().flatMap { arraysWithoutItems($1, at: "\(path)/\($0)") }
        default:
            return []
        }
    }

    @Test func everyArrayInEveryInputAndOutputSchemaNamesItsItems() async throws {
        // OpenAI function calling, VS Code Copilot and pydantic-ai's strict mode refuse a tool whose
        // array schema has no `items`: the tool (query, execute, explain) is lost to their users.
        let tools = try await listTools {
            $0.tools = .default; $0.allowDynamicConnections = true
        }
        #expect(tools.count == 17)
        for tool in tools {
            let name = tool["name"]?.stringValue ?? "?"
            for key in ["inputSchema", "outputSchema"] {
                let schema = try #require(tool[key], "\(name) has no \(key)")
                #expect(arraysWithoutItems(schema, at: "\(name).\(key)") == [])
            }
        }
    }

    @Test func everyOutputSchemaAllowsTruncated() async throws {
        // Any result may be cut to PGMCP_MAX_RESULT_BYTES, with truncated: true.
        for tool in try await listTools() {
            #expect(tool["outputSchema"]?["properties"]?["truncated"]?["type"] == "boolean", "\(tool["name"] ?? .null)")
        }
    }

    @Test func annotationsCarryTheTitleForClientsOf2025_03_26Only() async throws {
        // Clients of protocol 2025-03-26 read only annotations.title; later ones the tool's title,
        // and the second copy would cost every conversation its bytes.
        for tool in try await listTools(version: "2025-03-26") {
            let title = try #require(tool["title"]?.stringValue, "\(tool["name"] ?? .null)")
            #expect(!title.isEmpty)
            #expect(tool["annotations"]?["title"] == .string(title), "\(tool["name"] ?? .null)")
        }
        for tool in try await listTools(version: "2025-11-25") {
            #expect(tool["title"]?.stringValue?.isEmpty == false)
            #expect(tool["annotations"]?["title"] == nil, "\(tool["name"] ?? .null)")
            for hint in ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] {
                #expect(tool["annotations"]?[hint]?.boolValue != nil, "\(tool["name"] ?? .null) \(hint)")
            }
        }
    }

    @Test func paramsItemsAdmitEveryKindOfValueTheServerTakes() async throws {
        let tools = try await listTools()
        let query = try #require(tools.first { $0["name"] == "query" })
        let items = try #require(query["inputSchema"]?["properties"]?["params"]?["items"])
        let types = Set(items["type"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        #expect(types == ["string", "number", "boolean", "null", "object", "array"])
        // An array parameter (for = ANY($1), int[][]) names its items too, as strict converters ask.
        #expect(items["items"] != nil)
    }
}

extension ToolSchemaTests {
    /// Each tool's four hints say what it really does: a client decides from them whether to ask
    /// the user first. (readOnly, destructive, idempotent, openWorld)
    static let hints: [String: [Bool]] = [
        "list_databases": [true, false, true, true], "select_database": [false, false, true, false],
        "current_database": [true, false, true, true], "connect_database": [false, false, false, true],
        // Cancels the connection's statements and rolls back its transaction.
        "disconnect_database": [false, true, true, true],
        "query": [true, false, true, true], "execute": [false, true, false, true],
        // With analyze, a write runs inside a transaction that is always rolled back.
        "explain": [true, false, true, true],
        "list_schemas": [true, false, true, true], "list_tables": [true, false, true, true], "describe_table": [true, false, true, true],
        "begin_transaction": [false, false, false, true], "commit_transaction": [false, true, false, true],
        // Discards what the transaction wrote.
        "rollback_transaction": [false, true, false, true],
        "open_session": [false, false, false, false],
        // Ends the session's statements and transactions.
        "close_session": [false, true, true, false],
        "server_status": [true, false, true, false],
        // The DBA group.
        "database_health": [true, false, true, true], "top_queries": [true, false, true, true],
        // Hypothetical indexes only, dropped before the call ends.
        "suggest_indexes": [true, false, true, true],
        // Lock waits come and go between calls.
        "blocking_locks": [true, false, false, true],
    ]

    @Test func everyToolsHintsSayWhatItReallyDoesAndNoSchemaUsesRef() async throws {
        let tools = try await listTools {
            $0.tools = try! ToolSelection.parse(["all"]).get(); $0.allowDynamicConnections = true
        }
        #expect(tools.count == Self.hints.count)
        for tool in tools {
            let name = tool["name"]?.stringValue ?? "?"
            let hints = ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"].map { tool["annotations"]?[$0]?.boolValue }
            #expect(hints == (Self.hints[name] ?? []).map(Optional.some), "\(name)")
            // Strict converters refuse `$ref`.
            #expect(!String(decoding: tool.serialized(), as: UTF8.self).contains("$ref"), "\(name)")
        }
    }
}
