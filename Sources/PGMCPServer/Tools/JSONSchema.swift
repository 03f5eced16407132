import PGMCPJSON

/// Small builders for the JSON Schemas in the tool catalog.
enum JSONSchema {
    static func object(_ properties: [(String, JSONValue)], required: [String] = [], additional: Bool = false) -> JSONObject {
        var schema = JSONObject([("type", "object"), ("properties", .object(JSONObject(properties)))])
        if !required.isEmpty { schema["required"] = .array(required.map(JSONValue.string)) }
        if !additional { schema["additionalProperties"] = false }
        return schema
    }

    static func string(_ description: String) -> JSONValue { ["type": "string", "description": .string(description)] }
    static func boolean(_ description: String) -> JSONValue { ["type": "boolean", "description": .string(description)] }
    static func integer(_ description: String, minimum: Int, maximum: Int) -> JSONValue {
        ["type": "integer", "description": .string(description), "minimum": .int(Int64(minimum)), "maximum": .int(Int64(maximum))]
    }

    /// The `database` argument every database tool takes.
    static let database = string(
        "Name of a database this session can use (see list_databases). Defaults to the session's active database.")

    /// The `session` argument every tool takes; gateways of MCP 2026-07-28 route on it as a header.
    static let session: JSONValue = [
        "type": "string",
        "description": "A work-session handle from open_session. Without it, the call belongs to this connection's own session.",
        "x-mcp-header": "Session",
    ]

    /// `params`: what `ToolArguments.parameterText` accepts. Every array schema names its `items`:
    /// OpenAI function calling, VS Code and pydantic-ai's strict mode refuse a tool whose array
    /// schema lacks them. Arrays nest two deep (`int[][]`); the server takes deeper ones too.
    static let params: JSONValue = [
        "type": "array",
        "description": "Values for $1, $2, … in the statement. null is SQL NULL; an array of scalars becomes a PostgreSQL array; an object is passed as JSON text.",
        "items": ["anyOf": .array(parameterScalars + [array(of: ["anyOf": .array(parameterScalars + [array(of: ["anyOf": .array(parameterScalars)])])])])],
    ]

    /// One parameter value that is not an array: text, number, boolean, SQL NULL, or JSON (an object).
    static let parameterScalars: [JSONValue] = [["type": "string"], ["type": "number"], ["type": "boolean"], ["type": "null"], ["type": "object"]]

    /// Output schema of an object whose listed properties are present.
    static func output(_ properties: [(String, JSONValue)], required: [String]) -> JSONValue {
        .object(object(properties, required: required, additional: true))
    }

    /// In every output schema (see `ToolCatalog`): present, and true, when the result was cut.
    static let truncated: JSONValue = [
        "type": "boolean", "description": "True when the result was cut to the server's size cap (PGMCP_MAX_RESULT_BYTES) or a row limit.",
    ]

    static let anyValue: JSONValue = [:]
    /// A column's value in `rows`: any JSON (json/jsonb and arrays nest freely), so no `type`.
    static let cell: JSONValue = ["description": "A column's value: null, boolean, number, string, or JSON for json/jsonb and array columns."]
    /// `rows` of query and execute: arrays of cells, in the order of `columns`.
    static let rows: JSONValue = array(of: array(of: cell))
    static let stringOrNull: JSONValue = ["type": ["string", "null"]]
    static let integerOrNull: JSONValue = ["type": ["integer", "null"]]
    static func array(of items: JSONValue) -> JSONValue { ["type": "array", "items": items] }
}
