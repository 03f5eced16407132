import PGClient

extension ConnectionPoolRegistry {
    /// The pools of `targets` with first-hand health: a database nobody has tried yet (or not within
    /// the health check interval, with nothing open) is tried now, so that one that is down or
    /// missing reads `unhealthy`, with its error, the first time anyone asks, not `unknown`.
    /// Probes run concurrently, each bounded by `PGMCP_CONNECT_TIMEOUT`; no connection is held.
    public func probedSnapshots(of targets: [DatabaseTarget]) async -> [PoolStateMachine.Snapshot] {
        await withTaskGroup(of: (Int, PoolStateMachine.Snapshot).self) { group in
            for (index, target) in targets.enumerated() {
                group.addTask { (index, await self.probedSnapshot(of: target)) }
            }
            var snapshots = targets.map { $0.pool.snapshot() }
            for await (index, snapshot) in group { snapshots[index] = snapshot }
            return snapshots
        }
    }

    private func probedSnapshot(of target: DatabaseTarget) async -> PoolStateMachine.Snapshot {
        guard target.kind == .configured, target.config.isolation == .clone else { return await target.pool.probedSnapshot() }
        // A clone entry's pool is never used (its template must have no other connections while it
        // is copied): connect, check and close, as the readiness probe does.
        guard target.pool.isHealthProbeDue else { return target.pool.snapshot() }
        do {
            try await probe(target.name, timeout: configuration.server.connectTimeout)
            target.pool.recordProbe(problem: nil)
        } catch {
            target.pool.recordProbe(problem: target.config.connectionParameters.reason(for: error))
        }
        return target.pool.snapshot()
    }

    /// Throws when `target` refuses its connections for a reason that lasts until someone changes
    /// something (`privilegeCheck: "enforce"` and a role with more power than reading needs), so that
    /// it is not made a session's database: every call there would fail. Found out first-hand when
    /// not known yet (one connection, bounded by PGMCP_CONNECT_TIMEOUT), only for entries the check
    /// applies to. A database that is down, missing or unhealthy is not refused: it may come back.
    func refuseIfRefusedForGood(_ target: DatabaseTarget, _ next: String) async throws(RegistryError) {
        // A caller's role is checked as itself; an entry without roles as the entry (the caller may
        // see a writable entry read-only, which does not make the check apply to it).
        guard target.kind == .configured, let entry = target.config.role != nil ? target.config : pools[target.name]?.config,
            entry.privilegeCheck == .enforce, PrivilegeCheck.applies(to: entry)
        else { return }
        guard let refusal = await target.pool.probedSnapshot().refusal else { return }
        throw RegistryError(.databaseRefused, "database '\(target.name)' \(refusal); \(next)")
    }

    /// A lease that failed, as a call reports it. A database refused for good says so and what the
    /// caller can do, instead of the next connect attempt's time (which will be refused too).
    func leaseFailure(_ error: PoolError, _ target: DatabaseTarget) -> RegistryError {
        var failure = RegistryError(error)
        if error.kind == .unavailable, let refusal = target.pool.snapshot().refusal {
            failure.message = "database '\(target.name)' \(refusal); calls there fail until that changes: pass another 'database', or select_database another (list_databases)"
        }
        return failure
    }
}
