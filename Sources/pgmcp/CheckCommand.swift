import ArgumentParser
import Foundation
import PGClient
import PGConfig
import PGRegistry

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration and connect to every database.",
        discussion:
            "Prints one row per database, and one per role a database maps callers to (logged in as that role): name, target (password masked), ok or the error, server version, latency. Exits 0 only if every database is reachable."
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try options.load()
        ConfigOptions.printWarnings(configuration)
        let timeout = configuration.server.connectTimeout
        // Every entry, then each of its roles (`roles`): logged in as itself, privilegeCheck applied.
        let logins = configuration.databases.flatMap { database in
            [database]
                + (database.roles ?? []).indices.compactMap { index in
                    database.roles?.firstIndex { $0.user == database.roles?[index].user } == index ? database.asRole(index) : nil
                }
        }
        let rows = await withTaskGroup(of: (Int, [String]).self) { group in
            for (index, database) in logins.enumerated() {
                group.addTask { (index, await Self.check(database, timeout: timeout)) }
            }
            var rows = Array(repeating: [String](), count: logins.count)
            for await (index, row) in group { rows[index] = row }
            return rows
        }
        print(Table.render(header: ["DATABASE", "TARGET", "STATUS", "VERSION", "LATENCY"], rows: rows))
        let failures = rows.filter { $0[2] != "ok" }.count
        if failures > 0 {
            print("\(failures) of \(rows.count) databases unreachable or refused")
            throw ExitCode(1)
        }
    }

    static func check(_ database: DatabaseConfig, timeout: Duration) async -> [String] {
        let clock = ContinuousClock()
        let started = clock.now
        let name = database.role.map { "\(database.id) as \($0)" } ?? database.id
        do {
            let connection = try await PGConnection.connect(database.connectionParameters, applicationName: "pgmcp/check", timeout: timeout)
            _ = try await connection.query("SELECT 1")
            let elapsed = clock.now - started
            let version = connection.serverVersion
            // The server would refuse every connection of this entry: so does check.
            let refusal = try await PrivilegeCheck.refusal(for: database, on: connection)
            await connection.close()
            return [name, database.maskedTarget, refusal.map { "error: \($0)" } ?? "ok", PGServerVersion.text(version), String(format: "%.1f ms", elapsed.inMilliseconds)]
        } catch {
            let message = (error as? PGError)?.message ?? String(describing: error)
            let firstLine = message.split(separator: "\n").first.map(String.init) ?? message
            return [name, database.maskedTarget, "error: \(database.connectionParameters.redact(firstLine))", "-", "-"]
        }
    }
}
