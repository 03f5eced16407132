import PGDatabaseCalls
import PGMCPJSON

/// list_schemas, list_tables, describe_table: catalog queries, parameterised, read-only.
enum SchemaTools {
    static let listSchemas = ToolDefinition(
        name: "list_schemas", title: "List schemas",
        description: "Lists the schemas (system ones left out) with their owner and number of tables.",
        inputSchema: JSONSchema.object([("database", JSONSchema.database)]),
        outputSchema: JSONSchema.output(
            [("schemas", JSONSchema.array(of: ["type": "object", "properties": ["name": ["type": "string"], "owner": ["type": "string"], "tables": ["type": "integer"]]]))],
            required: ["schemas"]),
        annotations: .readsDatabase,
        handler: { call throws(ToolError) in
            let database = try call.arguments.string("database")
            let schemas = try await call.run { calls throws(DatabaseCallError) in
                try await calls.listSchemas(session: call.session, database: database)
            }
            return JSONObject([("schemas", .array(schemas))])
        })

    static let listTables = ToolDefinition(
        name: "list_tables", title: "List tables",
        description: "Lists tables, views and materialized views of one schema, or of all, with estimated rows, size and comment.",
        inputSchema: JSONSchema.object([
            ("schema", JSONSchema.string()), ("database", JSONSchema.database),
        ]),
        outputSchema: JSONSchema.output(
            [
                (
                    "tables",
                    JSONSchema.array(of: [
                        "type": "object",
                        "properties": [
                            "schema": ["type": "string"], "name": ["type": "string"],
                            "kind": ["type": "string", "enum": ["table", "view", "materialized_view", "foreign_table", "partitioned_table"]],
                            "estimatedRows": JSONSchema.integerOrNull, "sizeBytes": JSONSchema.integerOrNull, "comment": JSONSchema.stringOrNull,
                        ],
                    ])
                )
            ], required: ["tables"]),
        annotations: .readsDatabase,
        handler: { call throws(ToolError) in
            let schema = try call.arguments.string("schema")
            let database = try call.arguments.string("database")
            let tables = try await call.run { calls throws(DatabaseCallError) in
                try await calls.listTables(session: call.session, database: database, schema: schema)
            }
            return JSONObject([("tables", .array(tables))])
        })

    static let describeTable = ToolDefinition(
        name: "describe_table", title: "Describe a table",
        description: "Describes a table or view: columns, primary key, foreign keys, indexes and constraints. 'table' may be schema-qualified.",
        inputSchema: JSONSchema.object(
            [
                ("table", JSONSchema.string()),
                ("schema", JSONSchema.string()),
                ("database", JSONSchema.database),
            ], required: ["table"]),
        outputSchema: JSONSchema.output(
            [
                ("schema", ["type": "string"]), ("name", ["type": "string"]), ("kind", ["type": "string"]),
                ("comment", JSONSchema.stringOrNull), ("columns", JSONSchema.array(of: describedColumn)),
                ("primaryKey", JSONSchema.array(of: ["type": "string"])), ("foreignKeys", JSONSchema.array(of: foreignKey)),
                ("indexes", JSONSchema.array(of: index)), ("constraints", JSONSchema.array(of: constraint)),
            ], required: ["schema", "name", "kind", "columns", "primaryKey", "foreignKeys", "indexes", "constraints"]),
        annotations: .readsDatabase,
        handler: { call throws(ToolError) in
            var table = try call.arguments.requiredString("table")
            var schema = try call.arguments.string("schema")
            if schema == nil, let dot = table.firstIndex(of: ".") {
                schema = String(table[..<dot])
                table = String(table[table.index(after: dot)...])
            }
            let (name, schemaName) = (table, schema)
            let database = try call.arguments.string("database")
            let description = try await call.run { calls throws(DatabaseCallError) in
                try await calls.describeTable(session: call.session, database: database, table: name, schema: schemaName)
            }
            guard let description else {
                let place = schemaName.map { "schema '\($0)'" } ?? "the search path"
                throw ToolError("no table or view '\(name)' in \(place) of this database; list_tables shows what exists")
            }
            return description
        })

    static let describedColumn: JSONValue = [
        "type": "object",
        "properties": [
            "name": ["type": "string"], "type": ["type": "string"], "nullable": ["type": "boolean"],
            "default": JSONSchema.stringOrNull, "comment": JSONSchema.stringOrNull,
        ],
    ]
    static let foreignKey: JSONValue = [
        "type": "object",
        "properties": [
            "name": ["type": "string"], "columns": JSONSchema.array(of: ["type": "string"]), "referencedTable": ["type": "string"],
            "referencedColumns": JSONSchema.array(of: ["type": "string"]), "definition": ["type": "string"],
        ],
    ]
    static let index: JSONValue = [
        "type": "object",
        "properties": ["name": ["type": "string"], "definition": ["type": "string"], "unique": ["type": "boolean"], "primary": ["type": "boolean"]],
    ]
    static let constraint: JSONValue = [
        "type": "object", "properties": ["name": ["type": "string"], "type": ["type": "string"], "definition": ["type": "string"]],
    ]
}
