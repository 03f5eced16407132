import Metrics
import PGMCPJSON
import PGRegistry

/// One tool: what `tools/list` shows and the handler `tools/call` runs. The catalog is a table of these.
public struct ToolDefinition: Sendable {
    public var name: String
    public var title: String
    public var description: String
    /// JSON Schema of the arguments; `session` is added to every tool (see `ToolCatalog`).
    public var inputSchema: JSONObject
    public var outputSchema: JSONValue
    public var annotations: ToolAnnotations
    /// False for `close_session`, whose `session` argument names the session to end rather than
    /// the one the call runs in.
    public var routesBySessionArgument = true
    /// It changes the state of the work session it runs in (the active database, a dynamic
    /// connection, an open transaction): called without a handle under a protocol that keeps no
    /// state between calls (MCP 2026-07-28 over HTTP), it runs in a work session that is kept, and
    /// returns the handle (`MCPSessionGate.callKeepingSession`).
    public var keepsSessionState = false
    /// It uses only who calls (its work session's owner and identities), never a session's state or
    /// databases (`open_session`, `close_session`): under MCP 2026-07-28 it runs without taking a
    /// place in `PGMCP_MAX_SESSIONS`, so a full table never keeps a client from its own handles.
    public var usesCallerOnly = false
    /// It hands out a work-session handle (`open_session`).
    public var mintsHandle = false
    /// It works only while dynamic connections are allowed (`connect_database`, `disconnect_database`).
    public var needsDynamicConnections = false
    /// The arguments it accepts (its schema's properties), filled in by the catalog once.
    var argumentNames: [String] = []
    /// Its arguments that travel in HTTP headers too (`x-mcp-header`): (property, header name
    /// after `Mcp-Param-`), filled in by the catalog once.
    var headerParameters: [(property: String, header: String)] = []
    /// Its call metrics, made by the catalog once (after the metrics backend is bootstrapped).
    var metrics = ToolMetrics(tool: nil)
    public var handler: @Sendable (ToolCall) async throws(ToolError) -> JSONObject

    /// The `tools/list` entry, its output schema compact (`JSONSchema.compact`). `titleInAnnotations`
    /// for clients of protocol 2025-03-26, which read a tool's title there only.
    func listing(titleInAnnotations: Bool) -> JSONValue {
        .object(
            JSONObject([
                ("name", .string(name)), ("title", .string(title)), ("description", .string(description)),
                ("inputSchema", .object(inputSchema)), ("outputSchema", JSONSchema.compact(output: outputSchema)),
                ("annotations", annotations.json(title: titleInAnnotations ? title : nil)),
            ]))
    }
}

/// `pgmcp_tool_calls_total`, `pgmcp_tool_errors_total` and `pgmcp_tool_call_seconds` of one tool.
struct ToolMetrics: Sendable {
    private let handles: (calls: Counter, errors: Counter, seconds: Timer)?

    init(tool: String?) {
        handles = tool.map { name in
            let dimensions = [("tool", name)]
            return (
                Counter(label: "pgmcp_tool_calls_total", dimensions: dimensions), Counter(label: "pgmcp_tool_errors_total", dimensions: dimensions),
                Timer(label: "pgmcp_tool_call_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
            )
        }
    }

    func record(duration: Duration, failed: Bool) {
        guard let handles else { return }
        handles.seconds.record(duration: duration)
        handles.calls.increment()
        if failed { handles.errors.increment() }
    }
}

/// MCP tool annotations: hints a client uses to decide whether to ask the user first.
public struct ToolAnnotations: Sendable {
    public var readOnly: Bool
    public var destructive: Bool
    public var idempotent: Bool
    /// The tool talks to systems outside the server (a database): true for most.
    public var openWorld: Bool

    /// The `annotations` object, every hint stated (a client's default for a missing one is the
    /// cautious reading). With `title` for clients of protocol 2025-03-26, which read
    /// `annotations.title` only (the tool-level `title` came in 2025-06-18).
    func json(title: String? = nil) -> JSONValue {
        var object = JSONObject([
            ("readOnlyHint", .bool(readOnly)), ("destructiveHint", .bool(destructive)), ("idempotentHint", .bool(idempotent)),
            ("openWorldHint", .bool(openWorld)),
        ])
        if let title { object["title"] = .string(title) }
        return .object(object)
    }

    static let readsDatabase = ToolAnnotations(readOnly: true, destructive: false, idempotent: true, openWorld: true)
    static let sessionState = ToolAnnotations(readOnly: false, destructive: false, idempotent: true, openWorld: false)
}

/// Everything a handler needs: its arguments, the work session the call belongs to, the server.
public struct ToolCall: Sendable {
    public var arguments: ToolArguments
    /// The work session: the `session` argument's, or the transport session's.
    public var session: WorkSession
    public var server: ServerContext
}

/// A failed call, reported as `isError: true` with a message a person can act on.
public struct ToolError: Error, Sendable {
    public var message: String
    /// Machine-readable details (e.g. SQLSTATE), also shown in the text.
    public var details: JSONObject?
    /// The message says why the server itself cancelled the call (its session ended, its database
    /// was disconnected): kept, rather than replaced by a bare "the call was cancelled".
    public var explainsCancellation = false

    public init(_ message: String, details: JSONObject? = nil) {
        self.message = message
        self.details = details
    }
}
