import Foundation
import MCPTestSupport
import PGMCPJSON
import TestSupport
import Testing

/// The tool catalog as `tools/list` serves it over HTTP: JSON Schemas and annotations.
@Suite("Tool schemas", .serialized) struct ToolSchemaTests {
    func listTools() async throws -> [JSONValue] {
        let server = try await TestServer.start(databases: [try TestDatabase.config(id: "main")])
        do {
            let url = server.url.absoluteString
            let session = try await RawHTTP.openSession(url)
            let reply = try await RawHTTP.send(
                "POST", url, body: #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
                headers: RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": session]) { $1 })
            await server.stop()
            return try #require(reply.json?["result"]?["tools"]?.arrayValue)
        } catch {
            await server.stop()
            throw error
        }
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
        let tools = try await listTools()
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

    @Test func everyToolCarriesItsTitleInAnnotationsToo() async throws {
        // Clients of protocol 2025-03-26 read only annotations.title; later ones the tool's title.
        for tool in try await listTools() {
            let title = try #require(tool["title"]?.stringValue, "\(tool["name"] ?? .null)")
            #expect(!title.isEmpty)
            #expect(tool["annotations"]?["title"] == .string(title), "\(tool["name"] ?? .null)")
        }
    }

    @Test func paramsItemsAdmitEveryKindOfValueTheServerTakes() async throws {
        let tools = try await listTools()
        let query = try #require(tools.first { $0["name"] == "query" })
        let items = try #require(query["inputSchema"]?["properties"]?["params"]?["items"]?["anyOf"]?.arrayValue)
        let types = Set(items.compactMap { $0["type"]?.stringValue })
        #expect(types == ["string", "number", "boolean", "null", "object", "array"])
        // An array of scalars (for = ANY($1)) and a two-dimensional one (int[][]) are described too.
        let elements = try #require(items.first { $0["type"] == "array" }?["items"]?["anyOf"]?.arrayValue)
        #expect(Set(elements.compactMap { $0["type"]?.stringValue }) == ["string", "number", "boolean", "null", "object", "array"])
    }
}
