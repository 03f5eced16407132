import PGClient

/// The production connections: libpq's, opened with the database's parameters and the pool's
/// `application_name`, checked by the entry's `prepare` hook before first use.
public struct LibpqConnectionFactory: PoolConnectionFactory {
    let parameters: PGConnectionParameters
    let applicationName: String
    /// Bounds a connect, the `prepare` check, a health check.
    let connectTimeout: Duration
    /// Runs on every new connection before it is used; a throw makes the connect a failure.
    let prepare: (@Sendable (PGConnection) async throws -> Void)?

    public init(
        parameters: PGConnectionParameters, applicationName: String, connectTimeout: Duration,
        prepare: (@Sendable (PGConnection) async throws -> Void)? = nil
    ) {
        self.parameters = parameters
        self.applicationName = applicationName
        self.connectTimeout = connectTimeout
        self.prepare = prepare
    }

    public func connect() async throws -> PGConnection {
        let connection = try await PGConnection.connect(parameters, applicationName: applicationName, timeout: connectTimeout)
        guard let prepare else { return connection }
        do { try await connection.bounded(by: connectTimeout) { try await prepare(connection) } } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    public func isAlive(_ connection: PGConnection) async -> Bool { await connection.isAlive() }

    public func check(_ connection: PGConnection) async -> String? {
        do {
            // Bounded: a frozen server must not leave the connection checking for ever (shutdown
            // waits for checks to end).
            try await connection.bounded(by: connectTimeout) { try await connection.command("SELECT 1") }
            return connection.transactionStatus == .idle ? nil : "the connection was left inside a transaction"
        } catch {
            return parameters.reason(for: error)
        }
    }

    public func close(_ connection: PGConnection) async { await connection.close() }

    public func failure(_ error: any Error) -> (reason: String, lasting: Bool) {
        // libpq's messages hold no password, but a connection string's parse error may quote one.
        (parameters.reason(for: error), error is any LastingRefusal)
    }

    public func facts(_ connection: PGConnection) -> (processID: Int, serverVersion: Int?) {
        (Int(connection.backendPID), connection.serverVersion)
    }
}

/// A connect refused for a reason that lasts until someone changes something (a role with more
/// power than its entry allows), not an outage that may pass: what `prepare` throws to say so.
protocol LastingRefusal: Error {}
