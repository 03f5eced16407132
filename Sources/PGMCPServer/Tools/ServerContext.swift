import Logging
import PGClient
import PGConfig
import PGMCPJSON
import PGRegistry
import Synchronization

/// What every tool handler shares: the registry, the settings, and caches.
public final class ServerContext: Sendable {
    public let registry: ConnectionPoolRegistry
    public let logger: Logger
    let typeNames = TypeNameCache()

    public init(registry: ConnectionPoolRegistry, logger: Logger) {
        self.registry = registry
        self.logger = logger
    }

    public var settings: ServerSettings { registry.configuration.server }
}

/// `format_type` names of non-built-in types (enums, domains, composites), per database, so a
/// result's column types read `order_status` instead of a bare OID. Filled on first sight.
final class TypeNameCache: Sendable {
    private let names = Mutex<[String: [UInt32: String]]>([:])

    /// Names for `columns` on `database`, looking up unknown OIDs through `connection`.
    func columnTypes(_ columns: [PGColumn], database: String, connection: PGConnection) async -> [String] {
        // The common case, built-in types only, needs neither the lock nor the catalog.
        let builtIn = columns.compactMap(\.typeName)
        if builtIn.count == columns.count { return builtIn }
        let unknown = columns.filter { $0.typeName == nil }.map(\.typeOID)
        var known = names.withLock { $0[database] ?? [:] }
        let missing = Set(unknown.filter { known[$0] == nil })
        if !missing.isEmpty {
            let list = "{" + missing.map(String.init).joined(separator: ",") + "}"
            if let rows = try? await connection.query(
                "SELECT oid::int8, format_type(oid, NULL) FROM pg_catalog.pg_type WHERE oid = ANY($1::oid[])", parameters: [list]
            ).rows {
                for row in rows {
                    if let oid = row[0].intValue, let name = row[1].stringValue { known[UInt32(oid)] = name }
                }
                names.withLock { $0[database] = known }
            }
        }
        return columns.map { $0.typeName ?? known[$0.typeOID] ?? "oid \($0.typeOID)" }
    }
}
