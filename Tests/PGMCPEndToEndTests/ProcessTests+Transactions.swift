import Foundation
import PGClient
import PGMCPJSON
import TestSupport
import Testing

extension ProcessTests {
    /// The stdio session ends with its input: its open transaction is rolled back and its row lock
    /// released, by the real `pgmcp serve --transport stdio`.
    @Test func stdioEndOfInputRollsBackTheOpenTransactionAndFreesItsLock() async throws {
        let (name, databases) = try await scratchEntry(
            id: "main", prefix: "stx", extra: #""readOnly": false"#,
            ["CREATE TABLE t (id int PRIMARY KEY, v text)", "INSERT INTO t VALUES (1, 'before')"])
        let child = try ChildProcess([pgmcpBinary, "serve", "--transport", "stdio"], environment: try environment(databases: databases))
        child.send(MCPMessages.initialize(client: "pipe"))
        _ = try #require(try await child.readLine())
        child.send(#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"begin_transaction","arguments":{"read_only":false}}}"#)
        let begun = try JSONParser.parse(try #require(try await child.readLine()))
        #expect(begun["result"]?["structuredContent"]?["transaction"]?["status"] == "open", "\(begun)")
        child.send(#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"execute","arguments":{"sql":"UPDATE t SET v = 'inside' WHERE id = 1"}}}"#)
        let updated = try JSONParser.parse(try #require(try await child.readLine()))
        #expect(updated["result"]?["structuredContent"]?["rowsAffected"] == 1, "\(updated)")
        func rowIsFree(lockTimeoutMs: Int) async throws -> Bool {
            try await TestDatabase.canLock(database: name, "SELECT 1 FROM t WHERE id = 1 FOR UPDATE", lockTimeoutMs: lockTimeoutMs)
        }
        #expect(try await rowIsFree(lockTimeoutMs: 300) == false)
        child.closeInput()
        #expect(try await child.wait() == 0)
        #expect(try await rowIsFree(lockTimeoutMs: 2000))
        let value = try await TestDatabase.withConnection(database: name) { try await $0.query("SELECT v FROM t WHERE id = 1").rows }
        #expect(value == [["before"]])
        try await TestDatabase.dropDatabase(name)
    }
}
