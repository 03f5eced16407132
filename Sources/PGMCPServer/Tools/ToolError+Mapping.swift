import PGClient
import PGMCPJSON
import PGRegistry

extension ToolError {
    /// Maps any failure to what the client sees: a PostgreSQL error with its SQLSTATE, message,
    /// detail, hint and position; a registry error's own sentence; a cancellation as such.
    static func from(_ error: any Error) -> ToolError {
        switch error {
        case let error as ToolError:
            return error
        case let error as PGError:
            var details = JSONObject()
            if let sqlState = error.sqlState { details["sqlstate"] = .string(sqlState) }
            details["message"] = .string(error.message)
            if let detail = error.detail { details["detail"] = .string(detail) }
            if let hint = error.hint { details["hint"] = .string(hint) }
            if let position = error.position { details["position"] = .int(Int64(position)) }
            let prefix = error.kind == .connection ? "database connection failed: " : ""
            return ToolError(prefix + error.description, details: details)
        case let error as RegistryError:
            return ToolError(error.message)
        case is CancellationError:
            return ToolError("the call was cancelled")
        default:
            return ToolError(String(describing: error))
        }
    }
}

extension ToolCall {
    /// Runs `body` with a connection to the `database` argument's database (or the active one).
    /// Its errors are explained with the database's settings at hand (`ToolError.explaining`).
    func withDatabase<R: Sendable>(
        access: ConnectionPoolRegistry.Access = .read, _ body: @escaping @Sendable (PGConnection, DatabaseTarget) async throws -> R
    ) async throws(ToolError) -> R {
        let name = try arguments.string("database")
        do {
            return try await server.registry.withConnection(session: session, database: name, access: access) { connection, target in
                do { return try await body(connection, target) } catch let error as PGError {
                    throw ToolError.explaining(error, on: target)
                }
            }
        } catch {
            throw ToolError.from(error)
        }
    }
}

/// Milliseconds with two decimals, for `elapsedMs`.
func milliseconds(_ duration: Duration) -> JSONValue {
    let (seconds, attoseconds) = duration.components
    let ms = Double(seconds) * 1000 + Double(attoseconds) / 1e15
    return .double((ms * 100).rounded() / 100)
}
