import Foundation
import PGClient

/// Why a connection could not be had. Messages name the database and what to do.
public struct PoolError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case exhausted, unavailable, shutdown, cancelled
    }

    public var kind: Kind
    public var database: String
    public var message: String

    public var description: String { message }

    init(database: String, failure: PoolStateMachine.LeaseFailure) {
        self.database = database
        switch failure {
        case .exhausted(let inUse, let maximum, let opening, let waiting, let waited):
            kind = .exhausted
            if opening > 0 && inUse < maximum {
                message =
                    "no connection to '\(database)' within \(waited.readable): \(opening) still being opened (the server is slow to accept connections), \(inUse)/\(maximum) in use, \(waiting) waiting"
            } else {
                message = "pool for '\(database)' exhausted: \(inUse)/\(maximum) in use, \(waiting) waiting, waited \(waited.readable)"
            }
        case .unavailable(let reason, let retryIn):
            kind = .unavailable
            message = "database '\(database)' unavailable: \(reason); next attempt in \(retryIn.readable)"
        case .shutdown:
            kind = .shutdown
            message = "the pool for '\(database)' is shut down"
        case .cancelled:
            kind = .cancelled
            message = "waiting for a connection to '\(database)' was cancelled"
        }
    }
}

extension PGConnectionParameters {
    /// The one-line reason a pool reports for `error` on a connection with these parameters: the
    /// first line of its message, without anything that may be the password.
    func reason(for error: any Error) -> String {
        redact(firstLine((error as? PGError)?.message ?? String(describing: error)))
    }
}

/// The first line of a libpq error, for the one-line reasons pools report.
func firstLine(_ text: String) -> String {
    var line = String(text.split(separator: "\n", omittingEmptySubsequences: true).first ?? Substring(text))
    // libpq prefixes "connection to server at "h" (127.0.0.1), port 5432 failed: "; keep the cause.
    if let range = line.range(of: " failed: ") { line = String(line[range.upperBound...]) }
    return line.trimmingCharacters(in: .whitespaces)
}
