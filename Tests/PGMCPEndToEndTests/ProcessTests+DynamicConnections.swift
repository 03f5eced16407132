import Foundation
import PGMCPJSON
import TestSupport
import Testing

extension ProcessTests {
    /// The real `pgmcp serve --transport stdio`, logging at debug: a dynamic connection made with a
    /// hostile password, used, listed, failed with a wrong password and closed leaves no piece of
    /// the password in any answer or log line.
    @Test func aDynamicConnectionOverStdioLeavesNoPasswordInAnswersOrLogs() async throws {
        let password = SecretFragments.passwords.last!
        try await TestDatabase.withRole(password: password) { role in
            let child = try await initializedStdio(extra: [
                "PGMCP_ALLOW_DYNAMIC_CONNECTIONS": "true", "PGMCP_DYNAMIC_ALLOWED_HOSTS": "127.0.0.1", "PGMCP_DYNAMIC_REQUIRE_SSL": "false",
                "PGMCP_LOG_LEVEL": "debug",
            ])
            let string = "host=127.0.0.1 port=\(try TestDatabase.port) dbname=postgres user=\(role) password=\(SecretFragments.quoted(password))"
            let wrong = "host=127.0.0.1 port=\(try TestDatabase.port) dbname=postgres user=\(role) password=\(SecretFragments.quoted(password + "x"))"
            var answers: [String] = []
            var id = 2
            func call(_ tool: String, _ arguments: JSONValue) async throws -> JSONValue {
                id += 1
                let request: JSONValue = ["jsonrpc": "2.0", "id": .int(Int64(id)), "method": "tools/call", "params": ["name": .string(tool), "arguments": arguments]]
                child.send(request.jsonText)
                let line = try #require(try await child.readLine())
                answers.append(line)
                return try JSONParser.parse(line)
            }
            let connected = try await call("connect_database", ["connection_string": .string(string), "name": "hostile"])
            #expect(connected["result"]?["structuredContent"]?["database"]?["user"] == .string(role), "\(connected)")
            let who = try await call("query", ["sql": "SELECT current_user::text"])
            #expect(who["result"]?["structuredContent"]?["rows"] == [[.string(role)]], "\(who)")
            for tool in ["list_databases", "current_database", "server_status"] { _ = try await call(tool, [:]) }
            let failed = try await call("connect_database", ["connection_string": .string(wrong), "name": "wrong"])
            #expect(failed["result"]?["isError"] == true, "\(failed)")
            _ = try await call("disconnect_database", ["name": "hostile"])
            child.closeInput()
            #expect(try await child.wait() == 0)
            let output = SecretFragments.withoutNonces(answers.joined(separator: "\n") + "\n" + child.stderr)
            #expect(child.stderr.contains("dynamic connection opened"), "\(child.stderr)")
            #expect(SecretFragments.leaked(password, written: SecretFragments.quoted(password), in: output, context: "\(role) \(try TestDatabase.port)") == [], "\(output)")
        }
    }
}

extension ProcessTests {
    /// pgmcp's own PGPASSWORD (set for its configured databases) is never sent for a dynamic
    /// connection that gave no password: libpq would take it for an empty one.
    @Test func aDynamicConnectionWithoutAPasswordNeverGetsTheServersPGPASSWORD() async throws {
        let password = "Serverside1Secret"
        try await TestDatabase.withRole(password: password) { role in
            let child = try await initializedStdio(extra: [
                "PGMCP_ALLOW_DYNAMIC_CONNECTIONS": "true", "PGMCP_DYNAMIC_ALLOWED_HOSTS": "127.0.0.1", "PGMCP_DYNAMIC_REQUIRE_SSL": "false",
                "PGPASSWORD": password,
            ])
            for string in [
                "host=127.0.0.1 port=\(try TestDatabase.port) dbname=postgres user=\(role)",
                "host=127.0.0.1 port=\(try TestDatabase.port) dbname=postgres user=\(role) password=''",
            ] {
                let request: JSONValue = [
                    "jsonrpc": "2.0", "id": 2, "method": "tools/call",
                    "params": ["name": "connect_database", "arguments": ["connection_string": .string(string), "name": "borrowed"]],
                ]
                child.send(request.jsonText)
                let answer = try JSONParser.parse(try #require(try await child.readLine()))
                #expect(answer["result"]?["isError"] == true, "connected with the server's PGPASSWORD: \(answer)")
                #expect(answer["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue?.contains("password authentication failed") == true, "\(answer)")
            }
            child.closeInput()
            #expect(try await child.wait() == 0)
        }
    }
}
