import Foundation
import MCPTestSupport
import PGMCPJSON
import TestSupport
import Testing

/// `pgmcp demo` end to end: cluster up, both databases answer with their own rows through MCP,
/// staging refuses writes, and after SIGTERM no postgres process and no folder remain. Twice, to
/// show a second run starts clean.
@Suite("pgmcp demo", .serialized) struct DemoTests {
    @Test func theDemoServesTwoDatabasesAndCleansUpAfterItself() async throws {
        let environment = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("PGMCP_") && !$0.key.hasPrefix("DB_CONFIG") && $0.key != "DATABASE_URL"
        }
        let port = freeLocalPort()
        for _ in 1...2 {
            let child = try ChildProcess([pgmcpBinary, "demo", "--port", String(port)], environment: environment)
            var endpoint: String?
            var directory: String?
            while endpoint == nil || directory == nil, let line = try await child.readLine(timeout: .seconds(90)) {
                if line.hasPrefix("MCP endpoint: ") { endpoint = String(line.dropFirst("MCP endpoint: ".count)) }
                if line.hasPrefix("cluster: ") { directory = line.dropFirst("cluster: ".count).components(separatedBy: " (").first }
            }
            let url = try #require(endpoint, "no endpoint line; stderr: \(child.stderr)")
            let folder = try #require(directory)
            #expect(url == "http://127.0.0.1:\(port)/mcp")
            #expect(FileManager.default.fileExists(atPath: folder))

            let client = try await SDKClient.connect(URL(string: url)!)
            let databases = try await client.ok("list_databases")["databases"]?.arrayValue ?? []
            #expect(databases.compactMap { $0["name"]?.stringValue } == ["demo_dev", "demo_staging"])
            #expect(databases.map { $0["readOnly"] } == [false, true])
            let devCustomers = try await client.ok("query", ["sql": "SELECT count(*) FROM customers"])
            let stagingCustomers = try await client.ok("query", ["sql": "SELECT count(*) FROM customers", "database": "demo_staging"])
            #expect(devCustomers["rows"] == [[25]])
            #expect(stagingCustomers["rows"] == [[60]])
            let totals = try await client.ok("query", ["sql": "SELECT count(*) > 0 FROM order_totals", "database": "demo_staging"])
            #expect(totals["rows"] == [[true]])
            let refused = try await client.failure("execute", ["sql": "DELETE FROM order_items", "database": "demo_staging"])
            #expect(refused.contains("read-only"))
            // A write goes only where the caller said: the default is not enough with two databases.
            let unchosen = try await client.failure("execute", ["sql": "UPDATE products SET in_stock = in_stock + 1 WHERE sku = 'KB-01'"])
            #expect(unchosen.contains("no database was named or selected in this session"), "\(unchosen)")
            #expect(unchosen.contains("'demo_dev'"))
            let written = try await client.ok("execute", ["sql": "UPDATE products SET in_stock = in_stock + 1 WHERE sku = 'KB-01'", "database": "demo_dev"])
            #expect(written["rowsAffected"] == 1)
            // Staging's role cannot write even if the entry allowed it.
            let privilege = try await client.ok(
                "query", ["sql": "SELECT has_table_privilege('customers', 'INSERT')", "database": "demo_staging"])
            #expect(privilege["rows"] == [[false]])
            // The DBA group is served, and demo_dev's workload gives it something to find.
            let top = try await client.ok("top_queries", ["limit": 3])
            #expect(
                top["queries"]?.arrayValue?.first?["query"] == "SELECT count(*), max(viewed_at) FROM page_views WHERE customer_id = $1", "\(top)")
            let health = try await client.ok("database_health")
            let checks = health["findings"]?.arrayValue?.map { "\($0["check"]?.stringValue ?? "") \($0["object"]?.stringValue ?? "")" } ?? []
            #expect(checks.contains("duplicate_index public.page_views"), "\(checks)")
            #expect(checks.contains("unused_index public.page_views_path_copy"), "\(checks)")
            await client.disconnect()

            child.signal(SIGTERM)
            let rest = try await readRest(child)
            #expect(try await child.wait(timeout: .seconds(30)) == 0, "stderr: \(child.stderr)")
            #expect(rest.contains("cluster stopped and removed"))
            #expect(!FileManager.default.fileExists(atPath: folder))
            let postgres = try ProgramRunner.run(["pgrep", "-f", folder])
            #expect(postgres.status == 1, "a postgres process remains: \(postgres.output)")
        }
    }

    func readRest(_ child: ChildProcess) async throws -> String {
        var lines: [String] = []
        while let line = try await child.readLine(timeout: .seconds(30)) { lines.append(line) }
        return lines.joined(separator: "\n")
    }
}
