import Foundation
import PGClient
import PGRegistry

/// An open transaction as `begin_transaction` and `current_database` show it.
public struct TransactionInfo: Sendable {
    public var database: String
    public var readOnly: Bool
    public var startedAt: Date
    /// `open`, or `aborted` after a statement in it failed (only a rollback ends it then).
    public var status: String
    public var ageSeconds: Double
    public var idleSeconds: Double
}

/// How an explicit transaction ended.
public struct TransactionEnd: Sendable {
    public var database: String
    /// `committed` or `rolled_back`.
    public var outcome: String
    public var durationSeconds: Double
}

/// begin/commit/rollback of a transaction held open across calls. The registry pins the
/// connection (and rolls back what is left idle, or left when the session ends); this is the SQL,
/// and what a lost answer means.
extension DatabaseCalls {
    /// Opens a transaction on `database` (default: the active one), read-only unless `readOnly` is
    /// false (default: the database's own mode), under the database's statement timeout.
    public func beginTransaction(session: WorkSession, database: String?, readOnly: Bool?) async throws(DatabaseCallError) -> TransactionInfo {
        do {
            let mode = try readOnly ?? registry.resolve(database, for: session).config.readOnly
            let pinned = try await registry.pin(session: session, database: database, readOnly: mode) { connection, target in
                let (outcomes, _) = try await connection.pipeline(
                    [PGStatement(mode ? "BEGIN READ ONLY" : "BEGIN"), PGStatement("SET LOCAL statement_timeout = \(target.config.statementTimeoutMs)")],
                    rowsFrom: 0, into: DiscardingSink())
                for outcome in outcomes { _ = try outcome.get() }
            }
            return info(OpenTransaction(pinned: pinned, age: .zero, idle: .zero))
        } catch {
            throw DatabaseCallError.from(error)
        }
    }

    /// Commits the session's transaction on `database`. A COMMIT PostgreSQL answers with ROLLBACK
    /// (a statement had failed) is reported as rolled back; one whose answer never came (the
    /// connection broke, the deadline passed) as unknown: it may or may not have committed.
    public func commitTransaction(session: WorkSession, database: String?) async throws(DatabaseCallError) -> TransactionEnd {
        var name = database ?? session.activeDatabase
        do {
            return try await registry.endTransaction(session: session, database: database) { connection, pinned in
                // The reset shares the COMMIT's sync: under a transaction-mode pooler the server
                // connection is someone else's as soon as the transaction ends.
                let result = try await connection.endTransaction(commit: true)
                let age = (self.registry.now - pinned.opened).timeInterval
                if result.commandTag == "ROLLBACK" {
                    throw DatabaseCallError(
                        "the transaction on '\(pinned.target.name)' could not be committed: a statement in it had failed, so PostgreSQL rolled it back. Nothing of it was committed; begin_transaction and redo the work"
                    )
                }
                return TransactionEnd(database: pinned.target.name, outcome: "committed", durationSeconds: age)
            }
        } catch let error as DatabaseCallError {
            throw error
        } catch let error as PGError where error.kind == .statement {
            // COMMIT itself failed (a deferred constraint, a serialization failure): rolled back.
            var failure = DatabaseCallError.from(error)
            failure.message = "COMMIT failed, so the transaction on '\(name)' was rolled back; nothing of it was committed. (\(error.description))"
            throw failure
        } catch let error as RegistryError where [.transactionEnded, .noTransaction, .unknownDatabase, .unknownSession].contains(error.kind) {
            throw DatabaseCallError.from(error)
        } catch {
            if let target = try? registry.resolve(database, for: session) { name = target.name }
            throw DatabaseCallError(
                "the outcome of COMMIT on '\(name)' is unknown: its answer never arrived (\(DatabaseCallError.from(error).message)). The transaction may or may not have committed: check the data before redoing it"
            )
        }
    }

    /// Rolls back the session's transaction on `database`. A connection that broke meanwhile rolled
    /// it back too (PostgreSQL ends the transaction of a connection that ends).
    public func rollbackTransaction(session: WorkSession, database: String?) async throws(DatabaseCallError) -> TransactionEnd {
        do {
            return try await registry.endTransaction(session: session, database: database, rollingBack: true) { connection, pinned in
                // The reset that returns the connection rolls back too; a failure here changes nothing
                // (a connection given up at the deadline ends, and PostgreSQL rolls back its transaction).
                _ = try? await connection.endTransaction(commit: false)
                return TransactionEnd(database: pinned.target.name, outcome: "rolled_back", durationSeconds: (self.registry.now - pinned.opened).timeInterval)
            }
        } catch {
            throw DatabaseCallError.from(error)
        }
    }

    /// The transaction the session holds open on `database` (by name), if any.
    public func openTransaction(session: WorkSession, database: String) -> TransactionInfo? {
        registry.transaction(of: session, on: database).map(info)
    }

    /// Age and idle time come from the registry's clock, which stamped them.
    func info(_ open: OpenTransaction) -> TransactionInfo {
        let pinned = open.pinned
        return TransactionInfo(
            database: pinned.target.name, readOnly: pinned.readOnly, startedAt: pinned.openedAt,
            status: pinned.transactionStatus == .inFailedTransaction ? "aborted" : "open",
            ageSeconds: open.age.timeInterval, idleSeconds: open.idle.timeInterval)
    }
}
