import PGMCPJSON

/// The tool catalog: one table; `tools/list` is derived from it. Every tool also accepts the
/// `session` argument (a handle from open_session), and every output schema has `truncated` (any
/// result may be cut to `PGMCP_MAX_RESULT_BYTES`), added here so no definition can forget them.
public struct ToolCatalog: Sendable {
    public let tools: [ToolDefinition]
    private let byName: [String: ToolDefinition]
    /// The `tools/list` result, built once.
    let listing: JSONValue

    public init(_ tools: [ToolDefinition] = ToolCatalog.contractTools) {
        self.tools = tools.map { tool in
            var tool = tool
            if case .object(var properties)? = tool.inputSchema["properties"], properties["session"] == nil {
                properties["session"] = JSONSchema.session
                tool.inputSchema["properties"] = .object(properties)
            }
            if case .object(var output) = tool.outputSchema, case .object(var properties)? = output["properties"], properties["truncated"] == nil {
                properties["truncated"] = JSONSchema.truncated
                output["properties"] = .object(properties)
                tool.outputSchema = .object(output)
            }
            tool.argumentNames = tool.inputSchema["properties"]?.objectValue?.keys ?? []
            tool.headerParameters = (tool.inputSchema["properties"]?.objectValue ?? JSONObject()).compactMap { property, schema in
                schema["x-mcp-header"]?.stringValue.map { (property: property, header: $0) }
            }
            tool.metrics = ToolMetrics(tool: tool.name)
            return tool
        }
        byName = Dictionary(uniqueKeysWithValues: self.tools.map { ($0.name, $0) })
        listing = ["tools": .array(self.tools.map(\.listing))]
    }

    public subscript(name: String) -> ToolDefinition? { byName[name] }

    /// Every tool of CONTRACT.md.
    public static let contractTools: [ToolDefinition] = [
        DatabaseTools.listDatabases, DatabaseTools.selectDatabase, DatabaseTools.currentDatabase,
        DynamicConnectionTools.connect, DynamicConnectionTools.disconnect,
        QueryTools.query, QueryTools.execute, QueryTools.explain,
        SchemaTools.listSchemas, SchemaTools.listTables, SchemaTools.describeTable,
        TransactionTools.begin, TransactionTools.commit, TransactionTools.rollback,
        SessionTools.openSession, SessionTools.closeSession, SessionTools.serverStatus,
    ]

}
