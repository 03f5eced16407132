// Measures PGClient against minimal raw libpq (blocking calls on a serial dispatch queue, the same
// extended protocol and single-row mode), to show what the wrapper costs. Prints wall time, CPU time
// and peak threads for (a) sequential `SELECT 1` round trips and (b) 32 concurrent `pg_sleep(2)`.
// PGClient's driver is non-blocking libpq waiting on one epoll thread (IOReactor); the baseline is
// the blocking design it replaced. BENCHMARKS.md has the figures and why the server chose the reactor.
//
//   swift run -c release pgclient-driver-bench 'postgresql://user:pw@127.0.0.1:5432/postgres'
import CLibPQ
import Dispatch
import Foundation
import IOReactor
import PGClient

let url = CommandLine.arguments.dropFirst().first ?? ProcessInfo.processInfo.environment["DATABASE_URL"] ?? ""
let roundTrips = 5000
let sleepers = 32

/// Blocking libpq on a serial queue: the baseline design.
final class BlockingConnection: @unchecked Sendable {
    let queue = DispatchQueue(label: "blocking-pg")
    let pg: OpaquePointer
    init(_ url: String) { pg = PQconnectdb(url) }
    func exec(_ sql: String) async -> Bool {
        await withCheckedContinuation { continuation in
            queue.async { [self] in
                // The same libpq work as PGClient's driver: extended protocol, single-row mode.
                var ok = PQsendQueryParams(pg, sql, 0, nil, nil, nil, nil, 0) == 1
                PQsetSingleRowMode(pg)
                while let result = PQgetResult(pg) {
                    if PQresultStatus(result) == PGRES_FATAL_ERROR { ok = false }
                    PQclear(result)
                }
                continuation.resume(returning: ok)
            }
        }
    }
    deinit { PQfinish(pg) }
}

func threads() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("Threads:") } ?? "Threads: 0"
    return Int(line.split(separator: "\t").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "0") ?? 0
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// Runs `body`, sampling the thread count every 10 ms; returns (wall s, cpu s, peak threads).
func measure(_ body: () async throws -> Void) async rethrows -> (Double, Double, Int) {
    let peak = PeakThreads()
    let sampler = Task.detached {
        while !Task.isCancelled {
            peak.record(threads())
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
    let cpu0 = cpuSeconds()
    let start = ContinuousClock.now
    try await body()
    let wall = (ContinuousClock.now - start).timeInterval
    let cpu = cpuSeconds() - cpu0
    sampler.cancel()
    return (wall, cpu, peak.value)
}

final class PeakThreads: @unchecked Sendable {
    private let lock = NSLock()
    private var peak = 0
    func record(_ n: Int) { lock.withLock { peak = max(peak, n) } }
    var value: Int { lock.withLock { peak } }
}

func report(_ name: String, _ m: (Double, Double, Int), calls: Int? = nil) {
    var line = String(format: "%-44@ wall %7.3f s  cpu %7.3f s  peak threads %3d", name as NSString, m.0, m.1, m.2)
    if let calls { line += String(format: "  %6.1f µs/call wall, %6.1f µs/call cpu", m.0 / Double(calls) * 1e6, m.1 / Double(calls) * 1e6) }
    print(line)
}

let parameters = try PGConnectionParameters(conninfo: url)

// (a) sequential round trips
let nb = try await PGConnection.connect(parameters)
_ = try await nb.query("SELECT 1")
report(
    "PGClient: \(roundTrips) × SELECT 1",
    try await measure {
        for _ in 0..<roundTrips { try await nb.command("SELECT 1") }
    }, calls: roundTrips)
await nb.close()

let bl = BlockingConnection(url)
_ = await bl.exec("SELECT 1")
report(
    "raw blocking libpq: \(roundTrips) × SELECT 1",
    await measure {
        for _ in 0..<roundTrips { _ = await bl.exec("SELECT 1") }
    }, calls: roundTrips)

// (b) concurrent sleepers; first let idle dispatch workers of phase (a) exit.
try await Task.sleep(for: .seconds(6))
var nbs: [PGConnection] = []
for _ in 0..<sleepers { nbs.append(try await PGConnection.connect(parameters)) }
let nbConnections = nbs
report(
    "PGClient: \(sleepers) × pg_sleep(2) at once",
    try await measure {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in nbConnections { group.addTask { try await c.command("SELECT pg_sleep(2)") } }
            try await group.waitForAll()
        }
    })
for c in nbConnections { await c.close() }

let bls = (0..<sleepers).map { _ in BlockingConnection(url) }
try await Task.sleep(for: .seconds(6))
report(
    "raw blocking libpq: \(sleepers) × pg_sleep(2) at once",
    await measure {
        await withTaskGroup(of: Void.self) { group in
            for c in bls { group.addTask { _ = await c.exec("SELECT pg_sleep(2)") } }
            await group.waitForAll()
        }
    })
