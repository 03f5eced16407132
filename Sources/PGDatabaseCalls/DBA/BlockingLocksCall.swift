import PGClient
import PGMCPJSON
import PGRegistry

extension DatabaseCalls {
    /// Statement text in a lock chain is cut to this many characters.
    public static let lockQueryTextLength = 300

    /// Who waits on whom, from `pg_blocking_pids`: one chain per session that waits and that nobody
    /// waits on, `{waiting: {pid, …}, blockedBy: [{pid, …, blockedBy: […]}]}`, down to the sessions
    /// that block without waiting (the ones to look at first). A cycle (a deadlock PostgreSQL has not
    /// broken yet) is shown once, its repeat marked `cycle: true`.
    public func blockingLocks(session: WorkSession, database: String?) async throws(DatabaseCallError) -> [JSONValue] {
        // Every backend that waits, and every backend one of them waits on, in one read.
        let rows = try await catalogReads(
            session, database,
            [
                PGStatement(
                    """
                    WITH waiting AS (
                      SELECT pid, pg_catalog.pg_blocking_pids(pid) AS blockers FROM pg_catalog.pg_stat_activity
                      WHERE wait_event_type = 'Lock'
                    ), involved AS (
                      SELECT pid FROM waiting WHERE cardinality(blockers) > 0
                      UNION SELECT unnest(blockers) FROM waiting
                    )
                    SELECT a.pid, coalesce(w.blockers, '{}'::int[]), a.usename::text, a.datname::text, a.state,
                           CASE WHEN length(a.query) > $1::int THEN left(a.query, $1::int) || '…' ELSE a.query END,
                           CASE WHEN cardinality(w.blockers) > 0
                                THEN round(extract(epoch FROM pg_catalog.now() - a.state_change)::numeric, 1)::float8 END,
                           round(extract(epoch FROM pg_catalog.now() - a.xact_start)::numeric, 1)::float8,
                           (SELECT l.locktype || ' ' || l.mode || coalesce(' on ' || l.relation::regclass::text, '')
                            FROM pg_catalog.pg_locks l WHERE l.pid = a.pid AND NOT l.granted LIMIT 1)
                    FROM involved i JOIN pg_catalog.pg_stat_activity a ON a.pid = i.pid
                    LEFT JOIN waiting w ON w.pid = a.pid
                    ORDER BY a.pid
                    """, parameters: [String(Self.lockQueryTextLength)])
            ])[0]
        return LockChains(rows: rows).chains
    }
}

/// The waits-for graph of one `blocking_locks` read, walked into chains.
struct LockChains {
    struct Backend {
        var pid: Int64
        var blockers: [Int64]
        var fields: JSONObject
    }

    let backends: [Int64: Backend]

    init(rows: [[JSONValue]]) {
        var backends: [Int64: Backend] = [:]
        for row in rows {
            guard let pid = row[0].intValue else { continue }
            let blockers = (row[1].arrayValue ?? []).compactMap(\.intValue)
            let fields = JSONObject([
                ("pid", row[0]), ("user", row[2]), ("database", row[3]), ("state", row[4]), ("query", StatementTextRedaction.redact(row[5])),
                ("waitingSeconds", row[6]), ("transactionSeconds", row[7]), ("waitsFor", row[8]),
            ])
            backends[pid] = Backend(pid: pid, blockers: blockers, fields: fields)
        }
        self.backends = backends
    }

    /// A chain for each backend that waits and blocks nobody, by pid.
    var chains: [JSONValue] {
        let blocking = Set(backends.values.flatMap(\.blockers))
        let ends = backends.values.filter { !$0.blockers.isEmpty && !blocking.contains($0.pid) }.sorted { $0.pid < $1.pid }
        // Only cycles left (every waiter also blocks): start from the lowest pid so each is shown.
        let starts = ends.isEmpty ? Array(backends.values.filter { !$0.blockers.isEmpty }.sorted { $0.pid < $1.pid }.prefix(1)) : ends
        return starts.map { start in
            ["waiting": .object(start.fields), "blockedBy": .array(blockedBy(start, path: [start.pid]))]
        }
    }

    private func blockedBy(_ backend: Backend, path: Set<Int64>) -> [JSONValue] {
        backend.blockers.sorted().map { pid -> JSONValue in
            guard let blocker = backends[pid] else { return ["pid": .int(pid), "blockedBy": []] }
            var node = blocker.fields
            if path.contains(pid) {
                node["cycle"] = true
                return .object(node)
            }
            node["blockedBy"] = .array(blockedBy(blocker, path: path.union([pid])))
            return .object(node)
        }
    }
}
