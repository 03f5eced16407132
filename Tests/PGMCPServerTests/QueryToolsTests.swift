import Foundation
import MCPTestSupport
import PGConfig
import PGMCPJSON
import TestSupport
import Testing

/// query and execute under attack: numbers, NUL bytes, races, unchosen databases, strong locks,
/// state left on pooled connections, and the errors a person reads. Raw HTTP, exact bytes.
@Suite("query and execute, hardened", .serialized) struct QueryToolsTests {
    func withServer(
        entries: (inout Fixture) -> Void = { _ in }, settings: (inout ServerSettings) -> Void = { _ in },
        _ body: (TestServer, Fixture, String) async throws -> Void
    ) async throws {
        try await Fixture.withServer(entries: entries, settings: settings) { server, fixture in
            try await body(server, fixture, server.url.absoluteString)
        }
    }

    /// A call's `isError` text, or nil when it succeeded.
    func errorText(_ reply: RawHTTP.Reply) -> String? {
        guard reply.json?["result"]?["isError"] == true else { return nil }
        return reply.json?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue
    }

    func call(_ url: String, _ session: String, _ tool: String, _ arguments: JSONValue) async throws -> RawHTTP.Reply {
        try await RawHTTP.call(url, session: session, tool: tool, arguments: arguments)
    }

    @Test func integersOutsideIntsRangeAreRefusedNeverFatal() async throws {
        try await withServer { _, _, url in
            let session = try await RawHTTP.openSession(url)
            let headers = RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": session]) { $1 }
            for literal in ["1e300", "10000000000000000000", "-1e300", "1e400", "-1e400", "9223372036854775808", "1.5", "0", "1e-400"] {
                let body = #"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"query","arguments":{"sql":"SELECT 1","max_rows":\#(literal)}}}"#
                let reply = try await RawHTTP.send("POST", url, body: body, headers: headers)
                #expect(reply.status == 200, "\(literal)")
                let text = errorText(reply) ?? ""
                #expect(text.hasPrefix("argument 'max_rows' must be a whole number from 1 to 1000000"), "\(literal): \(reply.body)")
            }
            // Whole numbers written as floats still work, and the server is up.
            let reply = try await RawHTTP.send(
                "POST", url, body: #"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"query","arguments":{"sql":"SELECT 1","max_rows":2.0e0}}}"#,
                headers: headers)
            #expect(reply.json?["result"]?["structuredContent"]?["rows"] == [[1]])
        }
    }

    @Test func aNULByteIsRefusedAndNothingRuns() async throws {
        try await withServer { _, _, url in
            let session = try await RawHTTP.openSession(url)
            let deleted = try await call(url, session, "execute", ["sql": "DELETE FROM customers\u{0} WHERE id = 999", "database": "dev"])
            let text = try #require(errorText(deleted), "\(deleted.body)")
            #expect(text.contains("NUL character (\\u0000) at position 22"), "\(text)")
            #expect(text.contains("not sent"))
            let count = try await call(url, session, "query", ["sql": "SELECT count(*) FROM customers"])
            #expect(count.json?["result"]?["structuredContent"]?["rows"] == [[50]])
            let parameter = try await call(url, session, "query", ["sql": "SELECT $1::text", "params": ["abc\u{0}DEF"]])
            #expect(errorText(parameter)?.contains("parameter $1 holds a NUL character") == true, "\(parameter.body)")
            let element = try await call(url, session, "query", ["sql": "SELECT $1::text[]", "params": [["ok", "a\u{0}b"]]])
            #expect(errorText(element)?.contains("NUL character") == true, "\(element.body)")
            let described = try await call(url, session, "describe_table", ["table": "customers\u{0}x"])
            #expect(errorText(described)?.contains("NUL character") == true, "\(described.body)")
        }
    }

    @Test func aRacingSelectDatabaseNeverSendsAWriteToTheReadOnlyDatabase() async throws {
        // dev and ro are entries on one PostgreSQL database; each pool's backends carry their entry's
        // name in application_name, so a row written through ro's pool gives the race away.
        try await withServer { _, fixture, url in
            try await TestDatabase.withConnection(database: fixture.databaseName) { try await $0.command("CREATE TABLE written (app text)") }
            let session = try await RawHTTP.openSession(url)
            _ = try await call(url, session, "select_database", ["database": "dev"])
            async let toggling: Void = {
                for round in 0..<300 { _ = try await call(url, session, "select_database", ["database": round % 2 == 0 ? "ro" : "dev"]) }
            }()
            async let writing: Void = {
                for _ in 0..<300 { _ = try await call(url, session, "execute", ["sql": "INSERT INTO written VALUES (current_setting('application_name'))"]) }
            }()
            _ = try await (toggling, writing)
            let leaked = try await TestDatabase.withConnection(database: fixture.databaseName) {
                try await $0.query("SELECT count(*) FILTER (WHERE app LIKE '%/ro'), count(*) FROM written").rows
            }
            #expect(leaked.first?.first == 0, "writes through the read-only entry: \(leaked)")
            #expect((leaked.first?.last?.intValue ?? 0) > 0, "no write went through at all")
        }
    }

    @Test func aWriteGoesOnlyWhereTheCallerNamedOrSelectedIt() async throws {
        try await withServer { _, _, url in
            let fresh = try await RawHTTP.openSession(url)
            let unchosen = try await call(url, fresh, "execute", ["sql": "UPDATE customers SET name = name WHERE id = 1"])
            let text = try #require(errorText(unchosen), "\(unchosen.body)")
            #expect(text.hasPrefix("no database was named or selected in this session, so the write was not sent to the default 'dev'"), "\(text)")
            #expect(text.contains("writable here: 'dev'"))
            #expect(text.contains("lasts for this MCP session only"))
            // Named, selected, or chosen when the work session was opened: each is enough.
            #expect(errorText(try await call(url, fresh, "execute", ["sql": "SELECT 1", "database": "dev"])) == nil)
            _ = try await call(url, fresh, "select_database", ["database": "dev"])
            #expect(errorText(try await call(url, fresh, "execute", ["sql": "SELECT 1"])) == nil)
            let other = try await RawHTTP.openSession(url)
            let opened = try await call(url, other, "open_session", ["database": "dev"])
            let handle = try #require(opened.json?["result"]?["structuredContent"]?["session"])
            #expect(errorText(try await call(url, other, "execute", ["sql": "SELECT 1", "session": handle])) == nil)
            let defaulted = try await call(url, other, "open_session", [:])
            let plain = try #require(defaulted.json?["result"]?["structuredContent"]?["session"])
            #expect(errorText(try await call(url, other, "execute", ["sql": "SELECT 1", "session": plain]))?.hasPrefix("no database was named") == true)
        }
    }

    @Test func theInstructionsAndDescriptionsSayASelectionLastsForOneMCPSession() async throws {
        try await withServer { _, _, url in
            let initialized = try await RawHTTP.send("POST", url, body: RawHTTP.initialize)
            let instructions = initialized.json?["result"]?["instructions"]?.stringValue ?? ""
            #expect(instructions.contains("A selection lasts for this MCP session only"), "\(instructions)")
            #expect(instructions.contains("if your client opens a session per call, pass 'database' (or an open_session handle as 'session') on every call"))
            let session = try #require(initialized.header("Mcp-Session-Id"))
            let listed = try await RawHTTP.send(
                "POST", url, body: #"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#,
                headers: RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": session]) { $1 })
            let tools = listed.json?["result"]?["tools"]?.arrayValue ?? []
            let select = tools.first { $0["name"] == "select_database" }?["description"]?.stringValue ?? ""
            let execute = tools.first { $0["name"] == "execute" }?["description"]?.stringValue ?? ""
            #expect(select.contains("The choice lasts for this MCP session only"), "\(select)")
            #expect(execute.contains("Pass 'database' to say where it writes"), "\(execute)")
        }
    }

    @Test func withOneDatabaseTheDefaultNeedsNoChoice() async throws {
        let fixture = try await Fixture.make()
        let server = try await TestServer.start(databases: [fixture.dev])
        let url = server.url.absoluteString
        let session = try await RawHTTP.openSession(url)
        let reply = try await call(url, session, "execute", ["sql": "UPDATE customers SET name = name WHERE id = 1"])
        await server.stop()
        try await fixture.drop()
        #expect(reply.json?["result"]?["structuredContent"]?["rowsAffected"] == 1, "\(reply.body)")
    }

    @Test func readingCallsRefuseStatementsThatTakeLocksAReaderDoesNotNeed() async throws {
        try await withServer { _, _, url in
            let session = try await RawHTTP.openSession(url)
            for sql in [
                "LOCK TABLE customers IN ACCESS EXCLUSIVE MODE", "lock customers", "/* a /* nested */ comment */ LOCK customers",
                "-- comment\n  LoCk TABLE customers IN SHARE MODE", "DO $$BEGIN LOCK TABLE customers; PERFORM pg_sleep(5); END$$",
                "CLUSTER customers USING customers_pkey", "REINDEX TABLE customers", "ANALYZE customers", "CALL nothing()",
                "SET statement_timeout = 0", "COMMIT", "",
            ] where !sql.isEmpty {
                let reply = try await call(url, session, "query", ["sql": .string(sql), "database": "ro"])
                let text = errorText(reply) ?? ""
                #expect(text.contains("a read-only call runs only statements that read"), "\(sql): \(reply.body)")
                #expect(text.contains("was not sent"), "\(sql)")
            }
            let locks = try await TestDatabase.rows("SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND locktype = 'relation'")
            #expect(locks == [[0]])
            for sql in [
                "SELECT 1", " (SELECT 1) UNION (SELECT 2)", "/* c */ select 1", "-- c\nSELECT 1", "WITH x AS (SELECT 1) SELECT * FROM x",
                "VALUES (1)", "TABLE customers", "SHOW server_version", "EXPLAIN SELECT 1",
            ] {
                let reply = try await call(url, session, "query", ["sql": .string(sql), "database": "ro"])
                #expect(errorText(reply) == nil, "\(sql): \(reply.body)")
            }
        }
    }

    @Test func aSeedSetByOneSessionIsNotInheritedByTheNext() async throws {
        // setseed() survives ROLLBACK and DISCARD ALL: with one pooled connection, the next session
        // would otherwise get the random() sequence the first one chose.
        try await withServer(entries: { $0.dev.pool.max = 1 }) { _, _, url in
            let seeded = 0.9851677175347999  // random() right after setseed(0.5) on PostgreSQL 15
            for (tool, database) in [("query", "dev"), ("execute", "dev")] {
                let first = try await RawHTTP.openSession(url)
                #expect(errorText(try await call(url, first, tool, ["sql": "SELECT setseed(0.5)", "database": .string(database)])) == nil)
                let second = try await RawHTTP.openSession(url)
                let reply = try await call(url, second, "query", ["sql": "SELECT random()", "database": .string(database)])
                let value = try #require(reply.json?["result"]?["structuredContent"]?["rows"]?.arrayValue?.first?.arrayValue?.first?.numberValue)
                #expect(value != seeded, "after \(tool)")
            }
        }
    }

    @Test func postgresErrorsSayWhatHappenedAndWhatToDo() async throws {
        try await withServer { _, _, url in
            let session = try await RawHTTP.openSession(url)
            let count = try await call(url, session, "query", ["sql": "SELECT $1::int + $2::int", "params": [1]])
            let text = try #require(errorText(count))
            #expect(text.hasPrefix("the statement has 2 placeholder(s) ($1…) but 'params' holds 1 value(s): pass exactly one value per placeholder"), "\(text)")
            #expect(!text.contains("connection failed"))
            // The connection was fine all along: the next call runs.
            #expect(errorText(try await call(url, session, "query", ["sql": "SELECT 1"])) == nil)
            let untyped = try await call(url, session, "query", ["sql": "SELECT $1", "params": [nil]])
            #expect(errorText(untyped) == nil || errorText(untyped)?.contains("add a cast") == true, "\(untyped.body)")
            let readOnly = try await call(url, session, "query", ["sql": "WITH d AS (DELETE FROM orders RETURNING 1) SELECT count(*) FROM d"])
            #expect(errorText(readOnly)?.contains("To write, use 'execute' on a writable database") == true, "\(readOnly.body)")
        }
    }
}

extension QueryToolsTests {
    @Test func aHugeRequestIDIsRefusedNotEchoed() async throws {
        try await withServer { _, _, url in
            let session = try await RawHTTP.openSession(url)
            let id = String(repeating: "i", count: 500_000)
            let reply = try await RawHTTP.send(
                "POST", url, body: #"{"jsonrpc":"2.0","id":"\#(id)","method":"ping"}"#,
                headers: RawHTTP.mcpHeaders.merging(["Mcp-Session-Id": session]) { $1 })
            #expect(reply.body.utf8.count < 1000, "\(reply.body.prefix(200))")
            #expect(reply.json?["error"]?["message"] == "\"id\" must be an integer or a string of at most 256 bytes")
        }
    }
}

extension QueryToolsTests {
    @Test func aWriteWhoseReturnedRowsPassTheCapStillCommitsAllOfThem() async throws {
        // Before: the cut cancelled the statement, whose implicit transaction then rolled back, while
        // the answer showed its rows. A SELECT that writes row by row streams its rows (an INSERT …
        // RETURNING is run to completion first), and rows over 8 kB are sent one by one, so the cut
        // lands while it still writes.
        try await withServer(entries: { $0.dev.maxRows = 5 }) { _, fixture, url in
            try await TestDatabase.withConnection(database: fixture.databaseName) {
                try await $0.command("CREATE FUNCTION add_customer(n int) RETURNS int LANGUAGE sql AS $$ INSERT INTO customers (name) VALUES ('bulk ' || n) RETURNING id $$")
            }
            let session = try await RawHTTP.openSession(url)
            let reply = try await call(
                url, session, "execute",
                [
                    "sql": "SELECT add_customer(g), repeat('x', 9000), pg_sleep(0.001) FROM generate_series(1, 500) g", "database": "dev",
                ])
            let result = try #require(reply.json?["result"]?["structuredContent"], "\(reply.body)")
            #expect(result["rows"]?.arrayValue?.count == 5, "\(reply.body.prefix(300))")
            #expect(result["truncated"] == true)
            let count = try await call(url, session, "query", ["sql": "SELECT count(*) FROM customers WHERE name LIKE 'bulk %'"])
            #expect(count.json?["result"]?["structuredContent"]?["rows"] == [[500]])
        }
    }

    @Test func explainAnalyzeOnAWritableDatabaseNeedsItNamedOrSelected() async throws {
        try await withServer { _, _, url in
            let session = try await RawHTTP.openSession(url)
            let unchosen = try await call(url, session, "explain", ["sql": "INSERT INTO customers (name) VALUES ('x')", "analyze": true])
            #expect(errorText(unchosen)?.hasPrefix("no database was named or selected in this session") == true, "\(unchosen.body)")
            let named = try await call(url, session, "explain", ["sql": "INSERT INTO customers (name) VALUES ('x')", "analyze": true, "database": "dev"])
            #expect(errorText(named) == nil, "\(named.body)")
            // Read-only databases run it read-only: no choice needed, nothing can be written.
            let readOnly = try await call(url, session, "explain", ["sql": "SELECT count(*) FROM customers", "analyze": true, "database": "ro"])
            #expect(errorText(readOnly) == nil, "\(readOnly.body)")
            let plain = try await call(url, session, "explain", ["sql": "SELECT 1"])
            #expect(errorText(plain) == nil, "\(plain.body)")
            // A reading statement's EXPLAIN ANALYZE reads: no choice needed on a writable one either.
            let read = try await call(url, session, "explain", ["sql": "SELECT count(*) FROM customers", "analyze": true])
            #expect(errorText(read) == nil, "\(read.body)")
        }
    }
}
