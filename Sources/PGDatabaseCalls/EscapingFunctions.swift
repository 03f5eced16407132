/// Functions whose effects escape a read-only transaction or the session that calls them, so that a
/// read-only call must not run them, however it names them (`pg_catalog.`, quoted, any case).
///
/// `BEGIN READ ONLY` stops writes to tables, not these: a `SELECT pg_terminate_backend(…)` ends
/// another session's work, `pg_read_file` reads the server's files, `pg_logical_emit_message(false…)`
/// is written to the WAL at once, and none of it is undone by the rollback. Functions called inside
/// views and other functions are beyond any parser: that is what one login role per entry, without
/// `pg_signal_backend`, `pg_read_server_files` and the like, is for (docs/security.md).
enum EscapingFunctions {
    /// Why a function is refused, by its name (lower-cased, without schema), or nil.
    static func reason(for name: String) -> String? {
        let name = name.lowercased()
        if let reason = exact[name] { return reason }
        return prefixes.first { name.hasPrefix($0.prefix) }?.reason
    }

    private static let signals = "it signals other server processes"
    private static let files = "it reads or writes the server's files"
    private static let wal = "it controls the WAL, backups or recovery"
    private static let replication = "it changes replication slots or origins, outside any transaction"
    private static let statistics = "it resets statistics, outside any transaction"
    private static let sessionLocks = "it takes or releases a session-level advisory lock, which outlives the transaction"
    private static let otherSQL = "it runs SQL given as text, which no check before sending can see"
    private static let largeObjects = "it writes large objects, which PostgreSQL lets even a read-only transaction do"
    private static let hypothetical = "it changes the session's hypothetical indexes, which outlive the transaction"

    private static let exact: [String: String] = {
        var table: [String: String] = [:]
        for name in ["pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "pg_rotate_logfile_old", "pg_log_backend_memory_contexts", "pg_promote"] {
            table[name] = signals
        }
        for name in [
            "pg_read_file", "pg_read_file_old", "pg_read_binary_file", "pg_stat_file", "pg_ls_dir", "pg_logdir_ls", "lo_import", "lo_export",
            "pg_file_write", "pg_file_rename", "pg_file_unlink", "pg_file_sync", "pg_file_read", "pg_file_length",
        ] {
            table[name] = files
        }
        for name in [
            "pg_switch_wal", "pg_switch_xlog", "pg_create_restore_point", "pg_start_backup", "pg_stop_backup", "pg_backup_start", "pg_backup_stop",
            "pg_wal_replay_pause", "pg_wal_replay_resume", "pg_xlog_replay_pause", "pg_xlog_replay_resume", "pg_logical_emit_message",
        ] {
            table[name] = wal
        }
        for name in ["pg_drop_replication_slot", "pg_replication_slot_advance", "pg_stat_statements_reset"] {
            table[name] = name.hasSuffix("reset") ? statistics : replication
        }
        for name in ["lo_create", "lo_creat", "lo_from_bytea", "lo_put", "lo_unlink", "lowrite", "lo_truncate", "lo_truncate64"] {
            table[name] = largeObjects
        }
        for name in ["query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "cursor_to_xml", "cursor_to_xmlschema", "ts_stat"] {
            table[name] = otherSQL
        }
        for name in ["hypopg_create_index", "hypopg_drop_index", "hypopg_reset", "hypopg_reset_index", "hypopg_hide_index", "hypopg_unhide_index", "hypopg_unhide_all_indexes"] {
            table[name] = hypothetical
        }
        return table
    }()

    /// Families refused by the start of their names.
    private static let prefixes: [(prefix: String, reason: String)] = [
        ("pg_ls_", files),  // pg_ls_logdir, pg_ls_waldir, pg_ls_tmpdir, pg_ls_archive_statusdir…
        ("pg_create_", replication),  // pg_create_physical/logical_replication_slot (restore point above)
        ("pg_copy_", replication),  // pg_copy_physical/logical_replication_slot
        ("pg_logical_slot_", replication),  // get_changes consumes the slot; peek decodes it
        ("pg_replication_origin_", replication),
        ("pg_stat_reset", statistics),  // pg_stat_reset, _shared, _single_table_counters, _slru…
        ("pg_advisory_lock", sessionLocks), ("pg_advisory_unlock", sessionLocks), ("pg_try_advisory_lock", sessionLocks),
        ("dblink", otherSQL),  // dblink, dblink_exec, dblink_connect, dblink_send_query…
    ]
}
