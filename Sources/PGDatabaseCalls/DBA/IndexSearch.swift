/// The greedy search of `suggest_indexes`: which candidate indexes, added one at a time, lower the
/// workload's estimated cost most. It knows nothing of PostgreSQL: the cost of the statements
/// under a set of indexes is a function it is given (hypopg in production, a table in tests), and
/// so is the clock.
///
/// Why greedy: the best set of k indexes out of n candidates is a search over n-choose-k sets, each
/// costed by planning every statement; a round per index added, each trying every remaining
/// candidate beside the ones already chosen, costs n per round and finds what matters (the index
/// that removes a sequential scan of a large table) in the first rounds. It stops when a round
/// gains too little to be worth an index (`minimumGain`), when nothing is left to try, or when
/// the time budget is spent: a deadline checked before each evaluation, each of which is one
/// planning of the statements under the database's statement timeout.
struct IndexSearch<Candidate: Hashable & Sendable> {
    /// Each statement's plan cost under a set of indexes, in the statements' order; nil when that
    /// set cannot be costed (hypopg refused the index): the candidate is then dropped.
    typealias Cost = @Sendable ([Candidate]) async throws -> [Double]?

    /// A round must lower the weighted cost by at least this share to keep its index. 10%: below
    /// that, an index's cost in writes and size outweighs a gain the estimate may not even hold.
    var minimumGain = 0.10
    /// Each statement's weight: its total execution time from pg_stat_statements (calls × mean
    /// time), or 1 for statements given by the caller.
    var weights: [Double]
    var deadline: ContinuousClock.Instant
    var now: @Sendable () -> ContinuousClock.Instant = { .now }

    struct Outcome: Sendable {
        /// In the order chosen: the most useful first.
        var chosen: [Candidate]
        /// Each statement's cost with no index added.
        var before: [Double]
        /// Each statement's cost with all of `chosen`.
        var after: [Double]
        /// The search stopped because its time ran out, not because nothing more helped.
        var outOfTime: Bool
        /// How many sets of indexes were costed (the baseline included).
        var evaluations: Int
    }

    func weighted(_ costs: [Double]) -> Double {
        zip(costs, weights).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// Runs the search. `baseline` is each statement's cost with no index added (already known from
    /// the plans the candidates came from).
    func run(_ candidates: [Candidate], baseline: [Double], cost: Cost) async throws -> Outcome {
        var remaining = candidates
        var chosen: [Candidate] = []
        var current = baseline
        var outcome = Outcome(chosen: [], before: baseline, after: baseline, outOfTime: false, evaluations: 1)
        while !remaining.isEmpty {
            var best: (index: Int, costs: [Double])?
            var useless: Set<Int> = []
            for (index, candidate) in remaining.enumerated() {
                guard now() < deadline else {
                    outcome.outOfTime = true
                    break
                }
                try Task.checkCancellation()
                outcome.evaluations += 1
                guard let costs = try await cost(chosen + [candidate]) else {
                    useless.insert(index)
                    continue
                }
                // A candidate that does not lower the cost now seldom does later (the plans it could
                // serve only get cheaper as indexes are added); dropping it keeps later rounds short.
                if weighted(costs) >= weighted(current) { useless.insert(index) }
                if weighted(costs) < best.map({ weighted($0.costs) }) ?? weighted(current) { best = (index, costs) }
            }
            guard let found = best, gain(from: weighted(current), to: weighted(found.costs)) >= minimumGain else { break }
            chosen.append(remaining[found.index])
            current = found.costs
            useless.insert(found.index)
            remaining = remaining.enumerated().filter { !useless.contains($0.offset) }.map(\.element)
            if outcome.outOfTime { break }
        }
        outcome.chosen = chosen
        outcome.after = current
        return outcome
    }

    /// The share by which the cost went down (0 when there was nothing to lower).
    func gain(from before: Double, to after: Double) -> Double {
        before > 0 ? (before - after) / before : 0
    }
}
