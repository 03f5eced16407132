import Foundation
import PGClient
import PGMCPJSON
import TestSupport
import Testing

@Suite("Statements") struct StatementTests {
    @Test func parametersOfSeveralTypes() async throws {
        let row = try await TestDatabase.withConnection { connection in
            try await connection.query(
                "SELECT $1::int4 + 1, $2::text || '!', $3::bool, $4::numeric * 2, $5::jsonb -> 'k', $6::int4 IS NULL, $7::date",
                parameters: ["41", "hi", "true", "1.25", #"{"k": [1]}"#, nil, "2024-01-31"]
            ).rows[0]
        }
        #expect(row == [.int(42), "hi!", true, "2.50", [1], true, "2024-01-31"])
    }

    @Test func syntaxErrorCarriesSQLStateAndPosition() async throws {
        try await TestDatabase.withConnection { connection in
            let error = try await #require(throws: PGError.self) { try await connection.query("SELECT FROM WHERE") }
            #expect(error.kind == .statement)
            #expect(error.sqlState == "42601")
            #expect(error.position == 13)
            #expect(error.severity == "ERROR")
            #expect(error.message.contains("syntax error"))
            // The connection stays usable after a statement error.
            #expect(try await connection.query("SELECT 1").rows == [[1]])
            #expect(connection.transactionStatus == .idle)
        }
    }

    @Test func undefinedTableCarriesSQLStateAndHintFields() async throws {
        try await TestDatabase.withConnection { connection in
            let error = try await #require(throws: PGError.self) { try await connection.query("SELECT * FROM no_such_table") }
            #expect(error.sqlState == "42P01")
            #expect(error.message == #"relation "no_such_table" does not exist"#)
            #expect(error.position == 15)
            #expect(error.description.contains("42P01"))
        }
    }

    @Test func detailAndHintAreKept() async throws {
        try await TestDatabase.withConnection { connection in
            let error = try await #require(throws: PGError.self) {
                try await connection.command("DO $$ BEGIN RAISE EXCEPTION 'boom' USING DETAIL = 'the detail', HINT = 'the hint', ERRCODE = '22012'; END $$")
            }
            #expect(error.sqlState == "22012")
            #expect(error.detail == "the detail")
            #expect(error.hint == "the hint")
        }
    }

    @Test func twoStatementsAreRejectedAndTheSecondNeverRuns() async throws {
        try await TestDatabase.withConnection { connection in
            try await connection.command("CREATE TEMP TABLE marker (x int)")
            let error = try await #require(throws: PGError.self) {
                try await connection.command("SELECT 1; INSERT INTO marker VALUES (1)")
            }
            #expect(error.sqlState == "42601")
            #expect(error.message.contains("cannot insert multiple commands into a prepared statement"))
            #expect(try await connection.query("SELECT count(*) FROM marker").rows == [[0]])
        }
    }

    @Test func commandTagsAndRowsAffected() async throws {
        try await TestDatabase.withConnection { connection in
            let create = try await connection.command("CREATE TEMP TABLE t (id int)")
            #expect(create.commandTag == "CREATE TABLE")
            #expect(create.command == "CREATE TABLE")
            #expect(create.rowsAffected == nil)
            let insert = try await connection.command("INSERT INTO t SELECT generate_series(1, 5)")
            #expect(insert.commandTag == "INSERT 0 5")
            #expect(insert.command == "INSERT")
            #expect(insert.rowsAffected == 5)
            let select = try await connection.query("SELECT id FROM t ORDER BY id")
            #expect(select.command.rowsAffected == 5)
            #expect(select.rows.count == 5)
            let empty = try await connection.query("SELECT id FROM t WHERE false")
            #expect(empty.columns.map(\.name) == ["id"])
            #expect(empty.rows.isEmpty)
        }
    }

    @Test func emptyStatementIsAnError() async throws {
        try await TestDatabase.withConnection { connection in
            let error = try await #require(throws: PGError.self) { try await connection.query("   ") }
            #expect(error.message == "the statement is empty")
        }
    }

    @Test func transactionStatusIsReported() async throws {
        try await TestDatabase.withConnection { connection in
            #expect(connection.transactionStatus == .idle)
            try await connection.command("BEGIN")
            #expect(connection.transactionStatus == .inTransaction)
            _ = try? await connection.query("SELECT 1/0")
            #expect(connection.transactionStatus == .inFailedTransaction)
            try await connection.command("ROLLBACK")
            #expect(connection.transactionStatus == .idle)
        }
    }

    @Test func aLargeStatementIsSentWhole() async throws {
        // ~2 MB of SQL: needs several socket writes in non-blocking mode.
        let literal = String(repeating: "x", count: 2_000_000)
        let length = try await TestDatabase.withConnection { connection in
            try await connection.query("SELECT length('\(literal)')").rows[0][0]
        }
        #expect(length == .int(2_000_000))
    }

    @Test func concurrentUseOfOneConnectionIsRefusedNotCorrupted() async throws {
        try await TestDatabase.withConnection { connection in
            let slow = Task { try await connection.query("SELECT pg_sleep(0.3)") }
            try await Task.sleep(for: .milliseconds(50))
            let error = try await #require(throws: PGError.self) { try await connection.query("SELECT 2") }
            #expect(error.kind == .misuse)
            _ = try await slow.value
            #expect(try await connection.query("SELECT 3").rows == [[3]])
        }
    }

    @Test func closedConnectionRefusesWork() async throws {
        let connection = try await TestDatabase.connect()
        await connection.close()
        await connection.close()
        let error = try await #require(throws: PGError.self) { try await connection.query("SELECT 1") }
        #expect(error.kind == .misuse)
        #expect(connection.isClosed)
    }

    @Test func aTerminatedBackendBreaksTheConnectionClearly() async throws {
        let victim = try await TestDatabase.connect()
        try await TestDatabase.withConnection { admin in
            try await admin.command("SELECT pg_terminate_backend($1)", parameters: [String(victim.backendPID)])
        }
        let error = try await #require(throws: PGError.self) { try await victim.query("SELECT 1") }
        #expect(error.kind == .connection)
        #expect(victim.isBroken)
        await victim.close()
    }

    @Test func applicationNameAndServerVersionAreSet() async throws {
        let name = "pgmcp-appname-\(UInt16.random(in: 0...UInt16.max))"
        try await TestDatabase.withConnection(applicationName: name) { connection in
            let setting = try await connection.query("SELECT current_setting('application_name')").rows
            #expect(setting == [[.string(name)]])
            #expect(connection.serverVersion >= 150000)
            #expect(connection.backendPID > 0)
        }
    }
}
