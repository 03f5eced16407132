import Testing

@testable import PGRegistry

/// The pinned-transaction machine on its own: a manual clock (instants passed in), a stand-in for
/// the connection, no PostgreSQL.
@Suite struct TransactionTableTests {
    final class Stub: Sendable {}
    typealias Table = TransactionTable<Stub>

    let t0 = ContinuousClock.now
    let idleTimeout = Duration.seconds(60)

    /// A table with a transaction open on "main" since `t0`.
    func openTable(_ pinned: Stub) throws -> Table {
        var table = Table()
        let serial = try table.begin("main")
        let result1 = table.opened("main", serial: serial, pinned, now: t0)
        #expect(result1)
        return table
    }

    /// The error `body` throws (the macro's `#expect(throws:)` cannot mutate the table).
    func failure(_ body: () throws -> Void) -> RegistryError? {
        do {
            try body()
            return nil
        } catch {
            return error as? RegistryError
        }
    }

    func running(_ start: Table.CallStart) -> Stub? {
        if case .run(let pinned) = start { pinned } else { nil }
    }

    @Test func anIdleTransactionIsRolledBackAtItsTimeoutAndTheNextCallIsToldOnce() throws {
        let pinned = Stub()
        var table = try openTable(pinned)
        let result2 = table.expireIdle(now: t0 + idleTimeout - .milliseconds(1), timeout: idleTimeout, reason: "idle")
        #expect(result2.isEmpty)
        let actions = table.expireIdle(now: t0 + idleTimeout, timeout: idleTimeout, reason: "idle")
        guard case .giveBack(let returned, let reason)? = actions.first, actions.count == 1 else {
            Issue.record("expected one give-back, got \(actions)")
            return
        }
        #expect(returned === pinned && reason == "idle")
        // Told once: the next call fails with the reason, the one after runs on a pooled connection.
        let failed1 = failure { _ = try table.startCall(on: "main") { _ in true } }
        #expect(failed1?.kind == .transactionEnded && failed1?.message.contains("rolled back: idle") == true)
        guard case .pooled = try table.startCall(on: "main", serves: { _ in true }) else {
            Issue.record("a second call was told again")
            return
        }
    }

    @Test func toldOnceMeansOnce() throws {
        var table = try openTable(Stub())
        _ = table.expireIdle(now: t0 + idleTimeout, timeout: idleTimeout, reason: "idle")
        let failed2 = failure { _ = try table.startCall(on: "main") { _ in true } }
        #expect(failed2 != nil)
        guard case .pooled = try table.startCall(on: "main", serves: { _ in true }) else {
            Issue.record("the notice was told twice")
            return
        }
        // A commit after the notice was told finds no transaction, and a new begin is allowed.
        let failed3 = failure { _ = try table.startEnd(on: "main") { _ in true } }
        #expect(failed3?.kind == .noTransaction)
        let failed4 = failure { _ = try table.begin("main") }
        #expect(failed4 == nil)
    }

    @Test func aBusyTransactionIsNotIdleAndItsLastUseIsWhenTheCallEnded() throws {
        let pinned = Stub()
        var table = try openTable(pinned)
        let result3 = try table.startCall(on: "main") { _ in true }
        #expect(running(result3) === pinned)
        let result4 = table.expireIdle(now: t0 + idleTimeout * 2, timeout: idleTimeout, reason: "idle")
        #expect(result4.isEmpty)
        let result5 = table.callFinished("main", pinned, now: t0 + idleTimeout * 2, lost: nil)
        #expect(result5.isEmpty)
        let result6 = table.expireIdle(now: t0 + idleTimeout * 2 + .seconds(59), timeout: idleTimeout, reason: "idle")
        #expect(result6.isEmpty)
        let result7 = table.expireIdle(now: t0 + idleTimeout * 3, timeout: idleTimeout, reason: "idle")
        #expect(result7.count == 1)
    }

    @Test func aLostConnectionEndsTheTransactionFailsItsWaitersAndTellsTheCommit() throws {
        let pinned = Stub()
        var table = try openTable(pinned)
        _ = try table.startCall(on: "main") { _ in true }
        guard case .wait(let waiter, _) = try table.startCall(on: "main", serves: { _ in true }) else {
            Issue.record("a second call did not wait its turn")
            return
        }
        let actions = table.callFinished("main", pinned, now: t0, lost: "its connection was lost")
        #expect(actions.count == 2)
        #expect(actions.contains { if case .fail(waiter, let error) = $0 { error.kind == .transactionEnded } else { false } })
        #expect(actions.contains { if case .giveBack(let returned, _) = $0 { returned === pinned } else { false } })
        // The COMMIT that follows is told the transaction was rolled back, once.
        do {
            _ = try table.startEnd(on: "main") { _ in true }
            Issue.record("the commit was not told")
        } catch {
            #expect(error.kind == .transactionEnded && error.message.contains("already rolled back: its connection was lost"))
        }
        let failed5 = failure { _ = try table.startEnd(on: "main") { _ in true } }
        #expect(failed5 != nil)
    }

    @Test func aCommitTakesTheTransactionOutAtOnceSoALostAnswerLeavesNothingBehind() throws {
        let pinned = Stub()
        var table = try openTable(pinned)
        guard case .run(let ending) = try table.startEnd(on: "main", serves: { _ in true }) else {
            Issue.record("the commit did not run at once")
            return
        }
        #expect(ending === pinned)
        // Whatever became of the COMMIT, no call runs in it any more, nothing is told, the idle
        // timeout has nothing to roll back, and the session may begin again.
        guard case .pooled = try table.startCall(on: "main", serves: { _ in true }) else {
            Issue.record("a call ran in a transaction being committed")
            return
        }
        let result8 = table.expireIdle(now: t0 + idleTimeout, timeout: idleTimeout, reason: "idle")
        #expect(result8.isEmpty)
        let result9 = table.callFinished("main", pinned, now: t0, lost: "lost")
        #expect(result9.isEmpty)
        let failed6 = failure { _ = try table.begin("main") }
        #expect(failed6 == nil)
    }

    @Test func aCommitWaitsForTheRunningCallThenHasTheTurn() throws {
        let pinned = Stub()
        var table = try openTable(pinned)
        _ = try table.startCall(on: "main") { _ in true }
        guard case .wait(let commit, _) = try table.startEnd(on: "main", serves: { _ in true }) else {
            Issue.record("the commit did not wait for the running call")
            return
        }
        guard case .wait(let later, _) = try table.startCall(on: "main", serves: { _ in true }) else {
            Issue.record("a later call did not wait")
            return
        }
        let actions = table.callFinished("main", pinned, now: t0, lost: nil)
        guard case .grant(commit, let granted)? = actions.first, actions.count == 1 else {
            Issue.record("the commit was not granted first: \(actions)")
            return
        }
        #expect(granted === pinned)
        // The commit took it out: the later waiter gave up is no longer in the table.
        #expect(table.open(on: "main") == nil)
        let result10 = table.giveUp(later)
        #expect(!result10)
    }

    @Test func aWaiterThatGivesUpLeavesTheQueue() throws {
        let pinned = Stub()
        var table = try openTable(pinned)
        _ = try table.startCall(on: "main") { _ in true }
        guard case .wait(let waiter, _) = try table.startCall(on: "main", serves: { _ in true }) else {
            Issue.record("no wait")
            return
        }
        let result11 = table.giveUp(waiter)
        #expect(result11)
        let result12 = table.giveUp(waiter)
        #expect(!result12)
        let result13 = table.callFinished("main", pinned, now: t0, lost: nil)
        #expect(result13.isEmpty)
        let result14 = try table.startCall(on: "main") { _ in true }
        #expect(running(result14) === pinned)
    }

    @Test func aDisconnectDuringACallTakesTheTransactionWithoutANoticeAndTheCallReturnsNothing() throws {
        let pinned = Stub()
        var table = try openTable(pinned)
        _ = try table.startCall(on: "main") { _ in true }
        let (removed, actions) = table.remove("main", reason: "disconnected")
        #expect(removed === pinned && actions.isEmpty)
        #expect(!table.holds(pinned, on: "main"))
        // The running call ends: nothing to give back twice, and nobody is told (the name may come
        // back as another database).
        let result15 = table.callFinished("main", pinned, now: t0, lost: "lost")
        #expect(result15.isEmpty)
        guard case .pooled = try table.startCall(on: "main", serves: { _ in true }) else {
            Issue.record("the removed transaction was still used")
            return
        }
    }

    @Test func theSessionEndingDuringBeginLeavesNothingAndBeginGivesItsConnectionBack() throws {
        var table = Table()
        let serial = try table.begin("main")
        let failed7 = failure { _ = try table.begin("main") }
        #expect(failed7 != nil)
        let (pinned, actions) = table.removeAll(reason: "the session ended")
        #expect(pinned.isEmpty && actions.isEmpty)
        let result16 = table.opened("main", serial: serial, Stub(), now: t0)
        #expect(!result16)
        #expect(table.open(on: "main") == nil)
    }

    @Test func anOldBeginCannotFillANewSlot() throws {
        var table = Table()
        let first = try table.begin("main")
        _ = table.remove("main", reason: "disconnected")
        let second = try table.begin("main")
        let result17 = table.opened("main", serial: first, Stub(), now: t0)
        #expect(!result17)
        table.beginFailed("main", serial: first)
        let result18 = table.opened("main", serial: second, Stub(), now: t0)
        #expect(result18)
    }

    @Test func aCallOnAnotherDatabaseOfTheSameNameRunsPooled() throws {
        var table = try openTable(Stub())
        guard case .pooled = try table.startCall(on: "main", serves: { _ in false }) else {
            Issue.record("a call on another database of the same name ran in the transaction")
            return
        }
    }
}

/// What the cursor table (another `TransactionTable`) asks of it beyond transactions.
@Suite struct CursorTableTests {
    final class Stub: Sendable {}

    /// A session kept only for its cursor ends once the table holds none: an ended one's notice
    /// does not count, an opening or open one does.
    @Test func holdsNoneOnceItsLastPinHasEnded() throws {
        let t0 = ContinuousClock.now
        var table = TransactionTable<Stub>()
        #expect(table.holdsNone)
        let serial = try table.begin("main")
        #expect(!table.holdsNone, "opening")
        let pinned = Stub()
        let opened = table.opened("main", serial: serial, pinned, now: t0)
        #expect(opened)
        #expect(!table.holdsNone, "open")
        let expired = table.expireIdle(now: t0 + .seconds(60), timeout: .seconds(60), reason: "idle")
        #expect(expired.count == 1)
        #expect(table.holdsNone, "only the notice is left")
    }

    /// A page read to its end closes the cursor through `callFinished(lost:)`: its connection goes
    /// back, and the name is free for the next cursor at once.
    @Test func aCursorReadToItsEndGivesItsConnectionBackAndFreesTheName() throws {
        let t0 = ContinuousClock.now
        var table = TransactionTable<Stub>()
        let pinned = Stub()
        let serial = try table.begin("main")
        let opened = table.opened("main", serial: serial, pinned, now: t0)
        #expect(opened)
        guard case .run(let granted) = try table.startCall(on: "main", serves: { $0 === pinned }) else {
            Issue.record("the page should run at once")
            return
        }
        #expect(granted === pinned)
        let actions = table.callFinished("main", pinned, now: t0 + .seconds(1), lost: "it was read to its end")
        guard case .giveBack(let back, _)? = actions.first else {
            Issue.record("the connection should go back: \(actions)")
            return
        }
        #expect(back === pinned)
        #expect(table.holdsNone)
        _ = try table.begin("main")
    }
}
