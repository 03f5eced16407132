import Testing

@testable import PGClient

/// `ConnectionWatchdog`'s timer decisions at explicit instants: no clock read, no sleep.
@Suite("Deadline schedule") struct DeadlineScheduleTests {
    let start = ContinuousClock.now
    func at(_ seconds: Int) -> ContinuousClock.Instant { start + .seconds(seconds) }

    @Test func theTimerIsArmedForTheEarliestDeadlineOnly() {
        var schedule = DeadlineSchedule()
        #expect(schedule.set(1, deadline: at(30)) == at(30))
        // Later than the armed instant: the timer is left alone (the hot path's usual case).
        #expect(schedule.set(2, deadline: at(40)) == nil)
        #expect(schedule.set(3, deadline: at(30)) == nil)
        // Earlier: the timer moves.
        #expect(schedule.set(4, deadline: at(10)) == at(10))
        #expect(schedule.armed == at(10))
    }

    @Test func firingExpiresWhatIsDueEarliestFirstAndArmsForTheNext() {
        var schedule = DeadlineSchedule()
        _ = schedule.set(1, deadline: at(20))
        _ = schedule.set(2, deadline: at(5))
        _ = schedule.set(3, deadline: at(10))
        let early = schedule.fire(now: at(4))
        #expect(early.expired.isEmpty)
        #expect(early.next == at(5))
        let due = schedule.fire(now: at(10))
        #expect(due.expired == [2, 3])
        #expect(due.next == at(20))
        #expect(schedule.armed == at(20))
        // Each fires once.
        #expect(schedule.fire(now: at(15)).expired.isEmpty)
        let last = schedule.fire(now: at(20))
        #expect(last.expired == [1])
        #expect(last.next == nil)
        #expect(schedule.armed == nil)
    }

    @Test func aRemovedWatchNeverExpiresAndTheTimerFiresOnceForNothing() {
        var schedule = DeadlineSchedule()
        _ = schedule.set(1, deadline: at(5))
        schedule.remove(1)
        // Removing touches no timer: it stays armed, fires, and finds nothing left.
        #expect(schedule.armed == at(5))
        let fired = schedule.fire(now: at(5))
        #expect(fired.expired.isEmpty)
        #expect(fired.next == nil)
        // Idle: the next deadline arms it again, however late.
        #expect(schedule.set(2, deadline: at(60)) == at(60))
    }

    @Test func shorteningMovesADeadlineOnlyEarlier() {
        var schedule = DeadlineSchedule()
        _ = schedule.set(1, deadline: at(30))
        #expect(schedule.shorten(1, to: at(40)) == nil)
        #expect(schedule.deadline(of: 1) == at(30))
        #expect(schedule.shorten(1, to: at(3)) == at(3))
        // A watch without a deadline gets the one it is shortened to.
        #expect(schedule.shorten(2, to: at(2)) == at(2))
        #expect(schedule.fire(now: at(3)).expired == [2, 1])
    }
}

/// The watchdog's timer itself: a deadline fires without a sweep (awaited, not timed).
@Suite("Connection watchdog") struct ConnectionWatchdogTests {
    @Test(.timeLimit(.minutes(1))) func aDeadlineWithoutAConnectionFires() async {
        let watchdog = ConnectionWatchdog.shared
        let (fired, fire) = AsyncStream.makeStream(of: Void.self)
        let id = watchdog.watch(limit: .milliseconds(20)) { fire.yield() }
        for await _ in fired { break }
        #expect(watchdog.unwatch(id) == true)
        // Unwatched before its deadline: it never fires, and says so.
        let early = watchdog.watch(limit: .seconds(600)) { Issue.record("an unwatched deadline fired") }
        #expect(watchdog.unwatch(early) == false)
    }
}
