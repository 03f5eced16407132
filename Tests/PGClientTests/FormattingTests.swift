import PGClient
import Testing

@Suite("Formatting") struct FormattingTests {
    @Test func durationsReadTheSameEverywhere() {
        #expect(Duration.milliseconds(250).readable == "250 ms")
        #expect(Duration.milliseconds(2500).readable == "2.5 s")
        #expect(Duration.seconds(10).readable == "10 s")
        #expect(Duration.milliseconds(10_030).readable == "10 s")
    }

    @Test func serverVersionsReadAsPeopleWriteThem() {
        #expect(PGServerVersion.text(150018) == "15.18")
        #expect(PGServerVersion.text(170000) == "17.0")
        #expect(PGServerVersion.text(90624) == "9.6.24")
    }
}
