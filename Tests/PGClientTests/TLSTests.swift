import PGClient
import PGMCPJSON
import TestSupport
import Testing

/// Statements over TLS: input TLS has already decrypted wakes no socket, so the driver must read it
/// before it waits (as libpq's own blocking waits do).
@Suite("TLS", .serialized) struct TLSTests {
    @Test func resultsOfEverySizeArriveOverTLS() async throws {
        let cluster = try await PrivateCluster.start(tls: true)
        do {
            var parameters = try PGConnectionParameters(conninfo: cluster.url)
            parameters["sslmode"] = "require"
            let connection = try await PGConnection.connect(parameters)
            #expect(try await connection.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").rows == [[true]])
            // Sizes around TLS records (16 KiB) and libpq's buffers, single values and many rows.
            for size in [1_000, 8_000, 16_000, 16_400, 20_000, 32_000, 33_000, 40_000, 70_000, 250_000] {
                let value = try await withDeadline(.seconds(20)) {
                    try await connection.query("SELECT repeat('x', $1::int)", parameters: [String(size)]).rows[0][0]
                }
                #expect(value?.stringValue?.count == size, "size \(size)")
                let rows = try await withDeadline(.seconds(20)) {
                    try await connection.query("SELECT g, repeat('y', 100) FROM generate_series(1, $1::int) g", parameters: [String(size / 100)]).rows
                }
                #expect(rows?.count == size / 100, "rows for size \(size)")
            }
            let (outcomes, rows) = try await connection.pipeline(
                [PGStatement("BEGIN READ ONLY"), PGStatement("SELECT repeat('z', 50000)"), PGStatement("ROLLBACK")], rowsFrom: 1,
                into: PGRowCollector())
            #expect(outcomes.allSatisfy { (try? $0.get()) != nil })
            #expect(rows.rows.first?.first?.stringValue?.count == 50_000)
            await connection.close()
        } catch {
            await cluster.destroy()
            throw error
        }
        await cluster.destroy()
    }
}

/// `body`'s result, or `nil` if it takes longer than `limit` (a hang must fail the test, not stall it).
func withDeadline<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        return first
    }
}
