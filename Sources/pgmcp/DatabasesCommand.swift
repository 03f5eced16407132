import ArgumentParser
import PGConfig
import PGMCPServer

struct DatabasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "databases", abstract: "List the configured databases (passwords masked); connects to nothing.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try options.load()
        ConfigOptions.printWarnings(configuration)
        let rows = configuration.databases.map { database in
            [
                database.id + (database.id == configuration.defaultDatabaseID ? " *" : ""), database.title, database.maskedTarget,
                database.readOnly ? "read-only" : "read-write", "\(database.pool.max)", database.isolation.rawValue,
                // principal → role (its pool's maximum); never a password.
                database.roles.map { roles in
                    roles.map { "\($0.principal) → \($0.user) (max \($0.maxConnections))" }.joined(separator: ", ")
                } ?? "-",
            ]
        }
        print(Table.render(header: ["DATABASE", "TITLE", "TARGET", "MODE", "POOL MAX", "ISOLATION", "ROLES"], rows: rows))
        print("* default database · from \(configuration.source)")
    }
}

/// Left-aligned columns separated by two spaces. Cells are escaped (`LogText`): a server's error
/// message or a configured title cannot break a row or send escape sequences to the terminal.
enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = ([header] + rows).map { $0.map(LogText.escaped) }
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
