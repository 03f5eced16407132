import Foundation
import TestSupport
import Testing

extension ProcessTests {

    /// Runs `pgmcp <command>` with `environment` (test cluster's variables removed) and returns its exit status, stdout and stderr.
    func run(_ command: String, _ environment: [String: String]) async throws -> (Int32, String, String) {
        var base = try self.environment()
        base["DB_CONFIGS"] = nil
        let child = try ChildProcess([pgmcpBinary, command], environment: base.merging(environment) { $1 })
        let output = try await readAll(child)
        return (try await child.wait(), output, child.stderr)
    }

    /// Every special character, as typed into every place a password goes: `databases` and `check`
    /// refuse or list, and never show a piece of it.
    @Test func databasesAndCheckNeverShowAPieceOfAPasswordHoweverItIsWritten() async throws {
        let url = (before: "postgresql://app:", after: "@127.0.0.1:1/orders")
        let keyValue = (before: "host=127.0.0.1 port=1 user=app password=", after: " dbname=orders")
        let context = [url.before, url.after, keyValue.before, keyValue.after, "127.0.0.1", "orders"].joined(separator: " ")
        // Each special character alone is covered by ConninfoSecretTests and ConfigSecretTests; here
        // the issue's quote, the characters that split a URL, and all of them at once.
        let passwords =
            SecretFragments.passwords.filter { password in ["\"", "@", "/", " ", "%zz"].contains { password == "Leak1\($0)Tail2\($0)Zed3" } }
            + [SecretFragments.passwords.last!]
        #expect(passwords.count == 6)
        for password in passwords {
            let places: [[String: String]] = [
                [
                    "DB_CONFIGS": #"""
                    [{"id": "typed_url", "url": "\#(SecretFragments.jsonContents(url.before + password + url.after))"},
                     {"id": "typed_param", "url": "\#(SecretFragments.jsonContents("postgresql://app@127.0.0.1:1/orders?password=" + password + "&sslmode=disable"))"},
                     {"id": "typed_kv", "url": "\#(SecretFragments.jsonContents(keyValue.before + password + keyValue.after))"},
                     {"id": "typed_quoted", "url": "\#(SecretFragments.jsonContents(keyValue.before + "'" + password + "'" + keyValue.after))"}]
                    """#
                ],
                ["DB_CONFIG_TYPED_URL": url.before + password + url.after],
                ["DATABASE_URL": url.before + password + url.after],
                ["DB_CONFIGS": #"[{"id": "typed_json", "host": "127.0.0.1", "port": 1, "password": "\#(password)"}]"#],
                // Written as they should be: listed (and, unreachable, checked) without the password.
                [
                    "DB_CONFIGS": #"""
                    [{"id": "encoded", "url": "\#(url.before + SecretFragments.percentEncoded(password) + url.after)"},
                     {"id": "quoted", "url": "\#(SecretFragments.jsonContents(keyValue.before + SecretFragments.quoted(password) + keyValue.after))"},
                     {"id": "field", "host": "127.0.0.1", "port": 1, "user": "app", "password": "\#(SecretFragments.jsonContents(password))"}]
                    """#
                ],
                ["DB_CONFIG_FIELD_HOST": "127.0.0.1", "DB_CONFIG_FIELD_PORT": "1", "DB_CONFIG_FIELD_PASSWORD": password],
                ["DATABASE_URL": url.before + SecretFragments.percentEncoded(password) + url.after],
            ]
            for (index, place) in places.enumerated() {
                // Both load the configuration alike; check also connects (to a closed port, so it fails fast).
                for command in password == SecretFragments.passwords.last || index >= 4 ? ["databases", "check"] : ["databases"] {
                    let (status, output, errors) = try await run(command, place)
                    #expect(index < 4 || status == (command == "databases" ? 0 : 1), "\(command) \(place): \(status) \(output) \(errors)")
                    for text in [output, errors] {
                        let leaked = SecretFragments.leaked(password, written: SecretFragments.percentEncoded(password), in: text, context: context)
                        #expect(leaked.isEmpty, "\(command) \(place) shows \(leaked): \(text)")
                    }
                }
            }
        }
    }

    /// `serve` loads the configuration as `databases` and `check` do: the issue's password refused, no piece of it shown.
    @Test func serveRefusesATypedPasswordWithoutShowingAPieceOfIt() async throws {
        for (place, expected) in [
            (
                ["DB_CONFIGS": #"[{"id": "prod", "url": "postgresql://u:ab\"LeakTail%@127.0.0.1/d"}]"#],
                "DB_CONFIGS: database 'prod': field 'url': invalid connection string: the password is not valid URL text"
            ),
            (
                ["DB_CONFIG_PROD_URL": #"postgresql://u:ab"Leak@Tail%@127.0.0.1/d"#],
                "DB_CONFIG_* variables: database 'prod': environment variable DB_CONFIG_PROD_URL: invalid connection string: an '@' may appear"
            ),
            (
                ["DATABASE_URL": #"host=127.0.0.1 password=ab"Leak Tail%"#],
                "DATABASE_URL: database 'default': environment variable DATABASE_URL: invalid connection string: the password is followed by"
            ),
        ] {
            let (status, output, errors) = try await run("serve", place)
            #expect(status == 2)
            #expect(errors.contains(expected), "\(errors)")
            #expect(!(output + errors).contains("Leak") && !(output + errors).contains("Tail"), "\(errors)")
        }
    }

    /// Against the test cluster: a role whose password holds every special character checks `ok`
    /// in every form written as it should be, and a wrong password fails without a piece of it.
    @Test func checkConnectsWithAHostilePasswordAndNeverShowsAWrongOne() async throws {
        let password = try #require(SecretFragments.passwords.last)
        try await TestDatabase.withRole(password: password) { role in
            let host = try TestDatabase.host, port = try TestDatabase.port
            let wrong = password + "Wrong9"
            func entries(_ secret: String, suffix: String) -> String {
                #"""
                {"id": "field\#(suffix)", "host": "\#(host)", "port": \#(port), "user": "\#(role)", "database": "postgres", "password": "\#(SecretFragments.jsonContents(secret))"},
                {"id": "url\#(suffix)", "url": "postgresql://\#(role):\#(SecretFragments.percentEncoded(secret))@\#(host):\#(port)/postgres"},
                {"id": "kv\#(suffix)", "url": "\#(SecretFragments.jsonContents("host=\(host) port=\(port) user=\(role) dbname=postgres password=" + SecretFragments.quoted(secret)))"}
                """#
            }
            let (status, output, errors) = try await run(
                "check",
                [
                    "DB_CONFIGS": "[" + entries(password, suffix: "") + "," + entries(wrong, suffix: "_wrong") + "]",
                    "PGMCP_BIN": "/x",
                ])
            #expect(status == 1)
            let rows = output.split(separator: "\n")
            for id in ["field", "url", "kv"] {
                #expect(rows.contains { $0.hasPrefix(id + " ") && $0.contains(" ok ") }, "\(output)")
                #expect(rows.contains { $0.hasPrefix(id + "_wrong ") && $0.contains("password authentication failed for user \"\(role)\"") }, "\(output)")
            }
            for text in [output, errors] {
                for secret in [password, wrong] {
                    let leaked = SecretFragments.leaked(
                        secret, written: SecretFragments.percentEncoded(secret), in: text, context: "\(host) \(port) \(role) postgres field_wrong url_wrong kv_wrong")
                    #expect(leaked.isEmpty, "shows \(leaked): \(text)")
                }
            }
        }
    }
}
