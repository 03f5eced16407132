extension Duration {
    /// `250 ms`, `2.5 s`, `10 s`: how every message and progress line shows a duration.
    public var readable: String {
        let seconds = timeInterval
        if seconds < 1 { return "\(Int((seconds * 1000).rounded())) ms" }
        let tenths = (seconds * 10).rounded() / 10
        return tenths == tenths.rounded() ? "\(Int(tenths)) s" : "\(tenths) s"
    }
}

/// PostgreSQL's version number as people write it.
public enum PGServerVersion {
    /// 150018 → "15.18"; 90624 → "9.6.24" (before 10, three parts).
    public static func text(_ number: Int) -> String {
        number >= 100_000 ? "\(number / 10000).\(number % 10000)" : "\(number / 10000).\(number / 100 % 100).\(number % 100)"
    }
}
