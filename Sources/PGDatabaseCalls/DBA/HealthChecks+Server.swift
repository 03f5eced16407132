import PGClient
import PGMCPJSON

/// The server checks of `database_health`: connections, transaction-ID wraparound, replication,
/// the buffer cache, sessions idle in a transaction.
extension HealthCheck {
    /// Client connections against what the server allows them (max_connections less those kept for
    /// superusers).
    static let connections = HealthCheck(
        name: "connections",
        sql: """
            SELECT count(*) FILTER (WHERE backend_type = 'client backend'),
                   pg_catalog.current_setting('max_connections')::int - pg_catalog.current_setting('superuser_reserved_connections')::int,
                   count(*) FILTER (WHERE state LIKE 'idle in transaction%')
            FROM pg_catalog.pg_stat_activity
            """,
        findings: { rows in
            guard let row = rows.first, let used = row[0].numberValue, let allowed = row[1].numberValue, allowed > 0 else { return [] }
            let fraction = used / allowed
            guard fraction >= 0.8 else { return [] }
            return [
                HealthFinding(
                    check: "connections", severity: fraction >= 0.95 ? .critical : .warning, object: nil,
                    evidence: JSONObject([
                        ("clientConnections", row[0]), ("allowed", row[1]), ("usedFraction", .double((fraction * 100).rounded() / 100)),
                        ("idleInTransaction", row[2]),
                    ]),
                    advice:
                        "New connections are refused once the limit is reached. Put a pooler (PgBouncer) in front, lower the pools of the applications, or raise max_connections (restart; each connection costs memory)."
                )
            ]
        })

    /// How close each database is to transaction-ID (and multixact) wraparound, past which
    /// PostgreSQL stops accepting writes. 2^31 IDs is the horizon.
    static let wraparound = HealthCheck(
        name: "wraparound",
        sql: """
            SELECT datname::text, pg_catalog.age(datfrozenxid), pg_catalog.mxid_age(datminmxid)
            FROM pg_catalog.pg_database WHERE datallowconn
            ORDER BY greatest(pg_catalog.age(datfrozenxid), pg_catalog.mxid_age(datminmxid)) DESC
            """,
        findings: { rows in
            rows.compactMap { row in
                let xid = Double(row[1].intValue ?? 0) / 2_147_483_648
                let mxid = Double(row[2].intValue ?? 0) / 2_147_483_648
                let worst = max(xid, mxid)
                guard worst >= 0.5 else { return nil }
                let database = quotedIfNeeded(row[0].stringValue ?? "")
                return HealthFinding(
                    check: "wraparound", severity: worst >= 0.75 ? .critical : .warning, object: database,
                    evidence: JSONObject([
                        ("transactionIdAge", row[1]), ("multixactAge", row[2]), ("horizonFraction", .double((worst * 1000).rounded() / 1000)),
                    ]),
                    advice:
                        "PostgreSQL stops accepting writes before the horizon. Run VACUUM (FREEZE) on its oldest tables (ordered by age(relfrozenxid)), and look for what holds the horizon back: long transactions, prepared transactions, stale replication slots."
                )
            }
        })

    /// Standbys behind this primary, and this server's own lag when it is a standby.
    static let replication = HealthCheck(
        name: "replication",
        sql: """
            SELECT application_name::text, state, round(extract(epoch FROM replay_lag)::numeric, 1)::float8,
                   CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL
                        ELSE pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), replay_lsn)::bigint END
            FROM pg_catalog.pg_stat_replication
            UNION ALL
            SELECT NULL, 'this server replays', round(extract(epoch FROM pg_catalog.now() - pg_catalog.pg_last_xact_replay_timestamp())::numeric, 1)::float8,
                   pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_last_wal_receive_lsn(), pg_catalog.pg_last_wal_replay_lsn())::bigint
            WHERE pg_catalog.pg_is_in_recovery()
            """,
        findings: { rows in
            rows.compactMap { row in
                let seconds = row[2].numberValue ?? 0
                let bytes = row[3].intValue ?? 0
                guard seconds >= 60 || bytes >= 1 << 30 else { return nil }
                let standby = row[0].stringValue
                return HealthFinding(
                    check: "replication_lag", severity: seconds >= 600 || bytes >= 10 << 30 ? .critical : .warning,
                    object: standby.map { "standby \($0)" } ?? "this standby",
                    evidence: JSONObject([("state", row[1]), ("lagSeconds", row[2]), ("lagBytes", row[3])]),
                    advice: standby == nil
                        ? "Reads here may be that far behind the primary (on an idle primary the time grows without real lag). Check the standby's disk and network, and long queries delaying replay (max_standby_streaming_delay)."
                        : "The standby is behind: check its disk, network and replay (long queries there delay it). Reads routed to it see old data, and a failover would lose the lag."
                )
            }
        })

    /// Replication slots hold WAL until their consumer takes it: an abandoned one fills the disk.
    static let replicationSlots = HealthCheck(
        name: "replication_slots",
        sql: """
            SELECT slot_name::text, slot_type, active, wal_status,
                   CASE WHEN pg_catalog.pg_is_in_recovery() OR restart_lsn IS NULL THEN NULL
                        ELSE pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), restart_lsn)::bigint END
            FROM pg_catalog.pg_replication_slots ORDER BY 1
            """,
        findings: { rows in
            rows.compactMap { row in
                let active = row[2].boolValue ?? true
                let retained = row[4].intValue ?? 0
                let lost = row[3].stringValue == "lost"
                guard !active || retained >= 1 << 30 || lost else { return nil }
                let slot = row[0].stringValue ?? ""
                return HealthFinding(
                    check: "replication_slot", severity: lost || retained >= 10 << 30 ? .critical : .warning, object: slot,
                    evidence: JSONObject([("type", row[1]), ("active", row[2]), ("walStatus", row[3]), ("retainedWalBytes", row[4])]),
                    advice:
                        "The server keeps WAL for this slot until its consumer reads it. If nothing will use it again, drop it: SELECT pg_drop_replication_slot(\(SQLQuoting.literal(slot))); otherwise bring its consumer back. max_slot_wal_keep_size caps what a slot may hold."
                )
            }
        })

    /// Reads served from shared buffers, for this database, once it has read enough to tell.
    static let cacheHitRate = HealthCheck(
        name: "cache_hit_rate",
        sql: """
            SELECT blks_hit, blks_read, pg_catalog.current_setting('shared_buffers')
            FROM pg_catalog.pg_stat_database WHERE datname = pg_catalog.current_database()
            """,
        findings: { rows in
            guard let row = rows.first, let hit = row[0].numberValue, let read = row[1].numberValue, hit + read >= 100_000 else { return [] }
            let rate = hit / (hit + read)
            guard rate < 0.95 else { return [] }
            return [
                HealthFinding(
                    check: "cache_hit_rate", severity: rate < 0.8 ? .critical : .warning, object: nil,
                    evidence: JSONObject([
                        ("hitRate", .double((rate * 1000).rounded() / 1000)), ("blocksHit", row[0]), ("blocksRead", row[1]),
                        ("sharedBuffers", row[2]),
                    ]),
                    advice:
                        "Many reads go to disk (or the OS cache). Look at top_queries with by: resources for the statements that read most (often sequential scans an index would avoid), or give shared_buffers more memory."
                )
            ]
        })

    /// The session that has sat longest in an open transaction doing nothing: it holds its locks and
    /// keeps VACUUM from removing rows everywhere.
    static let idleInTransaction = HealthCheck(
        name: "idle_in_transaction",
        sql: """
            SELECT pid, usename::text, datname::text, application_name::text,
                   round(extract(epoch FROM pg_catalog.now() - state_change)::numeric, 1)::float8,
                   CASE WHEN length(query) > 300 THEN left(query, 300) || '…' ELSE query END,
                   count(*) OVER ()
            FROM pg_catalog.pg_stat_activity
            WHERE state LIKE 'idle in transaction%' AND pg_catalog.now() - state_change >= interval '60 seconds'
            ORDER BY state_change LIMIT 1
            """,
        findings: { rows in
            rows.map { row in
                let seconds = row[4].numberValue ?? 0
                return HealthFinding(
                    check: "idle_in_transaction", severity: seconds >= 900 ? .critical : .warning, object: "pid \(row[0].intValue ?? 0)",
                    evidence: JSONObject([
                        ("user", row[1]), ("database", row[2]), ("application", row[3]), ("idleSeconds", row[4]), ("lastQuery", StatementTextRedaction.redact(row[5])),
                        ("sessionsIdleOverAMinute", row[6]),
                    ]),
                    advice:
                        "It holds its locks and keeps VACUUM from removing dead rows. Find why its client left the transaction open; end it with SELECT pg_terminate_backend(\(row[0].intValue ?? 0)), and set idle_in_transaction_session_timeout so it cannot happen unnoticed."
                )
            }
        })
}
