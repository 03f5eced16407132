import Glibc
import Synchronization

/// Random bytes from the kernel's generator, fetched 4 KiB at a time.
///
/// Every call of pgmcp needs 24 of them: the fence's nonce and the new seed of `random()` on its
/// pooled connection. Fetched one use at a time, that was two `getrandom` system calls per call;
/// batched, it is one per 170 calls.
///
/// Batching changes nothing about the bytes: they are the kernel's, each is handed out once and
/// zeroed as it is taken, so memory holds only bytes not yet used. pgmcp never forks without an
/// exec, so no two processes can share a batch.
///
/// As a `RandomNumberGenerator` it stands in for `SystemRandomNumberGenerator`
/// (`Int.random(in:using:)`).
public struct SystemRandom: RandomNumberGenerator, Sendable {
    public init() {}

    public mutating func next() -> UInt64 {
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { Self.fill($0) }
        return value
    }

    /// Fills `destination` with random bytes.
    public static func fill(_ destination: UnsafeMutableRawBufferPointer) {
        var filled = 0
        while filled < destination.count {
            let count = min(Chunk.size, destination.count - filled)
            let chunk = batch.withLock { $0.take(count) }
            withUnsafeBytes(of: chunk) { destination.baseAddress!.advanced(by: filled).copyMemory(from: $0.baseAddress!, byteCount: count) }
            filled += count
        }
    }

    private static let batch = Mutex(Batch())

    /// At most 32 bytes, taken out of the batch by value (what leaves the lock is a copy).
    struct Chunk {
        static let size = 32
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    }

    /// The bytes fetched and not yet handed out: `bytes[next...]`.
    struct Batch: ~Copyable {
        static let size = 4096
        private let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
        private var next = size

        /// The next `count` bytes (at most `Chunk.size`), zeroed here once taken.
        mutating func take(_ count: Int) -> Chunk {
            if Self.size - next < count {
                arc4random_buf(bytes.baseAddress!, Self.size)
                next = 0
            }
            var chunk = Chunk()
            let taken = UnsafeMutableRawBufferPointer(rebasing: bytes[next..<next + count])
            withUnsafeMutableBytes(of: &chunk) { $0.copyMemory(from: UnsafeRawBufferPointer(taken)) }
            taken.initializeMemory(as: UInt8.self, repeating: 0)
            next += count
            return chunk
        }

        deinit { bytes.deallocate() }
    }
}
