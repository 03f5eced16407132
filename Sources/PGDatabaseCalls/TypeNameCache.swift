import PGClient
import PGMCPJSON
import PGRegistry
import Synchronization

/// `format_type` names of non-built-in types (enums, domains, composites), per pool, so a result's
/// column types read `order_status` instead of a bare OID. Filled on first sight. Keyed by the
/// pool's serial, not the database's name: a session's copy of a clone entry or a dynamic
/// connection may call a different database by the same name.
final class TypeNameCache: Sendable {
    private let names = Mutex<[UInt64: [UInt32: String]]>([:])
    /// Pools come and go (a copy per test); past this many, the cache starts over.
    static let maximumPools = 1024

    /// Names for `columns` on `pool`, looking up unknown OIDs through `connection`.
    /// Inside the session's open transaction (`inTransaction`) the lookup runs in a savepoint undone
    /// afterwards, even when it fails: pgmcp's own read never aborts the caller's transaction.
    func columnTypes(_ columns: [PGColumn], pool: ConnectionPool, connection: PGConnection, inTransaction: Bool = false) async -> [String] {
        // The common case, built-in types only, needs neither the lock nor the catalog.
        let builtIn = columns.compactMap(\.typeName)
        if builtIn.count == columns.count { return builtIn }
        let unknown = columns.filter { $0.typeName == nil }.map(\.typeOID)
        var known = names.withLock { $0[pool.serial] ?? [:] }
        let missing = Set(unknown.filter { known[$0] == nil })
        if !missing.isEmpty {
            let list = PGArrayLiteral.text(missing.map(String.init))
            let lookup = PGStatement(
                "SELECT oid::pg_catalog.int8, pg_catalog.format_type(oid, NULL) FROM pg_catalog.pg_type WHERE oid OPERATOR(pg_catalog.=) ANY($1::pg_catalog.oid[])",
                parameters: [list])
            if let rows = await connection.catalogRows(lookup, inTransaction: inTransaction) {
                for row in rows {
                    if let oid = row[0].intValue, let name = row[1].stringValue { known[UInt32(oid)] = name }
                }
                names.withLock { names in
                    if names[pool.serial] == nil, names.count >= Self.maximumPools { names = [:] }
                    names[pool.serial] = known
                }
            }
        }
        return columns.map { $0.typeName ?? known[$0.typeOID] ?? "oid \($0.typeOID)" }
    }
}
