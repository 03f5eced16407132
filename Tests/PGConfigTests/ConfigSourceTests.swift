import Foundation
import PGClient
import PGConfig
import Testing

/// A temporary file that removes itself.
final class TempFile {
    let path: String
    init(_ contents: String, mode: Int = 0o600) throws {
        path = NSTemporaryDirectory() + "pgmcp-config-\(UUID().uuidString)"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

func load(_ environment: [String: String], configFile: String? = nil) throws -> Configuration {
    try Configuration.load(environment: environment, configFile: configFile)
}

/// The problems a failing load reports, as text.
func problems(_ environment: [String: String], configFile: String? = nil) -> [String] {
    do {
        _ = try Configuration.load(environment: environment, configFile: configFile)
        return []
    } catch {
        return error.problems.map(\.description)
    }
}

@Suite("Configuration sources") struct ConfigSourceTests {
    let two = #"[{"id": "dev", "url": "postgresql://u@dev-host/app"}, {"id": "prod", "host": "prod-host", "port": 6543, "database": "app", "user": "ro"}]"#

    @Test func dbConfigsJSON() throws {
        let configuration = try load(["DB_CONFIGS": two])
        #expect(configuration.source == "DB_CONFIGS")
        #expect(configuration.databases.map(\.id) == ["dev", "prod"])
        #expect(configuration.defaultDatabaseID == "dev")
        let prod = try #require(configuration.database("prod"))
        #expect(prod.connection.host == "prod-host")
        #expect(prod.connection.port == "6543")
        #expect(prod.connection.database == "app")
        #expect(prod.connection.user == "ro")
        #expect(prod.maskedTarget == "postgresql://ro@prod-host:6543/app")
    }

    @Test func defaultsFollowTheContract() throws {
        let database = try load(["DB_CONFIGS": #"[{"id": "a", "host": "h"}]"#]).databases[0]
        #expect(database.readOnly)
        #expect(database.statementTimeoutMs == 30_000)
        #expect(database.maxRows == 1_000)
        #expect(database.pool == PoolSettings(min: 0, max: 10, idleTimeoutSeconds: 300, maxLifetimeSeconds: 1800))
        #expect(database.isolation == .shared)
        #expect(database.pooling == .direct)
        #expect(database.privilegeCheck == .warn)
        #expect(database.title == "a")
    }

    @Test func everyFieldIsRead() throws {
        let root = try TempFile("cert")
        let json = """
            [{"id": "prod", "name": "Production", "description": "orders", "host": "h", "port": 5433, "database": "d",
              "user": "u", "password": "pw", "sslmode": "verify-full", "sslrootcert": "\(root.path)", "readOnly": false,
              "statementTimeoutMs": 5000, "maxRows": 50, "pool": {"min": 1, "max": 4, "idleTimeoutSeconds": 60,
              "maxLifetimeSeconds": 600}, "isolation": "clone", "privilegeCheck": "enforce"}]
            """
        let database = try load(["DB_CONFIGS": json]).databases[0]
        #expect(database.title == "Production")
        #expect(database.description == "orders")
        #expect(database.password?.reveal() == "pw")
        #expect(database.connection["sslmode"] == "verify-full")
        #expect(database.connection["sslrootcert"] == root.path)
        #expect(database.connection["password"] == nil)
        #expect(database.connectionParameters["password"] == "pw")
        #expect(!database.readOnly)
        #expect(database.statementTimeoutMs == 5000)
        #expect(database.maxRows == 50)
        #expect(database.pool == PoolSettings(min: 1, max: 4, idleTimeoutSeconds: 60, maxLifetimeSeconds: 600))
        #expect(database.isolation == .clone)
        #expect(database.privilegeCheck == .enforce)
    }

    @Test func configFileFlag() throws {
        let file = try TempFile(two)
        let configuration = try load([:], configFile: file.path)
        #expect(configuration.source == "--config \(file.path)")
        #expect(configuration.databases.count == 2)
    }

    @Test func dbConfigsFile() throws {
        let file = try TempFile(two)
        let configuration = try load(["DB_CONFIGS_FILE": file.path])
        #expect(configuration.source == "DB_CONFIGS_FILE (\(file.path))")
    }

    @Test func exampleFileInTheRepositoryIsValid() throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../db-configs.example.json").standardized.path
        let environment = ["ORDERS_STAGING_PASSWORD": "x"]
        let configuration = try Configuration.load(
            environment: environment, configFile: example,
            files: FileAccess(
                readText: { path in
                    path == example ? try String(contentsOfFile: path, encoding: .utf8) : "secret-from-file"
                }, exists: { _ in true }))
        #expect(configuration.databases.count == 3)
    }

    @Test func prefixVariables() throws {
        let configuration = try load([
            "DB_CONFIG_EU_WEST_HOST": "db.eu", "DB_CONFIG_EU_WEST_PORT": "5433", "DB_CONFIG_EU_WEST_DATABASE": "app",
            "DB_CONFIG_EU_WEST_USER": "ro", "DB_CONFIG_EU_WEST_PASSWORD": "pw", "DB_CONFIG_EU_WEST_SSLMODE": "require",
            "DB_CONFIG_EU_WEST_NAME": "EU West", "DB_CONFIG_EU_WEST_READ_ONLY": "false", "DB_CONFIG_EU_WEST_MAX_CONNECTIONS": "4",
            "DB_CONFIG_EU_WEST_POOLING": "transaction", "DB_CONFIG_LOCAL_URL": "postgresql://me@localhost/dev",
        ])
        #expect(configuration.source == "DB_CONFIG_* variables")
        #expect(configuration.databases.map(\.id) == ["eu_west", "local"])
        let eu = configuration.databases[0]
        #expect(eu.title == "EU West")
        #expect(eu.connection.port == "5433")
        #expect(eu.password?.reveal() == "pw")
        #expect(eu.connection["sslmode"] == "require")
        #expect(!eu.readOnly)
        #expect(eu.pool.max == 4)
        #expect(eu.pooling == .transaction)
        #expect(configuration.databases[1].connection.database == "dev")
        #expect(configuration.databases[1].pooling == .direct)
    }

    @Test func databaseURLAloneIsTheDefaultDatabase() throws {
        let configuration = try load(["DATABASE_URL": "postgresql://app:s3cret@db/app"])
        #expect(configuration.source == "DATABASE_URL")
        #expect(configuration.databases.map(\.id) == ["default"])
        #expect(configuration.defaultDatabase.password?.reveal() == "s3cret")
        #expect(configuration.defaultDatabase.connection["password"] == nil)
        #expect(configuration.defaultDatabase.readOnly)
    }

    @Test func precedenceFirstSourceWins() throws {
        let file = try TempFile(#"[{"id": "from_flag", "host": "h"}]"#)
        let envFile = try TempFile(#"[{"id": "from_env_file", "host": "h"}]"#)
        var environment = [
            "DB_CONFIGS_FILE": envFile.path,
            "DB_CONFIGS": #"[{"id": "from_json", "host": "h"}]"#,
            "DB_CONFIG_FROM_PREFIX_HOST": "h",
            "DATABASE_URL": "postgresql://h/db",
        ]
        let all = try load(environment, configFile: file.path)
        #expect(all.databases.map(\.id) == ["from_flag"])
        #expect(all.shadowedSources == ["DB_CONFIGS_FILE (\(envFile.path))", "DB_CONFIGS", "DB_CONFIG_* variables", "DATABASE_URL"])
        #expect(try load(environment).databases.map(\.id) == ["from_env_file"])
        environment["DB_CONFIGS_FILE"] = nil
        #expect(try load(environment).databases.map(\.id) == ["from_json"])
        environment["DB_CONFIGS"] = nil
        #expect(try load(environment).databases.map(\.id) == ["from_prefix"])
        environment["DB_CONFIG_FROM_PREFIX_HOST"] = nil
        #expect(try load(environment).databases.map(\.id) == ["default"])
    }

    @Test func defaultConfigChoosesTheStartingDatabase() throws {
        #expect(try load(["DB_CONFIGS": two, "DB_DEFAULT_CONFIG": "prod"]).defaultDatabaseID == "prod")
        #expect(
            problems(["DB_CONFIGS": two, "DB_DEFAULT_CONFIG": "staging"]) == [
                "DB_DEFAULT_CONFIG: names no configured database: 'staging' (configured: 'dev', 'prod')"
            ])
    }

    @Test func passwordEnvAndPasswordFile() throws {
        let secretFile = try TempFile("from-file\n")
        let configuration = try load([
            "DB_CONFIGS": #"[{"id": "a", "host": "h", "passwordEnv": "A_PW"}, {"id": "b", "host": "h", "passwordFile": "\#(secretFile.path)"}]"#,
            "A_PW": "from-env",
        ])
        #expect(configuration.databases[0].password?.reveal() == "from-env")
        #expect(configuration.databases[1].password?.reveal() == "from-file")
    }

    @Test func noSourceAtAll() {
        #expect(problems([:]).first?.contains("no databases configured") == true)
    }
}
