import PGMCPJSON

/// The few lines of a plan a person reads first, from `EXPLAIN (FORMAT JSON)`: where the time went
/// (with ANALYZE), where the planner misjudged the rows most, and which large tables are read
/// whole. A model handed a 40-node plan finds the same things slower and at more cost; this says
/// them in a few hundred bytes. A pure function of the plan and the tables' sizes.
public enum ExplainSummary {
    /// A table is "large" for a sequential scan from this many rows: below it a scan is usually the
    /// right plan.
    public static let largeTableRows: Int64 = 10_000

    /// The names of the relations read by sequential scans, for the lookup of their sizes.
    public static func scannedRelations(_ plan: JSONValue) -> [String] {
        var names: [String] = []
        forEachNode(plan) { node in
            if node["Node Type"]?.stringValue == "Seq Scan", let name = node["Relation Name"]?.stringValue, !names.contains(name) {
                names.append(name)
            }
        }
        return names
    }

    /// `{totalCost, executionMs, slowestNode, worstEstimate, sequentialScans}`; `tableRows` gives
    /// each scanned relation's estimated rows (pg_class.reltuples). `worstEstimate` is null when no
    /// estimate was off by a factor of 2 or more: then the estimates are not the problem.
    public static func summarize(_ plan: JSONValue, tableRows: [String: Int64]) -> JSONObject {
        let top = plan.arrayValue?.first ?? plan
        let root = top["Plan"] ?? .null
        var slowest: (node: JSONObject, selfMs: Double)?
        var worst: (node: JSONObject, factor: Double)?
        var scans: [JSONValue] = []
        forEachNode(plan) { node in
            if let ms = selfTime(node), ms > (slowest?.selfMs ?? -1) { slowest = (node, ms) }
            if let factor = estimateFactor(node), factor >= 2, factor > (worst?.factor ?? 0) { worst = (node, factor) }
            if node["Node Type"]?.stringValue == "Seq Scan", let name = node["Relation Name"]?.stringValue {
                let rows = tableRows[name] ?? 0
                let scanned = scannedRows(node)
                if max(rows, scanned ?? 0) >= largeTableRows {
                    var scan = JSONObject([("table", .string(name)), ("node", .string(describe(node))), ("tableRows", .int(rows))])
                    if let scanned { scan["rowsScanned"] = .int(scanned) }
                    if let filter = node["Filter"]?.stringValue { scan["filter"] = .string(cut(filter, to: 300)) }
                    scans.append(.object(scan))
                }
            }
        }
        let execution = top["Execution Time"]?.numberValue
        var summary = JSONObject([("totalCost", root["Total Cost"] ?? .null)])
        summary["executionMs"] = execution.map { .double(rounded($0)) } ?? .null
        summary["slowestNode"] =
            slowest.map { slowest in
                var entry = JSONObject([("node", .string(describe(slowest.node))), ("selfMs", .double(rounded(slowest.selfMs)))])
                if let execution, execution > 0 { entry["shareOfExecution"] = .double(rounded(min(1, slowest.selfMs / execution))) }
                return .object(entry)
            } ?? .null
        summary["worstEstimate"] =
            worst.map { worst in
                .object(
                    JSONObject([
                        ("node", .string(describe(worst.node))), ("estimatedRows", worst.node["Plan Rows"] ?? .null),
                        ("actualRows", worst.node["Actual Rows"] ?? .null), ("factor", .double(rounded(worst.factor))),
                    ]))
            } ?? .null
        summary["sequentialScans"] = .array(scans)
        return summary
    }

    /// "Seq Scan on orders o", "Index Scan using orders_pkey on orders", "Hash Join".
    static func describe(_ node: JSONObject) -> String {
        var text = node["Node Type"]?.stringValue ?? "?"
        if let index = node["Index Name"]?.stringValue { text += " using \(index)" }
        if let relation = node["Relation Name"]?.stringValue {
            text += " on \(relation)"
            if let alias = node["Alias"]?.stringValue, alias != relation { text += " \(alias)" }
        }
        return text
    }

    /// Time spent in the node itself, all loops: its total less its children's (ANALYZE only).
    static func selfTime(_ node: JSONObject) -> Double? {
        guard let total = node["Actual Total Time"]?.numberValue, let loops = node["Actual Loops"]?.numberValue else { return nil }
        let children = (node["Plans"]?.arrayValue ?? []).compactMap { child -> Double? in
            guard let time = child["Actual Total Time"]?.numberValue, let loops = child["Actual Loops"]?.numberValue else { return nil }
            return time * loops
        }
        return max(0, total * loops - children.reduce(0, +))
    }

    /// How many times the planner's row estimate was off, either way (ANALYZE only; a node never
    /// executed tells nothing).
    static func estimateFactor(_ node: JSONObject) -> Double? {
        guard let estimated = node["Plan Rows"]?.numberValue, let actual = node["Actual Rows"]?.numberValue,
            (node["Actual Loops"]?.numberValue ?? 0) > 0
        else { return nil }
        let (low, high) = (max(1, min(estimated, actual)), max(1, max(estimated, actual)))
        return high / low
    }

    /// Rows a sequential scan read, all loops, those its filter removed included (ANALYZE only).
    static func scannedRows(_ node: JSONObject) -> Int64? {
        guard let rows = node["Actual Rows"]?.numberValue, let loops = node["Actual Loops"]?.numberValue else { return nil }
        let removed = node["Rows Removed by Filter"]?.numberValue ?? 0
        return Int64(((rows + removed) * loops).rounded())
    }

    /// Every node of the plan, depth first, subplans and init plans included.
    static func forEachNode(_ plan: JSONValue, _ body: (JSONObject) -> Void) {
        func walk(_ node: JSONValue) {
            guard let object = node.objectValue else { return }
            body(object)
            for child in object["Plans"]?.arrayValue ?? [] { walk(child) }
        }
        for entry in plan.arrayValue ?? [plan] { walk(entry["Plan"] ?? .null) }
    }

    static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }

    static func cut(_ text: String, to length: Int) -> String { text.count > length ? String(text.prefix(length)) + "…" : text }
}
