import Foundation
import PGRegistry
import Testing

@Suite("Clone owners") struct CloneOwnerTests {
    let me = CloneOwner(host: "box", boot: "b1", pid: 42, started: "1000")

    @Test func theCommentRoundTripsAndAnythingElseIsNotOurs() {
        #expect(CloneOwner(comment: me.comment) == me)
        #expect(CloneOwner(comment: "made by hand") == nil)
        #expect(CloneOwner(comment: "pgmcp clone; owner host=box pid=1") == nil)
    }

    @Test func onlyADeadProcessOfThisHostIsGone() {
        let here = CloneOwner(host: "box", boot: "b1", pid: 7, started: "5")
        // Alive: same pid, same start time.
        #expect(!me.isGone(on: here, startTimeOf: { $0 == 42 ? "1000" : nil }))
        // No such process, or the pid reused by a later process: gone.
        #expect(me.isGone(on: here, startTimeOf: { _ in nil }))
        #expect(me.isGone(on: here, startTimeOf: { _ in "2000" }))
        // Rebooted since: gone.
        #expect(me.isGone(on: CloneOwner(host: "box", boot: "b2", pid: 7, started: "5"), startTimeOf: { _ in "1000" }))
        // Another host's copy is never judged.
        #expect(!me.isGone(on: CloneOwner(host: "other", boot: "b1", pid: 7, started: "5"), startTimeOf: { _ in nil }))
    }

    @Test func thisProcessIsAliveByItsOwnReckoning() {
        #expect(CloneOwner.current.started != "unknown")
        #expect(!CloneOwner.current.isGone())
        #expect(CloneOwner(comment: CloneOwner.current.comment) == CloneOwner.current)
    }
}
