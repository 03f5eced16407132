import PGClient
import PGMCPJSON
import PGRegistry

/// One finding of `database_health`: which check, how bad, on what, the numbers that show it, and
/// what to do about it.
public struct HealthFinding: Sendable {
    public enum Severity: String, Sendable, Comparable {
        case info, warning, critical

        var rank: Int {
            switch self {
            case .info: 0
            case .warning: 1
            case .critical: 2
            }
        }
        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    }

    public var check: String
    public var severity: Severity
    /// The table, index, sequence, database or backend it is about (quoted as SQL would need it).
    public var object: String?
    public var evidence: JSONObject
    public var advice: String

    public var json: JSONValue {
        [
            "check": .string(check), "severity": .string(severity.rawValue), "object": object.map(JSONValue.string) ?? .null,
            "evidence": .object(evidence), "advice": .string(advice),
        ]
    }
}

/// A check of `database_health`: one catalog read, and the findings its rows make. Each runs on its
/// own, so one the role may not read (a `permission denied`) is reported as skipped and the others
/// still run. The reads never paste a value read from the database into SQL.
struct HealthCheck: Sendable {
    let name: String
    let sql: String
    let findings: @Sendable ([[JSONValue]]) -> [HealthFinding]
}

/// What `database_health` answers: the findings, worst first, and the checks that could not run.
public struct HealthReport: Sendable {
    public var findings: [HealthFinding]
    public var checked: [String]
    public var skipped: [(check: String, reason: String)]
}

extension DatabaseCalls {
    /// Every check of `database_health`, each a read-only statement under the database's statement
    /// timeout, on one connection.
    public func databaseHealth(session: WorkSession, database: String?) async throws(DatabaseCallError) -> HealthReport {
        let checks = HealthCheck.all
        let outcomes: [Result<[[JSONValue]], DatabaseCallError>] = try await withDatabase(session, database) { connection, target, transaction in
            let scope = transaction == nil ? PGScope.transaction(readOnly: true) : .savepoint(readOnly: true)
            var outcomes: [Result<[[JSONValue]], DatabaseCallError>] = []
            for check in checks {
                do {
                    let rows = try await connection.scopedReads([PGStatement(check.sql)], in: scope, statementTimeoutMs: target.config.statementTimeoutMs)[0].rows
                    outcomes.append(.success(rows))
                } catch let error as PGError where error.kind == .statement {
                    outcomes.append(.failure(DatabaseCallError.explaining(error, on: target)))
                    try await connection.undoFailedScope(scope)
                }
            }
            return outcomes
        }
        var report = HealthReport(findings: [], checked: [], skipped: [])
        for (check, outcome) in zip(checks, outcomes) {
            switch outcome {
            case .success(let rows):
                report.checked.append(check.name)
                report.findings += check.findings(rows)
            case .failure(let error):
                report.skipped.append((check.name, error.message))
            }
        }
        report.findings.sort { $0.severity > $1.severity }
        return report
    }
}

extension HealthCheck {
    static let all: [HealthCheck] =
        [invalidIndexes, duplicateIndexes, unusedIndexes, bloatedIndexes, bloatedTables]
        + [sequences, invalidConstraints, neverAnalysed]
        + [connections, wraparound, replication, replicationSlots, cacheHitRate, idleInTransaction]

    /// `schema.name`, each part quoted when it needs to be, as an object's name for a finding.
    static func name(_ schema: JSONValue, _ name: JSONValue) -> String {
        "\(quotedIfNeeded(schema.stringValue ?? "?")).\(quotedIfNeeded(name.stringValue ?? "?"))"
    }

    /// Lower-case letters, digits and underscores (not first) need no quotes; anything else gets them.
    static func quotedIfNeeded(_ name: String) -> String {
        let plain =
            name.first.map { $0.isLetter || $0 == "_" } == true
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
        return plain ? name : SQLQuoting.identifier(name)
    }
}
