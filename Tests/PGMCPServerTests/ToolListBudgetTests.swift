import Foundation
import MCPTestSupport
import PGConfig
import PGMCPJSON
import TestSupport
import Testing

/// What every conversation pays for before its first call: the exact bytes of `tools/list` and of
/// the instructions, per `PGMCP_TOOLS` profile, as the server writes them (compact JSON).
@Suite("Tool list budget", .serialized) struct ToolListBudgetTests {
    let schemas = ToolSchemaTests()

    func names(_ tools: JSONValue) -> [String] { tools["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [] }

    @Test func theDefaultListFitsIn12kBAndLeavesOutToolsThatCannotWork() async throws {
        // The example configuration: dynamic connections off.
        let (tools, initialize) = try await schemas.listing()
        let bytes = tools.serializedSize
        #expect(bytes <= 12_000, "tools/list is \(bytes) bytes")
        #expect(
            names(tools) == [
                "list_databases", "select_database", "current_database", "query", "execute", "explain", "list_schemas", "list_tables",
                "describe_table", "begin_transaction", "commit_transaction", "rollback_transaction", "open_session", "close_session", "server_status",
            ])
        let instructions = try #require(initialize["instructions"]?.stringValue)
        #expect(instructions.utf8.count <= 800, "instructions are \(instructions.utf8.count) bytes")
        #expect(instructions.contains("list_databases") && instructions.contains("select_database") && instructions.contains("'session'"))
        #expect(!instructions.contains("connect_database"))
        print("tools/list default: \(bytes) bytes, \(names(tools).count) tools; instructions \(instructions.utf8.count) bytes")
    }

    @Test func theCoreProfileFitsIn5kB() async throws {
        let (tools, initialize) = try await schemas.listing { $0.tools = try! ToolSelection.parse(["core"]).get() }
        let bytes = tools.serializedSize
        #expect(bytes <= 5_000, "tools/list is \(bytes) bytes")
        #expect(names(tools) == ["list_databases", "query", "execute", "list_tables", "describe_table"])
        // No tool of this profile hands out a handle: the argument that takes one is not listed.
        for tool in tools["tools"]?.arrayValue ?? [] { #expect(tool["inputSchema"]?["properties"]?["session"] == nil) }
        let instructions = try #require(initialize["instructions"]?.stringValue)
        #expect(instructions.utf8.count <= 800)
        #expect(!instructions.contains("select_database") && !instructions.contains("begin_transaction"))
        print("tools/list core: \(bytes) bytes; instructions \(instructions.utf8.count) bytes")
    }

    @Test func allWithDynamicConnectionsListsEveryToolInTheCatalogsOrder() async throws {
        let (tools, initialize) = try await schemas.listing {
            $0.tools = try! ToolSelection.parse(["all"]).get()
            $0.allowDynamicConnections = true
        }
        #expect(names(tools) == ToolSelection.knownTools)
        #expect(try #require(initialize["instructions"]?.stringValue).utf8.count <= 800)
        print("tools/list all, dynamic connections on: \(tools.serializedSize) bytes")
    }

    /// The DBA group is off by default (above) and served when named: after the default set, in
    /// the catalog's order, or alone.
    @Test func theDBAGroupIsServedWhenNamed() async throws {
        let (tools, _) = try await schemas.listing { $0.tools = try! ToolSelection.parse(["default", "dba"]).get() }
        #expect(Array(names(tools).suffix(ToolSelection.dbaTools.count)) == ToolSelection.dbaTools)
        let (dba, _) = try await schemas.listing { $0.tools = try! ToolSelection.parse(["dba"]).get() }
        #expect(names(dba) == ToolSelection.dbaTools)
        for tool in dba["tools"]?.arrayValue ?? [] { #expect(tool["annotations"]?["readOnlyHint"] == true) }
        print("tools/list default,dba: \(tools.serializedSize) bytes; dba alone: \(dba.serializedSize) bytes")
    }

    @Test func aListOfNamesAndGroupsKeepsTheCatalogsOrder() async throws {
        let tools = try await schemas.listTools { $0.tools = try! ToolSelection.parse(["explain", "core", "Open_Session"]).get() }
        #expect(
            tools.compactMap { $0["name"]?.stringValue } == ["list_databases", "query", "execute", "explain", "list_tables", "describe_table", "open_session"])
    }

    @Test func aToolLeftOutIsRefusedNamingTheSettingAndAHiddenDynamicToolStillExplainsItself() async throws {
        try await TestServer.with(databases: [try TestDatabase.config(id: "main")], { $0.tools = try! ToolSelection.parse(["core"]).get() }) { server in
            let url = server.url.absoluteString
            let session = try await RawHTTP.openSession(url)
            let refused = try await RawHTTP.call(url, session: session, tool: "explain", arguments: ["sql": "SELECT 1"])
            #expect(refused.json?["error"]?["message"]?.stringValue?.contains("PGMCP_TOOLS=core") == true)
            let query = try await RawHTTP.call(url, session: session, tool: "query", arguments: ["sql": "SELECT 1 AS x"])
            #expect(query.json?["result"]?["structuredContent"]?["rows"] == [[1]])
        }
        try await TestServer.with(databases: [try TestDatabase.config(id: "main")]) { server in
            let url = server.url.absoluteString
            let session = try await RawHTTP.openSession(url)
            let answer = try await RawHTTP.call(url, session: session, tool: "connect_database", arguments: ["connection_string": "postgresql://x@127.0.0.1/y"])
            #expect(answer.json?["result"]?["isError"] == true)
            #expect(answer.body.contains("PGMCP_ALLOW_DYNAMIC_CONNECTIONS"))
        }
    }
}
