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
}
