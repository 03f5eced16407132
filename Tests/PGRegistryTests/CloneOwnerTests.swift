import Foundation
import PGRegistry
import Testing

@Suite("Clone owners") struct CloneOwnerTests {
    let me = CloneOwner(host: "box", machine: "m1", boot: "b1", pidNamespace: "pid:[4026531836]", user: 1000, pid: 42, started: "1000")

    func observer(
        host: String = "box", machine: String = "m1", boot: String = "b1", pidNamespace: String = "pid:[4026531836]", user: UInt32 = 1000
    )
        -> CloneOwner
    {
        CloneOwner(host: host, machine: machine, boot: boot, pidNamespace: pidNamespace, user: user, pid: 7, started: "5")
    }

    @Test func theCommentRoundTripsAndAnythingElseIsNotOurs() {
        #expect(CloneOwner(comment: me.comment) == me)
        #expect(CloneOwner(comment: "made by hand") == nil)
        #expect(CloneOwner(comment: "pgmcp clone; owner host=box pid=1") == nil)
        // The first format (no machine, namespace or user) is not judged either.
        #expect(CloneOwner(comment: "pgmcp clone; owner host=box boot=b1 pid=42 started=1000") == nil)
    }

    @Test func onlyADeadProcessThatTheObserverCanSeeIsGone() {
        let here = observer()
        // Alive: same pid, same start time.
        #expect(!me.isGone(to: here, startTimeOf: { $0 == 42 ? "1000" : nil }))
        // No such process, or the pid reused by a later process: gone.
        #expect(me.isGone(to: here, startTimeOf: { _ in nil }))
        #expect(me.isGone(to: here, startTimeOf: { _ in "2000" }))
        // Rebooted since: gone.
        #expect(me.isGone(to: observer(boot: "b2"), startTimeOf: { _ in "1000" }))
        // Whatever the observer cannot see for sure is never judged: another host, machine, pid
        // namespace (a container) or user (hidepid), or an owner with an unknown field.
        for other in [observer(host: "other"), observer(machine: "m2"), observer(pidNamespace: "pid:[4026532000]"), observer(user: 1001)] {
            #expect(!me.isGone(to: other, startTimeOf: { _ in nil }), "\(other)")
        }
        var vague = me
        vague.started = "unknown"
        #expect(!vague.isGone(to: here, startTimeOf: { _ in nil }))
    }

    @Test func thisProcessIsAliveByItsOwnReckoning() {
        #expect(CloneOwner.current.started != "unknown")
        #expect(!CloneOwner.current.isGone())
        #expect(CloneOwner(comment: CloneOwner.current.comment) == CloneOwner.current)
    }
}
