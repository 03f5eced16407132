/// The one place a `Duration` becomes a number and a number a `Duration`, so that no file does
/// `components`/`attoseconds` arithmetic of its own: seconds for messages, JSON and dispatch
/// deadlines, milliseconds for `elapsedMs` and reports, nanoseconds for timers.
extension Duration {
    /// Seconds as a `Double` (a `TimeInterval`), fractions kept.
    public var timeInterval: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Milliseconds as a `Double`, fractions kept.
    public var inMilliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    /// Whole nanoseconds, clamped to `Int`'s range (a timer's delay; a negative duration stays negative).
    public var clampedNanoseconds: Int {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? Int.min : Int.max }
        let (total, sumOverflow) = product.addingReportingOverflow(attoseconds / 1_000_000_000)
        if sumOverflow { return seconds < 0 ? Int.min : Int.max }
        return Int(clamping: total)
    }

    /// `seconds` (fractions allowed) rounded to whole milliseconds, as settings are read.
    /// Callers keep `seconds` within a range `Int64` milliseconds hold (a year is far inside it).
    public static func seconds(roundedToMilliseconds seconds: Double) -> Duration {
        .milliseconds(Int64((seconds * 1000).rounded()))
    }
}
