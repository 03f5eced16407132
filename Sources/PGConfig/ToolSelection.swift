/// `PGMCP_TOOLS`: which tools `tools/list` offers, by group or by name. Every listed tool costs a
/// model context in every conversation, so a deployment serves the ones its users need.
///
/// Groups: `core` (the five tools most work needs), `default` (every tool of the contract but the
/// DBA group), `dba` (health, workload, index advice, locks: for an operator's agent), `all`. A comma list mixes groups and tool names; the order of `tools/list` stays the
/// catalog's whatever the order written here.
public struct ToolSelection: Sendable, Equatable {
    /// The tools chosen, by name.
    public let names: Set<String>
    /// What was written, for messages (`core`, `query,execute`).
    public let text: String

    /// Every tool of the contract, in the order `tools/list` shows them.
    public static let knownTools =
        [
            "list_databases", "select_database", "current_database", "connect_database", "disconnect_database",
            "query", "execute", "explain", "list_schemas", "list_tables", "describe_table",
            "begin_transaction", "commit_transaction", "rollback_transaction", "open_session", "close_session", "server_status",
        ] + dbaTools

    /// The DBA group: off by default, since most conversations need none of it.
    public static let dbaTools = ["database_health", "top_queries", "suggest_indexes", "blocking_locks"]

    /// The groups, each a set of tool names.
    public static let groups: [String: Set<String>] = [
        "core": ["list_databases", "query", "execute", "list_tables", "describe_table"],
        "default": Set(knownTools).subtracting(dbaTools),
        "dba": Set(dbaTools),
        "all": Set(knownTools),
    ]

    public static let `default` = ToolSelection(names: Set(knownTools).subtracting(dbaTools), text: "default")

    init(names: Set<String>, text: String) {
        self.names = names
        self.text = text
    }

    /// Parses a comma list of groups and tool names; the problem to report when a name is neither.
    public static func parse(_ items: [String]) -> Result<ToolSelection, ToolSelectionProblem> {
        var names = Set<String>()
        for item in items {
            let name = item.lowercased()
            if let group = groups[name] {
                names.formUnion(group)
            } else if knownTools.contains(name) {
                names.insert(name)
            } else {
                return .failure(
                    ToolSelectionProblem(
                        message: "\"\(item)\" is neither a tool group (\(groups.keys.sorted().joined(separator: ", "))) nor a tool name (\(knownTools.joined(separator: ", ")))"))
            }
        }
        guard !names.isEmpty else { return .failure(ToolSelectionProblem(message: "names no tool; use core, default, dba, all, or tool names")) }
        return .success(ToolSelection(names: names, text: items.joined(separator: ",")))
    }

    public func contains(_ tool: String) -> Bool { names.contains(tool) }
}

public struct ToolSelectionProblem: Error, Sendable {
    public let message: String
}
