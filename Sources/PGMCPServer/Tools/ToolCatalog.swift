import PGConfig
import PGMCPJSON

/// The tool catalog: one table; `tools/list` is derived from it. Every tool also accepts the
/// `session` argument (a handle from open_session), and every output schema has `truncated` (any
/// result may be cut to `PGMCP_MAX_RESULT_BYTES`), added here so no definition can forget them.
///
/// It serves the tools `PGMCP_TOOLS` selects, and lists those of them that can work here: not
/// `connect_database` and `disconnect_database` while dynamic connections are off (a call to them
/// is still answered, saying how to turn them on). A listed tool costs every conversation its
/// bytes, and one that always fails costs a wasted call too.
public struct ToolCatalog: Sendable {
    public let tools: [ToolDefinition]
    private let byName: [String: ServedTool]
    /// The `tools/list` result, built once: for protocol 2025-03-26, whose clients read a tool's
    /// title in its annotations only, and for every later version, which has `title` beside `name`.
    let listing: JSONValue
    let listingWithAnnotatedTitles: JSONValue
    /// Some served tool hands out a handle (`open_session`, or a state-changing tool under MCP
    /// 2026-07-28), so every tool lists the `session` argument that takes it.
    let listsSession: Bool

    public init(_ tools: [ToolDefinition] = ToolCatalog.contractTools, selection: ToolSelection = .default, dynamicConnections: Bool = true) {
        let served = tools.filter { selection.contains($0.name) }
        // Still callable (its answer says how to turn it on), but not listed.
        let listed = { (tool: ToolDefinition) in dynamicConnections || !tool.needsDynamicConnections }
        // `session` is worth listing only while some listed tool hands out a handle to pass in it.
        let listsSession = served.contains { listed($0) && ($0.keepsSessionState || $0.mintsHandle) }
        self.listsSession = listsSession
        self.tools = served.map { tool in
            var tool = tool
            if listsSession, case .object(var properties)? = tool.inputSchema["properties"], properties["session"] == nil {
                properties["session"] = JSONSchema.session
                tool.inputSchema["properties"] = .object(properties)
            }
            if case .object(var output) = tool.outputSchema, case .object(var properties)? = output["properties"], properties["truncated"] == nil {
                properties["truncated"] = JSONSchema.truncated
                output["properties"] = .object(properties)
                tool.outputSchema = .object(output)
            }
            // Accepted whether listed or not: a handle passed by a client that knows the contract.
            tool.argumentNames = (tool.inputSchema["properties"]?.objectValue?.keys ?? []) + (tool.routesBySessionArgument && !listsSession ? ["session"] : [])
            tool.headerParameters = (tool.inputSchema["properties"]?.objectValue ?? JSONObject()).compactMap { property, schema in
                schema["x-mcp-header"]?.stringValue.map { (property: property, header: $0) }
            }
            tool.metrics = ToolMetrics(tool: tool.name)
            return tool
        }
        byName = Dictionary(uniqueKeysWithValues: self.tools.map { ($0.name, ServedTool($0)) })
        listing = ["tools": .array(self.tools.filter(listed).map { $0.listing(titleInAnnotations: false) })]
        listingWithAnnotatedTitles = ["tools": .array(self.tools.filter(listed).map { $0.listing(titleInAnnotations: true) })]
    }

    /// The `tools/list` result for a session of `protocolVersion`.
    func listing(for protocolVersion: String) -> JSONValue {
        protocolVersion == "2025-03-26" ? listingWithAnnotatedTitles : listing
    }

    /// The served tool of that name. A reference: every call looks its tool up a few times, and a
    /// `ToolDefinition` copied out of the table retained and released each of its dozen fields.
    public subscript(name: String) -> ServedTool? { byName[name] }

    /// Every tool of CONTRACT.md.
    public static let contractTools: [ToolDefinition] = [
        DatabaseTools.listDatabases, DatabaseTools.selectDatabase, DatabaseTools.currentDatabase,
        DynamicConnectionTools.connect, DynamicConnectionTools.disconnect,
        QueryTools.query, QueryTools.execute, QueryTools.explain,
        SchemaTools.listSchemas, SchemaTools.listTables, SchemaTools.describeTable,
        TransactionTools.begin, TransactionTools.commit, TransactionTools.rollback,
        SessionTools.openSession, SessionTools.closeSession, SessionTools.serverStatus,
        DBATools.databaseHealth, DBATools.topQueries, IndexAdviceTools.suggestIndexes, DBATools.blockingLocks,
    ]

}

/// A tool of the catalog, looked up by reference (see `ToolCatalog.subscript`).
public final class ServedTool: Sendable {
    public let definition: ToolDefinition

    init(_ definition: ToolDefinition) { self.definition = definition }
}
