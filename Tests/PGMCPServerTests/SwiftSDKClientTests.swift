import Foundation
import MCP
import MCPTestSupport
import PGConfig
import PGMCPJSON
import PGMCPServer
import TestSupport
import Testing

/// Every tool through swift-sdk's real Client over real HTTP.
@Suite("Tools through the swift-sdk client", .serialized) struct SwiftSDKClientTests {
    /// `entries` and `settings` may change the two database entries and the server's settings first.
    func withServer(
        entries: (inout Fixture) -> Void = { _ in }, settings: (inout ServerSettings) -> Void = { _ in },
        _ body: (TestServer, Fixture) async throws -> Void
    ) async throws {
        try await Fixture.withServer(entries: entries, settings: settings, body)
    }

    @Test func toolsListIsTheCatalogWithSchemasAndSessionRouting() async throws {
        try await withServer { server, _ in
            let client = try await SDKClient.connect(server.url)
            let (tools, _) = try await client.client.listTools()
            #expect(
                tools.map(\.name) == [
                    // connect_database and disconnect_database are not listed: dynamic connections are off.
                    "list_databases", "select_database", "current_database", "query", "execute", "explain",
                    "list_schemas", "list_tables", "describe_table", "begin_transaction", "commit_transaction", "rollback_transaction",
                    "open_session", "close_session", "server_status",
                ])
            for tool in tools {
                let schema = try SDKClient.json(tool.inputSchema)
                #expect(schema["properties"]?["session"]?["x-mcp-header"] == "Session", "\(tool.name)")
                #expect(tool.description?.isEmpty == false)
            }
            let query = try #require(tools.first { $0.name == "query" })
            #expect(query.annotations.readOnlyHint == true)
            #expect(tools.first { $0.name == "execute" }?.annotations.destructiveHint == true)
            await client.disconnect()
        }
    }

    @Test func databasesAreListedSelectedAndDescribed() async throws {
        try await withServer { server, fixture in
            let client = try await SDKClient.connect(server.url)
            let list = try await client.ok("list_databases")
            let names = list["databases"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(names == ["dev", "ro"])
            let dev = list["databases"]?.arrayValue?.first
            #expect(dev?["active"] == true)
            #expect(dev?["readOnly"] == false)
            #expect(dev?["dbname"] == .string(fixture.databaseName))
            #expect(dev?["kind"] == "configured")
            let selected = try await client.ok("select_database", ["database": "ro"])
            #expect(selected["database"] == "ro")
            #expect(selected["readOnly"] == true)
            #expect(selected["serverVersion"]?.stringValue?.hasPrefix("15.") == true)
            // list_databases already connected (to learn health): a query is what the statistics count.
            _ = try await client.ok("query", ["sql": "SELECT 1"])
            let current = try await client.ok("current_database")
            #expect(current["database"] == "ro")
            #expect(current["session"]?["connectionLimit"] == 2)
            #expect(current["session"]?["queries"]?.intValue ?? 0 >= 1)
            let unknown = try await client.failure("select_database", ["database": "prod"])
            #expect(unknown == "unknown database 'prod'; this session can use: 'dev', 'ro'")
            await client.disconnect()
        }
    }

    @Test func queryWithParametersTypesAndTruncation() async throws {
        try await withServer { server, _ in
            let client = try await SDKClient.connect(server.url)
            let result = try await client.ok(
                "query",
                [
                    "sql": "SELECT id, name, email FROM customers WHERE id <= $1 AND name LIKE $2 ORDER BY id",
                    "params": [3, "customer %"],
                ])
            #expect(result["rows"] == [[1, "customer 1", "c1@example.com"], [2, "customer 2", "c2@example.com"], [3, "customer 3", "c3@example.com"]])
            #expect(result["columns"] == [["name": "id", "type": "integer"], ["name": "name", "type": "text"], ["name": "email", "type": "text"]])
            #expect(result["rowCount"] == 3)
            #expect(result["truncated"] == false)
            #expect(result["database"] == "dev")
            #expect(result["elapsedMs"]?.numberValue != nil)
            let cut = try await client.ok("query", ["sql": "SELECT id FROM orders ORDER BY id", "max_rows": 5])
            #expect(cut["rowCount"] == 5)
            #expect(cut["truncated"] == true)
            let enums = try await client.ok("query", ["sql": "SELECT status, total FROM orders WHERE id = 1"])
            #expect(enums["columns"] == [["name": "status", "type": "order_status"], ["name": "total", "type": "numeric"]])
            #expect(enums["rows"] == [["new", "1.50"]])
            let any = try await client.ok("query", ["sql": "SELECT count(*) FROM orders WHERE customer_id = ANY($1::int[])", "params": [[1, 2, 3]]])
            #expect(any["rows"] == [[12]])
            await client.disconnect()
        }
    }

    @Test func readOnlyRefusals() async throws {
        try await withServer { server, _ in
            let client = try await SDKClient.connect(server.url)
            let cte = try await client.failure("query", ["sql": "WITH d AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM d"])
            #expect(cte.contains("25006"))
            #expect(cte.contains("read-only transaction"))
            let chained = try await client.failure("query", ["sql": "SELECT 1; DROP TABLE orders"])
            #expect(chained.contains("42601"))
            #expect(chained.contains("cannot insert multiple commands"))
            #expect(chained.hasPrefix("'sql' holds more than one statement; each call runs exactly one."), "\(chained)")
            let commit = try await client.failure("query", ["sql": "COMMIT; DROP TABLE orders"])
            #expect(commit.contains("this is a COMMIT statement, which was not sent"), "\(commit)")
            let update = try await client.failure("query", ["sql": "UPDATE customers SET name = 'x'"])
            #expect(update.contains("25006"))
            let refused = try await client.failure("execute", ["sql": "DELETE FROM orders", "database": "ro"])
            #expect(refused.hasPrefix("database 'ro' is read-only: writes are refused."), "\(refused)")
            let count = try await client.ok("query", ["sql": "SELECT count(*) FROM orders"])
            #expect(count["rows"] == [[200]])
            await client.disconnect()
        }
    }

    @Test func executeWritesAndReturnsRows() async throws {
        try await withServer { server, _ in
            let client = try await SDKClient.connect(server.url)
            _ = try await client.ok("select_database", ["database": "dev"])
            let inserted = try await client.ok(
                "execute",
                [
                    "sql": "INSERT INTO customers (name, email) VALUES ($1, $2) RETURNING id, name", "params": ["Ada", "ada@example.com"],
                ])
            #expect(inserted["command"] == "INSERT")
            #expect(inserted["rowsAffected"] == 1)
            #expect(inserted["rows"] == [[51, "Ada"]])
            let updated = try await client.ok("execute", ["sql": "UPDATE orders SET status = 'paid' WHERE customer_id = 1"])
            #expect(updated["command"] == "UPDATE")
            #expect(updated["rowsAffected"] == 4)
            #expect(updated["rows"] == nil)
            let ddl = try await client.ok("execute", ["sql": "CREATE TABLE notes (id int)"])
            #expect(ddl["command"] == "CREATE TABLE")
            #expect(ddl["rowsAffected"] == .null)
            let vacuum = try await client.ok("execute", ["sql": "VACUUM notes"])
            #expect(vacuum["command"] == "VACUUM")
            let visible = try await client.ok("query", ["sql": "SELECT count(*) FROM customers WHERE name = 'Ada'", "database": "ro"])
            #expect(visible["rows"] == [[1]])
            let failed = try await client.failure("execute", ["sql": "INSERT INTO orders (customer_id, total) VALUES (9999, 1)"])
            #expect(failed.contains("23503"))
            await client.disconnect()
        }
    }

    @Test func explainWithAndWithoutAnalyze() async throws {
        try await withServer { server, _ in
            let client = try await SDKClient.connect(server.url)
            let plain = try await client.ok("explain", ["sql": "SELECT * FROM orders WHERE customer_id = $1", "params": [7]])
            #expect(plain["plan"]?.arrayValue?.first?["Plan"]?["Node Type"] != nil)
            let analyzed = try await client.ok("explain", ["sql": "DELETE FROM orders WHERE id < 10", "analyze": true, "database": "dev"])
            #expect(analyzed["plan"]?.arrayValue?.first?["Plan"]?["Actual Rows"] != nil)
            // Rolled back: the rows are still there.
            #expect(try await client.ok("query", ["sql": "SELECT count(*) FROM orders WHERE id < 10"])["rows"] == [[9]])
            let refused = try await client.failure("explain", ["sql": "DELETE FROM orders", "analyze": true, "database": "ro"])
            #expect(refused.contains("25006"))
            await client.disconnect()
        }
    }

    @Test func schemaIntrospection() async throws {
        try await withServer { server, _ in
            let client = try await SDKClient.connect(server.url)
            let schemas = try await client.ok("list_schemas")
            let schemaNames = schemas["schemas"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(schemaNames == ["public", "reporting"])
            #expect(schemas["schemas"]?.arrayValue?.first?["tables"] == 3)
            let tables = try await client.ok("list_tables", ["schema": "public"])
            let listed = tables["tables"]?.arrayValue ?? []
            #expect(listed.compactMap { $0["name"]?.stringValue } == ["big_orders", "customers", "orders"])
            #expect(listed.first?["kind"] == "view")
            #expect(listed[1]["comment"] == "People who order")
            #expect(listed[2]["estimatedRows"] == 200)
            #expect((listed[2]["sizeBytes"]?.intValue ?? 0) > 0)
            let all = try await client.ok("list_tables")
            #expect(all["tables"]?.arrayValue?.count == 4)
            let orders = try await client.ok("describe_table", ["table": "orders"])
            #expect(orders["schema"] == "public")
            #expect(orders["kind"] == "table")
            #expect(orders["primaryKey"] == ["id"])
            let columns = orders["columns"]?.arrayValue ?? []
            #expect(columns.compactMap { $0["name"]?.stringValue } == ["id", "customer_id", "total", "status", "created_at"])
            #expect(columns[2]["type"] == "numeric(10,2)")
            #expect(columns[1]["nullable"] == false)
            #expect(columns[3]["default"] == "'new'::order_status")
            #expect(orders["foreignKeys"]?.arrayValue?.first?["referencedTable"] == "customers")
            #expect(orders["foreignKeys"]?.arrayValue?.first?["columns"] == ["customer_id"])
            #expect(orders["indexes"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["orders_customer_idx", "orders_pkey"])
            #expect(orders["constraints"]?.arrayValue?.first?["type"] == "check")
            let customers = try await client.ok("describe_table", ["table": "customers"])
            #expect(customers["columns"]?.arrayValue?[2]["comment"] == "Contact address")
            let qualified = try await client.ok("describe_table", ["table": "reporting.daily"])
            #expect(qualified["primaryKey"] == ["day"])
            let missing = try await client.failure("describe_table", ["table": "nope"])
            #expect(missing == "no table or view 'nope' in the search path of this database; list_tables shows what exists")
            await client.disconnect()
        }
    }

    @Test func twoClientsHaveTheirOwnActiveDatabaseAndTheOverrideWorks() async throws {
        try await withServer { server, _ in
            let one = try await SDKClient.connect(server.url)
            let two = try await SDKClient.connect(server.url)
            _ = try await two.ok("select_database", ["database": "ro"])
            #expect(try await one.ok("current_database")["database"] == "dev")
            #expect(try await two.ok("current_database")["database"] == "ro")
            #expect(try await one.ok("query", ["sql": "SELECT 1"])["database"] == "dev")
            #expect(try await two.ok("query", ["sql": "SELECT 1"])["database"] == "ro")
            #expect(try await one.ok("query", ["sql": "SELECT 1", "database": "ro"])["database"] == "ro")
            #expect(try await one.ok("current_database")["database"] == "dev")
            await one.disconnect()
            await two.disconnect()
        }
    }

    @Test func openSessionHandlesAreIsolatedAndClosable() async throws {
        try await withServer { server, _ in
            let client = try await SDKClient.connect(server.url)
            let opened = try await client.ok("open_session", ["database": "ro", "label": "test-1"])
            let handle = try #require(opened["session"]?.stringValue)
            #expect(opened["database"] == "ro")
            #expect(opened["expiresAfterIdleSeconds"] == 1800)
            #expect(try await client.ok("current_database", ["session": .string(handle)])["database"] == "ro")
            #expect(try await client.ok("current_database")["database"] == "dev")
            _ = try await client.ok("select_database", ["session": .string(handle), "database": "dev"])
            #expect(try await client.ok("query", ["sql": "SELECT 1", "session": .string(handle)])["database"] == "dev")
            let other = try await SDKClient.connect(server.url)
            // Without a token, any caller may use a handle it was given.
            #expect(try await other.ok("current_database", ["session": .string(handle)])["database"] == "dev")
            #expect(try await client.ok("close_session", ["session": .string(handle)])["closed"] == .string(handle))
            let gone = try await client.failure("query", ["sql": "SELECT 1", "session": .string(handle)])
            #expect(gone == "unknown or expired session handle; open_session mints a new one")
            let forged = try await client.failure("current_database", ["session": "not-a-handle"])
            #expect(forged == "unknown or expired session handle; open_session mints a new one")
            let status = try await client.ok("server_status")
            #expect(status["sessions"] == 2)
            #expect(status["pools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["dev", "ro"])
            #expect(status["pools"]?.arrayValue?.first?["max"] == 10)
            await client.disconnect()
            await other.disconnect()
        }
    }

    @Test func badArgumentsNameTheArgument() async throws {
        try await withServer { server, _ in
            let client = try await SDKClient.connect(server.url)
            #expect(
                try await client.failure("query", [:])
                    == "argument 'sql' is required and must be a non-empty string (or pass 'cursor', a nextCursor, for the next page of a cut result)")
            #expect(try await client.failure("query", ["sql": 42]) == "argument 'sql' must be a string, got a number")
            #expect(try await client.failure("query", ["sql": "SELECT 1", "max_rows": "ten"]) == "argument 'max_rows' must be a whole number from 1 to 1000000, got \"ten\"")
            #expect(try await client.failure("query", ["sql": "SELECT 1", "params": "x"]) == "argument 'params' must be an array of values for $1, $2, …, got a string")
            #expect(
                try await client.failure("query", ["sql": "SELECT 1", "limit": 3]).hasPrefix(
                    "unknown argument 'limit'; this tool takes: 'sql', 'params', 'database', 'max_rows', 'cursor', 'session'"))
            #expect(try await client.failure("explain", ["sql": "SELECT 1", "analyze": "yes"]) == "argument 'analyze' must be true or false, got a string")
            let sqlError = try await client.failure("query", ["sql": "SELECT * FROM no_such_table"])
            #expect(sqlError == "ERROR 42P01: relation \"no_such_table\" does not exist (position 15)")
            let unknownDatabase = try await client.failure("query", ["sql": "SELECT 1", "database": "prod"])
            #expect(unknownDatabase == "unknown database 'prod'; this session can use: 'dev', 'ro'")
            do {
                _ = try await client.call("no_such_tool")
                Issue.record("an unknown tool must be a JSON-RPC error")
            } catch let error as MCPError {
                #expect(String(describing: error).contains("unknown tool 'no_such_tool'"))
            }
            // After all of that, the session still works.
            #expect(try await client.ok("query", ["sql": "SELECT 2"])["rows"] == [[2]])
            await client.disconnect()
        }
    }

    @Test func aTwoMegabyteStatementIsHandled() async throws {
        try await withServer { server, _ in
            let client = try await SDKClient.connect(server.url)
            let literal = String(repeating: "y", count: 2_000_000)
            let result = try await client.ok("query", ["sql": .string("SELECT length('\(literal)')")])
            #expect(result["rows"] == [[2_000_000]])
            await client.disconnect()
        }
    }

    @Test func resultsAreCutToTheByteCap() async throws {
        try await withServer(settings: { $0.maxResultBytes = 4096 }) { server, _ in
            let client = try await SDKClient.connect(server.url)
            let result = try await client.ok("query", ["sql": "SELECT * FROM orders ORDER BY id"])
            #expect(result["truncated"] == true)
            let rows = result["rows"] ?? .null
            #expect(rows.serialized().count <= 4096)
            #expect((result["rowCount"]?.intValue ?? 0) > 10)
            await client.disconnect()
        }
    }

    @Test func everyStatementStopsAtItsDatabasesTimeoutWhateverTheCallBeforeItSet() async throws {
        try await withServer(
            entries: { fixture in
                fixture.dev.statementTimeoutMs = 300
                fixture.ro.statementTimeoutMs = 400
            }, settings: { $0.sessionMaxConnections = 1 }
        ) { server, _ in
            let client = try await SDKClient.connect(server.url)
            let started = ContinuousClock.now
            let queried = try await client.failure("query", ["sql": "SELECT pg_sleep(10)"])
            #expect(queried.contains("57014") && queried.contains("statement timeout"), "\(queried)")
            #expect(queried.hasPrefix("the statement ran longer than database 'dev' allows (statementTimeoutMs = 300 ms)"), "\(queried)")
            _ = try await client.ok("select_database", ["database": "dev"])
            let executed = try await client.failure("execute", ["sql": "SELECT pg_sleep(10)"])
            #expect(executed.contains("57014"), "\(executed)")
            let explained = try await client.failure("explain", ["sql": "SELECT pg_sleep(10)", "analyze": true])
            #expect(explained.contains("57014"), "\(explained)")
            #expect(ContinuousClock.now - started < .seconds(5))
            // Each database keeps its own limit, and what a call sets does not outlive it.
            _ = try await client.ok("execute", ["sql": "SET statement_timeout = 0"])
            _ = try await client.ok("query", ["sql": "SELECT set_config('statement_timeout', '0', false)"])
            #expect(try await client.ok("query", ["sql": "SHOW statement_timeout"])["rows"] == [["300ms"]])
            #expect(try await client.ok("query", ["sql": "SHOW statement_timeout", "database": "ro"])["rows"] == [["400ms"]])
            await client.disconnect()
        }
    }
}
