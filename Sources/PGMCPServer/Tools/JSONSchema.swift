import PGMCPJSON

/// Small builders for the JSON Schemas in the tool catalog.
enum JSONSchema {
    static func object(_ properties: [(String, JSONValue)], required: [String] = [], additional: Bool = false) -> JSONObject {
        var schema = JSONObject([("type", "object"), ("properties", .object(JSONObject(properties)))])
        if !required.isEmpty { schema["required"] = .array(required.map(JSONValue.string)) }
        if !additional { schema["additionalProperties"] = false }
        return schema
    }

    /// A property whose name and type say what it is gets no description: every byte of the tool
    /// list is paid in every conversation of every client.
    static func string(_ description: String? = nil) -> JSONValue { described(JSONObject([("type", "string")]), description) }
    static func boolean(_ description: String? = nil) -> JSONValue { described(JSONObject([("type", "boolean")]), description) }
    static func integer(minimum: Int, maximum: Int) -> JSONValue {
        ["type": "integer", "minimum": .int(Int64(minimum)), "maximum": .int(Int64(maximum))]
    }

    private static func described(_ schema: JSONObject, _ description: String?) -> JSONValue {
        var schema = schema
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    /// The `database` argument every database tool takes (a name from list_databases; the active one when left out).
    static let database = string()

    /// The `session` argument of every tool, listed while a tool that hands out handles is served;
    /// gateways of MCP 2026-07-28 route on it as a header.
    static let session: JSONValue = ["type": "string", "description": "Handle from open_session or a result.", "x-mcp-header": "Session"]

    /// `params`: what `ToolArguments.parameterText` accepts: text, number, boolean, null (SQL NULL),
    /// an object (JSON text) or an array (a PostgreSQL array). Every array schema names its
    /// `items`: OpenAI function calling, VS Code and pydantic-ai's strict mode refuse a tool whose
    /// array schema lacks them.
    static let params: JSONValue = [
        "type": "array", "description": "Values for $1, $2, …",
        "items": ["type": ["string", "number", "boolean", "null", "object", "array"], "items": [:]],
    ]

    /// Output schema of an object whose listed properties are present.
    static func output(_ properties: [(String, JSONValue)], required: [String]) -> JSONValue {
        .object(object(properties, required: required, additional: true))
    }

    /// In every output schema (see `ToolCatalog`): present, and true, when the result was cut.
    static let truncated: JSONValue = ["type": "boolean"]

    /// An output schema as `tools/list` shows it: the result's top-level properties and their
    /// types, nested objects as `object` and arrays with the type of their items. Clients check
    /// results against it; models read the description and the result itself, so the detail (kept
    /// in the definitions and docs/tools.md) is not worth its bytes in every conversation.
    static func compact(output schema: JSONValue, depth: Int = 0) -> JSONValue {
        guard case .object(let object) = schema else { return schema }
        var compact = JSONObject()
        if let type = object["type"] { compact["type"] = type }
        if let anyOf = object["anyOf"]?.arrayValue { compact["anyOf"] = .array(anyOf.map { Self.compact(output: $0, depth: depth + 1) }) }
        if let items = object["items"] { compact["items"] = Self.compact(output: items, depth: depth + 1) }
        if depth == 0, case .object(let properties)? = object["properties"] {
            compact["properties"] = .object(JSONObject(properties.map { ($0.key, Self.compact(output: $0.value, depth: depth + 1)) }))
        }
        // Nested objects keep their type only; a cell of `rows` (any JSON) stays unconstrained.
        return .object(compact)
    }

    static let anyValue: JSONValue = [:]
    /// A column's value in `rows`: any JSON (json/jsonb and arrays nest freely), so no `type`.
    static let cell: JSONValue = ["description": "A column's value: null, boolean, number, string, or JSON for json/jsonb and array columns."]
    /// `rows` of query and execute: arrays of cells, in the order of `columns`.
    static let rows: JSONValue = array(of: array(of: cell))
    static let stringOrNull: JSONValue = ["type": ["string", "null"]]
    static let integerOrNull: JSONValue = ["type": ["integer", "null"]]
    static func array(of items: JSONValue) -> JSONValue { ["type": "array", "items": items] }
}
