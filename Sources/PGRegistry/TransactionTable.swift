/// The transactions one work session holds open across calls, one per database name: a pure
/// machine (events in, what to do out, `now` passed in), kept under the session's lock. Every step
/// on a transaction (begin, a call, commit or rollback, the idle timeout, a lost connection, a
/// disconnect, the session's end) is one event here, decided in one place and in one order.
///
/// A transaction's connection serves one call at a time: a second call of the session waits its
/// turn, in order. One that ended without its caller asking (idle timeout, lost connection) leaves
/// its reason, told once, to the next call on that database, so that the call does not run outside
/// a transaction its caller believes open.
///
/// Generic over the pinned connection (`PinnedConnection` in the server), which it only compares
/// by identity: its tests use a stand-in.
struct TransactionTable<Pinned: AnyObject & Sendable>: Sendable {
    enum Slot {
        /// `BEGIN` is running.
        /// Can become: `open` (it succeeded); nothing (it failed, or a disconnect or the session's
        /// end took the slot away: then `opened` says to give the connection back).
        case opening(serial: Int)
        /// Can become: busy and idle again (calls); nothing (committed, rolled back, disconnected,
        /// the session ended); `ended` (idle timeout, lost connection).
        case open(Open)
        /// Ended without its caller asking, and why.
        /// Can become: nothing (told to the next call there, a new `BEGIN`, a disconnect).
        case ended(reason: String)
    }

    struct Open {
        let pinned: Pinned
        var lastUsed: ContinuousClock.Instant
        /// A call, or the end, has the connection now.
        var busy = false
        /// Who waits for the connection, first come first served.
        var waiters: [Waiter] = []
    }

    struct Waiter: Equatable {
        let id: Int
        /// Commit or rollback: granted, it takes the transaction out of the table.
        let ends: Bool
    }

    /// How a call on a database starts.
    enum CallStart {
        /// No transaction there: a pooled connection.
        case pooled
        /// In the transaction: the call has the connection until `callFinished`.
        case run(Pinned)
        /// The transaction is busy: the call waits for `Action.grant` with this id.
        case wait(Int, Pinned)
    }

    /// What the shell does after an event.
    enum Action {
        /// It is the waiter's turn: it runs on the transaction (or, for an end, ends it).
        case grant(waiter: Int, Pinned)
        /// The waiter fails with this error.
        case fail(waiter: Int, RegistryError)
        /// The connection goes back to its pool (its reset rolls back), its slot to the session.
        case giveBack(Pinned, reason: String)
    }

    private(set) var slots: [String: Slot] = [:]
    private var nextSerial = 0
    private var nextWaiter = 0

    /// The open transaction on `name`, when there is one, with when it was last used.
    func open(on name: String) -> Open? {
        if case .open(let open)? = slots[name] { open } else { nil }
    }

    /// Whether nothing is open or opening here (notices of ended ones aside).
    var holdsNone: Bool {
        !slots.values.contains { if case .ended = $0 { false } else { true } }
    }

    /// Whether `pinned` is still the open transaction on `name` (not ended or taken away since a
    /// call was given its turn).
    func holds(_ pinned: Pinned, on name: String) -> Bool {
        open(on: name)?.pinned === pinned
    }

    // MARK: - Begin

    /// A `BEGIN` on `name` is about to run: the slot is taken (a second begin is refused) and an
    /// old notice there is forgotten. Returns the serial that `opened` and `beginFailed` name.
    mutating func begin(_ name: String) throws(RegistryError) -> Int {
        switch slots[name] {
        case .opening?, .open?:
            throw RegistryError(
                .transactionOpen,
                "a transaction is already open on '\(name)' in this session; end it with commit_transaction or rollback_transaction first")
        case .ended?, nil:
            nextSerial += 1
            slots[name] = .opening(serial: nextSerial)
            return nextSerial
        }
    }

    /// `BEGIN` succeeded: kept when the slot is still this begin's. False when it was taken away
    /// meanwhile: the caller gives the connection back.
    mutating func opened(_ name: String, serial: Int, _ pinned: Pinned, now: ContinuousClock.Instant) -> Bool {
        guard case .opening(serial)? = slots[name] else { return false }
        slots[name] = .open(Open(pinned: pinned, lastUsed: now))
        return true
    }

    /// `BEGIN` failed (or never ran): the slot is free again.
    mutating func beginFailed(_ name: String, serial: Int) {
        if case .opening(serial)? = slots[name] { slots[name] = nil }
    }

    // MARK: - Calls

    /// A call on `name`: in the transaction when one is open there on the same database (`serves`),
    /// else on a pooled connection. A notice left there is told now, as this call's error.
    mutating func startCall(on name: String, serves: (Pinned) -> Bool) throws(RegistryError) -> CallStart {
        switch slots[name] {
        case .ended(let reason)?:
            slots[name] = nil
            throw RegistryError(
                .transactionEnded,
                "the transaction on '\(name)' was rolled back: \(reason). Nothing of it was committed; begin_transaction starts a new one")
        case .open(var open)? where serves(open.pinned):
            return enqueue(&open, on: name, ends: false).map { .wait($0, open.pinned) } ?? .run(open.pinned)
        case .open?, .opening?, nil:
            return .pooled
        }
    }

    /// The call (or end) that had `pinned`'s connection is over. With `lost` (its connection broke
    /// or was abandoned: PostgreSQL rolled the transaction back) the transaction ends with that
    /// reason; otherwise the next waiter gets its turn.
    mutating func callFinished(_ name: String, _ pinned: Pinned, now: ContinuousClock.Instant, lost: String?) -> [Action] {
        guard case .open(var open)? = slots[name], open.pinned === pinned else { return [] }
        if let lost {
            slots[name] = .ended(reason: lost)
            return failAll(open.waiters, name: name, reason: lost) + [.giveBack(pinned, reason: lost)]
        }
        open.lastUsed = now
        guard !open.waiters.isEmpty else {
            open.busy = false
            slots[name] = .open(open)
            return []
        }
        let next = open.waiters.removeFirst()
        slots[name] = next.ends ? nil : .open(open)
        return [.grant(waiter: next.id, pinned)]
    }

    // MARK: - Commit and rollback

    /// Commit or rollback of the transaction on `name`: `.run` takes it out of the table at once
    /// (no call starts in it after); `.wait` when a call has it, until that call is over.
    mutating func startEnd(on name: String, serves: (Pinned) -> Bool) throws(RegistryError) -> CallStart {
        switch slots[name] {
        case .ended(let reason)?:
            slots[name] = nil
            throw RegistryError(.transactionEnded, "the transaction on '\(name)' was already rolled back: \(reason). Nothing of it was committed")
        case .open(var open)? where serves(open.pinned):
            if let id = enqueue(&open, on: name, ends: true) { return .wait(id, open.pinned) }
            slots[name] = nil
            return .run(open.pinned)
        case .open?, .opening?, nil:
            throw RegistryError(.noTransaction, "no transaction is open on '\(name)' in this session; begin_transaction starts one")
        }
    }

    // MARK: - Waiting

    /// A waiter gave up (its deadline passed, its call was cancelled). False when it is not waiting
    /// any more: its turn (or its failure) was decided first.
    mutating func giveUp(_ id: Int) -> Bool {
        for (name, slot) in slots {
            guard case .open(var open) = slot, let index = open.waiters.firstIndex(where: { $0.id == id }) else { continue }
            open.waiters.remove(at: index)
            slots[name] = .open(open)
            return true
        }
        return false
    }

    // MARK: - Ends the caller did not ask for

    /// Rolls back what was idle for `timeout` with no call on it: each leaves `reason`.
    mutating func expireIdle(now: ContinuousClock.Instant, timeout: Duration, reason: String) -> [Action] {
        var actions: [Action] = []
        for (name, slot) in slots {
            guard case .open(let open) = slot, !open.busy, now - open.lastUsed >= timeout else { continue }
            slots[name] = .ended(reason: reason)
            actions.append(.giveBack(open.pinned, reason: reason))
        }
        return actions
    }

    /// The database `name` was disconnected: its slot goes, without a notice (the name may come
    /// back as another database). An open transaction is returned for the caller to give back once
    /// the calls on it are over; its waiters fail.
    mutating func remove(_ name: String, reason: String) -> (Pinned?, [Action]) {
        guard let slot = slots.removeValue(forKey: name), case .open(let open) = slot else { return (nil, []) }
        return (open.pinned, failAll(open.waiters, name: name, reason: reason))
    }

    /// The session ends: every slot goes; the open transactions are returned for the caller to give
    /// back (after its calls are over), their waiters fail. A `BEGIN` still running finds its slot
    /// gone and gives its connection back itself.
    mutating func removeAll(reason: String) -> ([Pinned], [Action]) {
        var pinned: [Pinned] = []
        var actions: [Action] = []
        for (name, slot) in slots {
            guard case .open(let open) = slot else { continue }
            pinned.append(open.pinned)
            actions += failAll(open.waiters, name: name, reason: reason)
        }
        slots = [:]
        return (pinned, actions)
    }

    // MARK: - Internals

    /// Gives `open` to the caller when free (nil), or queues it and returns its waiter id.
    private mutating func enqueue(_ open: inout Open, on name: String, ends: Bool) -> Int? {
        defer { slots[name] = .open(open) }
        guard open.busy else {
            open.busy = true
            return nil
        }
        nextWaiter += 1
        open.waiters.append(Waiter(id: nextWaiter, ends: ends))
        return nextWaiter
    }

    private func failAll(_ waiters: [Waiter], name: String, reason: String) -> [Action] {
        waiters.map {
            .fail(
                waiter: $0.id,
                RegistryError(
                    .transactionEnded,
                    "the transaction on '\(name)' ended before this call could run: \(reason). Nothing of it was committed; begin_transaction starts a new one"
                ))
        }
    }
}
