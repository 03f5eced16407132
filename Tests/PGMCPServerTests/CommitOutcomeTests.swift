import Foundation
import MCP
import MCPTestSupport
import PGClient
import TestSupport
import Testing

/// What commit_transaction and execute answer is what happened to the data: a write that committed
/// is reported committed, whatever the reset after it met. Through swift-sdk's Client over HTTP.
@Suite("What a commit answers", .serialized) struct CommitOutcomeTests {
    @Test func sessionDefaultsAWriteLeftDoNotTurnItsCommitIntoAFailure() async throws {
        // Before: the reset after COMMIT ran under the defaults the transaction had set (a serializable,
        // read-only, deferrable snapshot waits while another serializable writer is open) and its short
        // statement_timeout: commit_transaction said "nothing of it was committed", execute "stopped",
        // and the rows were committed all the same; a client retrying wrote them twice.
        try await Fixture.withServer { server, fixture in
            let client = try await SDKClient.connect(server.url)
            try await TestDatabase.withConnection(database: fixture.databaseName) { other in
                try await other.command("BEGIN ISOLATION LEVEL SERIALIZABLE")
                try await other.command("SELECT count(*) FROM customers")
                _ = try await client.ok("begin_transaction", ["database": "dev", "read_only": false])
                for sql in [
                    "INSERT INTO customers (name) VALUES ('tx committed')",
                    "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE", "SET statement_timeout = 300",
                ] { _ = try await client.ok("execute", ["sql": .string(sql), "database": "dev"]) }
                let committed = try await client.ok("commit_transaction", ["database": "dev"])
                #expect(committed["outcome"] == "committed")
                // The same set by the statement that writes, outside a transaction, and in a DO block.
                let defaults =
                    "set_config('default_transaction_isolation', 'serializable', false), set_config('default_transaction_read_only', 'on', false), set_config('default_transaction_deferrable', 'on', false), set_config('statement_timeout', '300', false)"
                let written = try await client.ok(
                    "execute", ["sql": .string("WITH ins AS (INSERT INTO customers (name) VALUES ('tx executed') RETURNING 1) SELECT \(defaults) FROM ins"), "database": "dev"])
                #expect(written["command"] == "SELECT", "\(written)")
                _ = try await client.ok(
                    "execute", ["sql": .string("DO $$ BEGIN INSERT INTO customers (name) VALUES ('tx done'); PERFORM \(defaults); END $$"), "database": "dev"])
                try await other.command("ROLLBACK")
            }
            let rows = try await TestDatabase.withConnection(database: fixture.databaseName) { connection in
                try await connection.query("SELECT name FROM customers WHERE name LIKE 'tx %' ORDER BY name").rows
            }
            #expect(rows == [["tx committed"], ["tx done"], ["tx executed"]])
            // And the session goes on, on connections as clean as new ones.
            let mode = try await client.ok("query", ["sql": "SELECT current_setting('default_transaction_isolation'), current_setting('statement_timeout')", "database": "dev"])
            #expect(mode["rows"] == [["read committed", "30s"]], "\(mode)")
            await client.disconnect()
        }
    }
}
