import PGMCPJSON

/// The tool catalog: one table; `tools/list` is derived from it. Every tool also accepts the
/// `session` argument (a handle from open_session), added here so no definition can forget it.
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
            tool.argumentNames = tool.inputSchema["properties"]?.objectValue?.keys ?? []
            tool.metrics = ToolMetrics(tool: tool.name)
            return tool
        }
        byName = Dictionary(uniqueKeysWithValues: self.tools.map { ($0.name, $0) })
        listing = ["tools": .array(self.tools.map(\.listing))]
    }

    public subscript(name: String) -> ToolDefinition? { byName[name] }

    /// Every tool of CONTRACT.md served so far (dynamic connections and explicit transactions come later).
    public static let contractTools: [ToolDefinition] = [
        DatabaseTools.listDatabases, DatabaseTools.selectDatabase, DatabaseTools.currentDatabase,
        QueryTools.query, QueryTools.execute, QueryTools.explain,
        SchemaTools.listSchemas, SchemaTools.listTables, SchemaTools.describeTable,
        SessionTools.openSession, SessionTools.closeSession, SessionTools.serverStatus,
    ]

}
