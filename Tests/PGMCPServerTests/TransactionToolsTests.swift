import Foundation
import MCP
import MCPTestSupport
import PGClient
import PGConfig
import PGMCPJSON
import TestSupport
import Testing

/// begin/commit/rollback_transaction through swift-sdk's real Client over real HTTP, checked from
/// another connection to the database.
@Suite("Transactions across calls", .serialized) struct TransactionToolsTests {
    func count(_ fixture: Fixture, _ condition: String = "name LIKE 'tx %'") async throws -> Int {
        let rows = try await TestDatabase.withConnection(database: fixture.databaseName) { connection in
            try await connection.query("SELECT count(*) FROM customers WHERE \(condition)").rows
        }
        return rows.first?.first?.intValue.map(Int.init) ?? -1
    }

    /// Tries to update customer 1 from another connection within `lockTimeoutMs`: true when it got the row lock.
    func rowIsFree(_ fixture: Fixture, lockTimeoutMs: Int = 300) async throws -> Bool {
        try await TestDatabase.canLock(database: fixture.databaseName, "UPDATE customers SET name = name WHERE id = 1", lockTimeoutMs: lockTimeoutMs)
    }

    @Test func twoInsertsInTwoCallsRollBackToNothingAndCommitToBoth() async throws {
        try await Fixture.withServer { server, fixture in
            let client = try await SDKClient.connect(server.url)
            let begun = try await client.ok("begin_transaction", ["database": "dev", "read_only": false])
            #expect(begun["transaction"]?["database"] == "dev")
            #expect(begun["transaction"]?["readOnly"] == false)
            #expect(begun["transaction"]?["status"] == "open")
            for name in ["tx one", "tx two"] {
                _ = try await client.ok("execute", ["sql": "INSERT INTO customers (name) VALUES ($1)", "params": [.string(name)], "database": "dev"])
            }
            // Inside, the transaction's rows are seen; outside, nothing yet.
            let inside = try await client.ok("query", ["sql": "SELECT count(*) FROM customers WHERE name LIKE 'tx %'", "database": "dev"])
            #expect(inside["rows"] == [[2]])
            #expect(try await count(fixture) == 0)
            let current = try await client.ok("current_database")
            #expect(current["transaction"]?["status"] == "open")
            #expect(current["session"]?["connectionsHeld"] == 1)
            let rolledBack = try await client.ok("rollback_transaction", ["database": "dev"])
            #expect(rolledBack["outcome"] == "rolled_back")
            #expect(try await count(fixture) == 0)
            #expect(try await client.ok("current_database")["transaction"] == .null)

            _ = try await client.ok("begin_transaction", ["database": "dev", "read_only": false])
            for name in ["tx three", "tx four"] {
                _ = try await client.ok("execute", ["sql": "INSERT INTO customers (name) VALUES ($1)", "params": [.string(name)], "database": "dev"])
            }
            #expect(try await count(fixture) == 0)
            let committed = try await client.ok("commit_transaction", ["database": "dev"])
            #expect(committed["outcome"] == "committed")
            #expect(try await count(fixture) == 2)
            // Ended: a second commit says there is none, and calls run on their own again.
            #expect(try await client.failure("commit_transaction", ["database": "dev"]).contains("no transaction is open on 'dev'"))
            #expect(try await client.ok("current_database")["session"]?["connectionsHeld"] == 0)
            await client.disconnect()
        }
    }

    @Test func aFailedStatementAbortsTheTransactionUntilRolledBack() async throws {
        try await Fixture.withServer { server, fixture in
            let client = try await SDKClient.connect(server.url)
            _ = try await client.ok("begin_transaction", ["database": "dev", "read_only": false])
            _ = try await client.ok("execute", ["sql": "INSERT INTO customers (name) VALUES ('tx kept?')", "database": "dev"])
            let failed = try await client.failure("execute", ["sql": "INSERT INTO customers (id, name) VALUES (1, 'dup')", "database": "dev"])
            #expect(failed.contains("23505"), "\(failed)")
            #expect(failed.contains("rollback_transaction"), "\(failed)")
            let ignored = try await client.failure("query", ["sql": "SELECT 1", "database": "dev"])
            #expect(ignored.contains("25P02"), "\(ignored)")
            #expect(ignored.contains("rollback_transaction"), "\(ignored)")
            #expect(try await client.ok("current_database", [:])["transaction"]?["status"] == "aborted")
            // COMMIT of an aborted transaction is a rollback: said so, never reported as committed.
            let commit = try await client.failure("commit_transaction", ["database": "dev"])
            #expect(commit.contains("rolled it back"), "\(commit)")
            #expect(try await count(fixture) == 0)
            // And the session goes on: a new transaction opens.
            _ = try await client.ok("begin_transaction", ["database": "dev"])
            _ = try await client.ok("rollback_transaction", ["database": "dev"])
            await client.disconnect()
        }
    }

    @Test func transactionControlInsideExecuteIsRefusedButSavepointsWork() async throws {
        try await Fixture.withServer { server, fixture in
            let client = try await SDKClient.connect(server.url)
            _ = try await client.ok("begin_transaction", ["database": "dev", "read_only": false])
            _ = try await client.ok("execute", ["sql": "INSERT INTO customers (name) VALUES ('tx kept')", "database": "dev"])
            for sql in ["COMMIT", "rollback", "END", "BEGIN", "PREPARE TRANSACTION 'x'"] {
                let refused = try await client.failure("execute", ["sql": .string(sql), "database": "dev"])
                #expect(refused.contains("commit_transaction or rollback_transaction"), "\(sql): \(refused)")
            }
            // Nothing was committed by them, and the transaction is intact.
            #expect(try await count(fixture) == 0)
            _ = try await client.ok("execute", ["sql": "SAVEPOINT mine", "database": "dev"])
            _ = try await client.ok("execute", ["sql": "INSERT INTO customers (name) VALUES ('tx undone')", "database": "dev"])
            _ = try await client.ok("execute", ["sql": "ROLLBACK TO SAVEPOINT mine", "database": "dev"])
            _ = try await client.ok("commit_transaction", ["database": "dev"])
            #expect(try await count(fixture) == 1)
            #expect(try await count(fixture, "name = 'tx kept'") == 1)
            // Outside a transaction too, PREPARE TRANSACTION is refused: it would prepare the
            // transaction execute runs in, which would then outlive the call holding its locks.
            let prepared = try await client.failure("execute", ["sql": "PREPARE TRANSACTION 'outside'", "database": "dev"])
            #expect(prepared.contains("outlive the call"), "\(prepared)")
            let pending = try await TestDatabase.withConnection { try await $0.query("SELECT count(*) FROM pg_prepared_xacts").rows }
            #expect(pending == [[0]])
            // Outside a transaction, execute runs them as before (each on its own).
            _ = try await client.ok("execute", ["sql": "COMMIT", "database": "dev"])
            await client.disconnect()
        }
    }

    @Test func readsInsideTheTransactionLeaveItUsableEvenWhenCut() async throws {
        try await Fixture.withServer { server, fixture in
            let client = try await SDKClient.connect(server.url)
            _ = try await client.ok("select_database", ["database": "dev"])
            _ = try await client.ok("begin_transaction", ["read_only": false])
            _ = try await client.ok("execute", ["sql": "CREATE TABLE tx_made (x int)"])
            // A cut read (max_rows), a catalog read and an explain, all inside and all seeing the new table.
            let cut = try await client.ok("query", ["sql": "SELECT g FROM generate_series(1, 100000) g", "max_rows": 3])
            #expect(cut["truncated"] == true)
            let tables = try await client.ok("list_tables", ["schema": "public"])
            #expect(tables["tables"]?.arrayValue?.contains { $0["name"] == "tx_made" } == true)
            _ = try await client.ok("describe_table", ["table": "tx_made"])
            _ = try await client.ok("explain", ["sql": "INSERT INTO tx_made VALUES (1)", "analyze": true])
            // A column of a non-built-in type: its name is looked up inside the transaction, which stays usable.
            let typed = try await client.ok("query", ["sql": "SELECT status FROM orders LIMIT 1"])
            #expect(typed["columns"] == [["name": "status", "type": "order_status"]])
            _ = try await client.ok("execute", ["sql": "INSERT INTO tx_made VALUES (2)"])
            // query stays read-only inside a read-write transaction, even through WITH.
            let write = try await client.failure("query", ["sql": "WITH d AS (DELETE FROM customers RETURNING 1) SELECT count(*) FROM d"])
            #expect(write.contains("25006"), "\(write)")
            _ = try await client.ok("rollback_transaction")
            // The read-only refusal aborted it; the rollback undid the table too.
            let gone = try await TestDatabase.withConnection(database: fixture.databaseName) { connection in
                try await connection.query("SELECT to_regclass('tx_made') IS NULL").rows
            }
            #expect(gone == [[true]])
            await client.disconnect()
        }
    }

    @Test func oneTransactionPerDatabaseAndReadOnlyDatabasesOnlyReadOnly() async throws {
        try await Fixture.withServer { server, _ in
            let client = try await SDKClient.connect(server.url)
            let readOnly = try await client.ok("begin_transaction", ["database": "ro"])
            #expect(readOnly["transaction"]?["readOnly"] == true)
            let again = try await client.failure("begin_transaction", ["database": "ro"])
            #expect(again.contains("already open on 'ro'"), "\(again)")
            let writable = try await client.failure("begin_transaction", ["database": "ro", "read_only": false])
            #expect(writable.contains("read-only"), "\(writable)")
            // A read-write transaction needs its database named or selected, as a write does.
            let unchosen = try await client.failure("begin_transaction", ["read_only": false])
            #expect(unchosen.contains("no database was named or selected"), "\(unchosen)")
            _ = try await client.ok("rollback_transaction", ["database": "ro"])
            await client.disconnect()
        }
    }

    @Test func anIdleTransactionIsRolledBackAndItsRowLockFreed() async throws {
        try await Fixture.withServer(settings: { $0.transactionIdleTimeout = .seconds(1) }) { server, fixture in
            let housekeeping = Task { await server.registry.run(interval: .milliseconds(200)) }
            defer { housekeeping.cancel() }
            let client = try await SDKClient.connect(server.url)
            _ = try await client.ok("begin_transaction", ["database": "dev", "read_only": false])
            _ = try await client.ok("execute", ["sql": "UPDATE customers SET name = 'tx locked' WHERE id = 1", "database": "dev"])
            #expect(try await rowIsFree(fixture) == false)
            #expect(try await eventually(within: .seconds(5)) { try await rowIsFree(fixture) })
            #expect(try await count(fixture) == 0)
            // The next call on that database hears why, once, instead of running outside a transaction it thinks open.
            let told = try await client.failure("execute", ["sql": "UPDATE customers SET name = 'tx after' WHERE id = 2", "database": "dev"])
            #expect(told.contains("PGMCP_TRANSACTION_IDLE_TIMEOUT"), "\(told)")
            #expect(try await count(fixture) == 0)
            _ = try await client.ok("query", ["sql": "SELECT 1", "database": "dev"])
            await client.disconnect()
        }
    }

    @Test func closingTheSessionRollsBackAndFreesTheLockAlsoUnderAHandle() async throws {
        try await Fixture.withServer { server, fixture in
            let client = try await SDKClient.connect(server.url)
            let handle = try #require(try await client.ok("open_session", ["database": "dev"])["session"]?.stringValue)
            let session = MCP.Value.string(handle)
            _ = try await client.ok("begin_transaction", ["read_only": false, "session": session])
            _ = try await client.ok("execute", ["sql": "UPDATE customers SET name = 'tx locked' WHERE id = 1", "session": session])
            // Only the handle's session is inside it: the transport session's own calls are not.
            #expect(try await client.ok("current_database")["transaction"] == .null)
            #expect(try await client.ok("current_database", ["session": session])["transaction"]?["status"] == "open")
            #expect(try await rowIsFree(fixture) == false)
            _ = try await client.ok("close_session", ["session": session])
            #expect(try await rowIsFree(fixture, lockTimeoutMs: 2000))
            #expect(try await count(fixture) == 0)

            // DELETE of the transport session does the same.
            let url = server.url.absoluteString
            let transport = try await RawHTTP.openSession(url)
            _ = try await RawHTTP.call(url, session: transport, tool: "begin_transaction", arguments: ["database": "dev", "read_only": false])
            _ = try await RawHTTP.call(
                url, session: transport, tool: "execute", arguments: ["sql": "UPDATE customers SET name = 'tx locked' WHERE id = 1", "database": "dev"])
            #expect(try await rowIsFree(fixture) == false)
            _ = try await RawHTTP.send("DELETE", url, headers: RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": transport]) { $1 })
            #expect(try await rowIsFree(fixture, lockTimeoutMs: 2000))
            #expect(try await count(fixture) == 0)
            await client.disconnect()
        }
    }

    @Test func anOpenTransactionHoldsOneOfTheSessionsConnections() async throws {
        try await Fixture.withServer(settings: {
            $0.sessionMaxConnections = 1
            $0.acquireTimeout = .milliseconds(500)
        }) { server, _ in
            let client = try await SDKClient.connect(server.url)
            _ = try await client.ok("begin_transaction", ["database": "ro"])
            // Inside the transaction: no second connection needed.
            _ = try await client.ok("query", ["sql": "SELECT 1", "database": "ro"])
            let other = try await client.failure("query", ["sql": "SELECT 1", "database": "dev"])
            #expect(other.contains("PGMCP_SESSION_MAX_CONNECTIONS"), "\(other)")
            #expect(other.contains("open transaction"), "\(other)")
            _ = try await client.ok("rollback_transaction", ["database": "ro"])
            _ = try await client.ok("query", ["sql": "SELECT 1", "database": "dev"])
            await client.disconnect()
        }
    }
}
