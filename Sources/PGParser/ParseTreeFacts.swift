/// Reads the facts of `ParsedStatement` off libpg_query's JSON parse tree in one pass over its
/// events. Each open object or array is a frame: the key it is the value of (`[]` for an array
/// element), so a fact is recognised by the path that leads to it, e.g. a function name part is an
/// `sval` under `funcname` → `[]` → `String`.
struct ParseTreeFacts {
    private struct Frame {
        var key: String
        var firstKey: String?
        /// Name parts (`funcname`, `fields`), or a `DefElem`'s name and argument.
        var parts: [String] = []
        var argument: String?
    }

    private var frames: [Frame] = []
    private var pendingKey: String?
    private var facts = ParsedStatement(count: 0, kind: nil)

    /// Node names that write, wherever they appear; `intoClause` is `SELECT … INTO`.
    private static let writingKeys: Set<String> = ["InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt", "intoClause"]

    static func read(_ json: UnsafeBufferPointer<UInt8>) -> ParsedStatement {
        var reader = ParseTreeFacts()
        var events = ParseTreeEvents(json)
        while let event = events.next() { reader.take(event, from: events) }
        return reader.facts
    }

    // Paths, as frame keys from the root: root "", "stmts", "[]", "stmt", then the statement's node.
    private var inStatementList: Bool { frames.count == 3 && frames[1].key == "stmts" }
    private var atStatementNode: Bool { frames.count == 4 && frames[3].key == "stmt" }
    private var inTopExplain: Bool { frames.count >= 5 && frames[3].key == "stmt" && frames[4].key == "ExplainStmt" }

    private mutating func take(_ event: ParseTreeEvents.Event, from events: ParseTreeEvents) {
        switch event {
        case .objectStart, .arrayStart:
            let key = pendingKey ?? (frames.last.map { _ in "[]" } ?? "")
            pendingKey = nil
            frames.append(Frame(key: key))
            if event == .objectStart, inStatementList { facts.count += 1 }
        case .key(let key):
            pendingKey = key
            guard !frames.isEmpty else { return }
            let first = frames[frames.count - 1].firstKey == nil
            if first { frames[frames.count - 1].firstKey = key }
            if facts.count == 1, facts.firstWrite == nil, Self.writingKeys.contains(key) { facts.firstWrite = key }
            if first, atStatementNode, facts.count == 1 {
                facts.kind = key
                if key == "ExplainStmt" { facts.explain = .init(analyze: false, explained: nil) }
            }
            if first, inTopExplain, frames.count == 6, frames[5].key == "query" { facts.explain?.explained = key }
            if isExplainOptionArgument(depth: 1), ["Integer", "Boolean", "String"].contains(key) {
                // libpg_query leaves out a zero, `false` or empty value: its presence says which.
                frames[frames.count - 2].argument = key == "String" ? "" : (key == "Integer" ? "0" : "false")
            }
        case .string(let range), .scalar(let range):
            value(range, of: events)
        case .objectEnd, .arrayEnd:
            pendingKey = nil
            guard let frame = frames.popLast() else { return }
            finish(frame)
        }
    }

    /// A value, decoded only where a fact keeps it (most are enum names and locations).
    private mutating func value(_ range: Range<Int>, of events: ParseTreeEvents) {
        defer { pendingKey = nil }
        guard let key = pendingKey, frames.count >= 3 else { return }
        let top = frames.count - 1
        switch key {
        case "sval" where frames[top].key == "String" && frames[top - 1].key == "[]":
            // A part of a name list: the list is the frame two up.
            frames[top - 2].parts.append(events.text(range))
        case "defname" where frames[top].key == "DefElem":
            frames[top].parts = [events.text(range)]
        case "number" where frames[top].key == "ParamRef" && facts.count == 1:
            facts.parameterCount = max(facts.parameterCount, Int(events.text(range)) ?? 0)
        case "sval", "ival", "boolval":
            if isExplainOptionArgument(depth: 2) { frames[top - 2].argument = events.text(range) }
        default:
            break
        }
    }

    /// Whether the frame `depth` levels up is a `DefElem` among the top-level EXPLAIN's options,
    /// seen from inside its argument (`arg` → node).
    private func isExplainOptionArgument(depth: Int) -> Bool {
        let defElem = frames.count - 1 - depth
        return defElem == 7 && inTopExplain && frames[defElem].key == "DefElem" && frames[defElem + 1].key == "arg" && frames[5].key == "options"
    }

    private mutating func finish(_ frame: Frame) {
        switch frame.key {
        case "funcname":
            facts.functions.append(frame.parts)
        case "fields" where frames.last?.key == "ColumnRef" && frame.parts.count >= 2:
            // Only `x.f` may be a call: a bare name is a column.
            if let last = frame.parts.last { facts.attributeNames.append(last) }
        case "DefElem" where inTopExplain && frames.count == 7 && frames[5].key == "options":
            guard frame.parts.first == "analyze" else { return }
            // `ANALYZE` alone is on; with a value, PostgreSQL's boolean spellings decide.
            facts.explain?.analyze = frame.argument.map(Self.isTrue) ?? true
        default:
            break
        }
    }

    /// PostgreSQL's `parse_bool` for what `EXPLAIN (ANALYZE value)` accepts; anything it would
    /// refuse counts as on (PostgreSQL then refuses the statement anyway).
    static func isTrue(_ value: String) -> Bool {
        let text = value.lowercased()
        if text == "0" || text == "off" || text == "of" { return false }
        if !text.isEmpty, "false".hasPrefix(text) || "no".hasPrefix(text) { return false }
        return true
    }
}
