import PGClient
import Testing

@Suite("Duration conversions") struct DurationConversionTests {
    @Test func durationsBecomeSecondsMillisecondsAndNanoseconds() {
        #expect(Duration.milliseconds(2500).timeInterval == 2.5)
        #expect(Duration.microseconds(1500).inMilliseconds == 1.5)
        #expect(Duration.seconds(3).inMilliseconds == 3000)
        #expect(Duration.nanoseconds(-7).clampedNanoseconds == -7)
        #expect(Duration.seconds(2).clampedNanoseconds == 2_000_000_000)
        #expect(Duration.seconds(Int64.max).clampedNanoseconds == Int.max)
        #expect(Duration.seconds(Int64.min).clampedNanoseconds == Int.min)
    }

    @Test func secondsAsSettingsAreReadToTheMillisecond() {
        #expect(Duration.seconds(roundedToMilliseconds: 0.5) == .milliseconds(500))
        #expect(Duration.seconds(roundedToMilliseconds: 1.0004) == .seconds(1))
        #expect(Duration.seconds(roundedToMilliseconds: 31_536_000) == .seconds(31_536_000))
    }
}
