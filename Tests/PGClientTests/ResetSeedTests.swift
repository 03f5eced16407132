import Testing

@testable import PGClient

/// The seed every reset gives `random()`: a number `setseed` takes, drawn anew each time.
@Suite("Reset seed") struct ResetSeedTests {
    @Test func theSeedIsAFloatBetweenMinusOneAndOneAndNewEachTime() throws {
        let seeds = (0..<200).map { _ in PGConnection.freshSeed }
        for seed in seeds {
            let value = try #require(Double(seed), "\(seed)")
            #expect((-1.0...1.0).contains(value), "\(seed)")
        }
        #expect(Set(seeds).count > 190)
    }
}
