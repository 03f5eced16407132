import Synchronization

/// Parse outcomes by statement text, so that a statement sent again is not parsed again. Bounded in
/// entries and in the size of a text it keeps (a long text is parsed each time: it is rare, and
/// keeping it would let a client fill memory); when full, the oldest entry goes.
final class StatementCache: Sendable {
    typealias Outcome = Result<ParsedStatement, ParseFailure>

    private struct State {
        var outcomes: [String: Outcome] = [:]
        /// Texts in the order they came, for eviction: a ring of `capacity` slots.
        var order: [String] = []
        var next = 0
    }

    let capacity: Int
    let maxTextBytes: Int
    private let state = Mutex(State())

    init(capacity: Int, maxTextBytes: Int) {
        self.capacity = capacity
        self.maxTextBytes = maxTextBytes
    }

    subscript(sql: String) -> Outcome? {
        get {
            guard sql.utf8.count <= maxTextBytes else { return nil }
            return state.withLock { $0.outcomes[sql] }
        }
        set {
            guard let newValue, sql.utf8.count <= maxTextBytes else { return }
            state.withLock { state in
                guard state.outcomes.updateValue(newValue, forKey: sql) == nil else { return }
                if state.order.count < capacity {
                    state.order.append(sql)
                } else {
                    state.outcomes.removeValue(forKey: state.order[state.next])
                    state.order[state.next] = sql
                    state.next = (state.next + 1) % capacity
                }
            }
        }
    }

    var count: Int { state.withLock { $0.outcomes.count } }
}
