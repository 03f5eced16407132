import IOReactor
import Testing

/// `SystemRandom` hands out the kernel's bytes from batches: every draw new, across batch ends, and
/// with no byte value favoured.
@Suite("System random") struct SystemRandomTests {
    func draw(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { SystemRandom.fill($0) }
        return bytes
    }

    @Test func noncesAcrossSeveralBatchesAreAllDifferent() {
        // 1,000 nonces of 16 bytes: four batches, and draws that straddle a batch's end (4096 is
        // not a multiple of 24).
        var nonces: Set<[UInt8]> = []
        for _ in 0..<1_000 {
            nonces.insert(draw(16))
            _ = draw(8)
        }
        #expect(nonces.count == 1_000)
        #expect(!nonces.contains([UInt8](repeating: 0, count: 16)))
    }

    @Test func everyByteValueComesAboutEquallyOften() {
        // 64 KiB: 256 of each value expected, a standard deviation of 16; the bounds are six of it.
        var counts = [Int](repeating: 0, count: 256)
        for _ in 0..<(65_536 / 32) {
            for byte in draw(32) { counts[Int(byte)] += 1 }
        }
        #expect(counts.allSatisfy { (160...352).contains($0) }, "\(counts)")
    }

    @Test func aDrawLargerThanABatchIsFilled() {
        let bytes = draw(10_000)
        #expect(Set(bytes.suffix(5_000)).count > 200)
    }

    @Test func asAGeneratorItCoversARange() {
        var random = SystemRandom()
        let values = (0..<2_000).map { _ in Int.random(in: 0..<10, using: &random) }
        #expect(Set(values) == Set(0..<10))
    }
}
