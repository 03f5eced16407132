import PGConfig
import Testing

/// Every validation error names where it came from, the database and the field.
@Suite("Configuration validation") struct ConfigValidationTests {
    func errors(_ json: String, _ extra: [String: String] = [:]) -> [String] {
        problems(["DB_CONFIGS": json].merging(extra) { $1 })
    }

    @Test func unknownFieldWithSuggestion() {
        #expect(
            errors(#"[{"id": "prod", "host": "h", "read_only": true}]"#) == [
                "DB_CONFIGS: database 'prod': field 'read_only': unknown field; did you mean 'readOnly'?"
            ])
        #expect(
            errors(#"[{"id": "prod", "host": "h", "pool": {"maxx": 3}}]"#) == [
                "DB_CONFIGS: database 'prod': field 'pool.maxx': unknown field; did you mean 'pool.max'?"
            ])
    }

    @Test func duplicateIDs() {
        #expect(
            errors(#"[{"id": "a", "host": "h"}, {"id": "b", "host": "h"}, {"id": "a", "host": "h"}]"#) == [
                "DB_CONFIGS: database 'a': field 'id': duplicate id: entries 1 and 3 are both 'a'"
            ])
    }

    @Test func malformedAndMissingIDs() {
        #expect(
            errors(#"[{"id": "Prod DB", "host": "h"}]"#) == [
                "DB_CONFIGS: entry 1: field 'id': must match [a-z0-9_-]{1,63} (lower-case letters, digits, '_' and '-'), got \"Prod DB\""
            ])
        #expect(errors(#"[{"host": "h"}]"#) == ["DB_CONFIGS: entry 1: field 'id': is required"])
        #expect(errors(#"[{"id": "\#(String(repeating: "a", count: 64))", "host": "h"}]"#).count == 1)
    }

    @Test func badPorts() {
        #expect(
            errors(#"[{"id": "a", "host": "h", "port": 70000}]"#) == [
                "DB_CONFIGS: database 'a': field 'port': must be from 1 to 65535, got 70000"
            ])
        #expect(
            errors(#"[{"id": "a", "host": "h", "port": "5432"}]"#) == [
                "DB_CONFIGS: database 'a': field 'port': must be a whole number from 1 to 65535, got \"5432\""
            ])
        #expect(
            problems(["DB_CONFIG_A_HOST": "h", "DB_CONFIG_A_PORT": "fifty"]) == [
                "DB_CONFIG_* variables: database 'a': environment variable DB_CONFIG_A_PORT: must be a whole number from 1 to 65535, got \"fifty\""
            ])
    }

    @Test func missingPasswordVariableOrFile() {
        #expect(
            errors(#"[{"id": "a", "host": "h", "passwordEnv": "NOPE_PW"}]"#) == [
                "DB_CONFIGS: database 'a': field 'passwordEnv': environment variable NOPE_PW is not set"
            ])
        #expect(
            errors(#"[{"id": "a", "host": "h", "passwordFile": "/nonexistent/pw"}]"#) == [
                "DB_CONFIGS: database 'a': field 'passwordFile': cannot read /nonexistent/pw: no such file"
            ])
        #expect(
            errors(#"[{"id": "a", "host": "h", "password": "x", "passwordEnv": "P"}]"#, ["P": "y"]) == [
                "DB_CONFIGS: database 'a': field 'passwordEnv': give only one of password, passwordEnv, passwordFile (got password and passwordEnv)"
            ])
        #expect(
            errors(#"[{"id": "a", "url": "postgresql://u:pw@h/d", "passwordEnv": "P"}]"#, ["P": "y"]) == [
                "DB_CONFIGS: database 'a': field 'passwordEnv': the url already holds a password; remove it from the url or drop 'passwordEnv'"
            ])
    }

    @Test func invalidConnectionStringIsCheckedByLibpqAndNotEchoed() {
        let found = errors(#"[{"id": "a", "url": "host=h password Hunter2secret"}]"#)
        #expect(found.count == 1)
        #expect(found[0].hasPrefix("DB_CONFIGS: database 'a': field 'url': invalid connection string: "))
        #expect(!found[0].contains("Hunter2secret"))
        #expect(errors(#"[{"id": "a", "url": "host=h bogus_option=1"}]"#).count == 1)
        #expect(errors(#"[{"id": "a", "url": "postgresql://u@h/d?sslmode=sometimes"}]"#).count == 1)
    }

    @Test func urlAndHostAreExclusiveAndOneIsNeeded() {
        #expect(
            errors(#"[{"id": "a", "url": "postgresql://h/d", "host": "h2"}]"#) == [
                "DB_CONFIGS: database 'a': field 'url': cannot be combined with host; put them in the url, or drop the url"
            ])
        #expect(errors(#"[{"id": "a"}]"#) == ["DB_CONFIGS: database 'a': needs either 'url' or 'host' (with 'port', 'database', 'user')"])
    }

    @Test func wrongTypesAndChoices() {
        let found = errors(
            #"""
            [{"id": "a", "host": "h", "readOnly": "yes", "maxRows": 0, "statementTimeoutMs": 1.5, "isolation": "private",
              "privilegeCheck": "strict", "sslmode": "maybe", "pool": {"min": 5, "max": 2}}]
            """#)
        #expect(
            found == [
                "DB_CONFIGS: database 'a': field 'sslmode': sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, got \"maybe\"",
                "DB_CONFIGS: database 'a': field 'readOnly': must be true or false, got \"yes\"",
                "DB_CONFIGS: database 'a': field 'statementTimeoutMs': must be a whole number from 0 to 86400000, got 1.5",
                "DB_CONFIGS: database 'a': field 'maxRows': must be from 1 to 1000000, got 0",
                "DB_CONFIGS: database 'a': field 'pool.min': must not exceed pool.max (2), got 5",
                "DB_CONFIGS: database 'a': field 'isolation': must be \"shared\" or \"clone\", got \"private\"",
                "DB_CONFIGS: database 'a': field 'privilegeCheck': must be \"warn\" or \"enforce\", got \"strict\"",
            ])
    }

    @Test func poolingIsDirectOrTransactionAndAClonePoolNeedsDirect() {
        #expect(
            errors(#"[{"id": "a", "host": "h", "pooling": "session"}]"#) == [
                "DB_CONFIGS: database 'a': field 'pooling': must be \"direct\" or \"transaction\", got \"session\""
            ])
        let clone = errors(#"[{"id": "a", "host": "h", "pooling": "transaction", "isolation": "clone"}]"#)
        #expect(clone.count == 1)
        #expect(clone.first?.hasPrefix("DB_CONFIGS: database 'a': field 'isolation': \"clone\" needs a direct connection to PostgreSQL") == true)
        #expect(clone.first?.contains("pooling \"direct\"") == true)
        #expect(errors(#"[{"id": "a", "host": "h", "pooling": "transaction"}]"#).isEmpty)
    }

    @Test func sslRootCertMustExist() {
        #expect(
            errors(#"[{"id": "a", "host": "h", "sslrootcert": "/no/such/root.crt"}]"#) == [
                "DB_CONFIGS: database 'a': field 'sslrootcert': file not found: /no/such/root.crt"
            ])
    }

    @Test func invalidJSONAndShapes() {
        #expect(
            errors(#"[{"id": "a", "host": "h",}]"#) == [
                "DB_CONFIGS: invalid JSON: expected a string key in an object at line 1, column 26"
            ])
        #expect(
            errors(#"[{"id": "a", "host": "h", "host": "h2"}]"#) == [
                "DB_CONFIGS: invalid JSON: duplicate key \"host\" at line 1, column 27"
            ])
        #expect(errors(#"{"id": "a"}"#) == ["DB_CONFIGS: must be a JSON array of database objects, got an object"])
        #expect(errors("[]") == ["DB_CONFIGS: the array is empty: configure at least one database"])
        #expect(errors("[42]") == ["DB_CONFIGS: entry 1: must be a database object, got a number"])
    }

    @Test func unreadableConfigFile() {
        #expect(problems([:], configFile: "/no/such/dbs.json") == ["--config /no/such/dbs.json: cannot read the file: no such file"])
    }

    @Test func unknownPrefixVariable() throws {
        #expect(
            problems(["DB_CONFIG_PROD_HOTS": "h"]) == [
                "DB_CONFIG_* variables: environment variable DB_CONFIG_PROD_HOTS: not a database setting; did you mean DB_CONFIG_PROD_HOST?"
            ])
        #expect(
            problems(["DB_CONFIG_EU_WEST_READONLY": "true", "DB_CONFIG_EU_WEST_HOST": "h"]) == [
                "DB_CONFIG_* variables: environment variable DB_CONFIG_EU_WEST_READONLY: not a database setting; did you mean DB_CONFIG_EU_WEST_READ_ONLY?"
            ])
        #expect(
            problems(["DB_CONFIG_HOST": "h"]) == [
                "DB_CONFIG_* variables: environment variable DB_CONFIG_HOST: needs a database id: DB_CONFIG_<ID>_HOST"
            ])
        #expect(
            problems(["DB_CONFIG_PROD_HOST": "h", "DB_CONFIG_PROD_PASS": "pw"]) == [
                "DB_CONFIG_* variables: environment variable DB_CONFIG_PROD_PASS: not a database setting; expected DB_CONFIG_<ID>_<FIELD> with FIELD one of DATABASE, DESCRIPTION, HOST, ISOLATION, MAX_CONNECTIONS, MAX_ROWS, NAME, PASSWORD, PASSWORD_ENV, PASSWORD_FILE, POOLING, PORT, PRIVILEGE_CHECK, READ_ONLY, SSLMODE, SSLROOTCERT, STATEMENT_TIMEOUT_MS, URL, USER"
            ])
        #expect(
            problems(["DB_CONFIG_FILE": "/etc/dbs.json"]) == [
                "DB_CONFIG_* variables: environment variable DB_CONFIG_FILE: not a database setting; did you mean DB_CONFIGS_FILE?"
            ])
        // Nothing like a setting: ignored, with a warning, and it does not make the prefix variables the source.
        let configuration = try load(["DB_CONFIG_PATH": "/opt/x", "DATABASE_URL": "postgresql://h/db"])
        #expect(configuration.source == "DATABASE_URL")
        #expect(
            configuration.warnings.map(\.description) == [
                "DB_CONFIG_* variables: environment variable DB_CONFIG_PATH: not a database setting (DB_CONFIG_<ID>_<FIELD>, FIELD one of DATABASE, DESCRIPTION, HOST, ISOLATION, MAX_CONNECTIONS, MAX_ROWS, NAME, PASSWORD, PASSWORD_ENV, PASSWORD_FILE, POOLING, PORT, PRIVILEGE_CHECK, READ_ONLY, SSLMODE, SSLROOTCERT, STATEMENT_TIMEOUT_MS, URL, USER); ignored"
            ])
    }

    @Test func databaseURLProblemsNameTheVariable() {
        #expect(
            problems(["DATABASE_URL": "postgresql://u@h/d?sslmode=sometimes"]) == [
                "DATABASE_URL: database 'default': environment variable DATABASE_URL: sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, got \"sometimes\""
            ])
    }

    @Test func everyProblemIsReportedAtOnce() {
        let found = errors(#"[{"id": "a", "host": "h", "port": 0}, {"id": "b", "host": "h", "maxRows": -1}]"#, ["PGMCP_PORT": "x"])
        #expect(found.count == 3)
    }

    @Test func aPasswordNeverAppearsInAnyProblem() {
        let secret = "Very-Secret-Pw-123"
        let found = errors(#"[{"id": "a", "url": "postgresql://u:\#(secret)@h/d", "password": "\#(secret)", "bogus": 1}]"#)
        #expect(!found.isEmpty)
        #expect(found.allSatisfy { !$0.contains(secret) })
    }
}
