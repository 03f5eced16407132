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
        Self.batch.withLock { $0.take() }
    }

    /// Fills `destination` with random bytes, a word of the batch at a time, under one lock.
    public static func fill(_ destination: UnsafeMutableRawBufferPointer) {
        batch.withLock { batch in
            for start in stride(from: 0, to: destination.count, by: 8) {
                let word = batch.take()
                withUnsafeBytes(of: word) { bytes in
                    UnsafeMutableRawBufferPointer(rebasing: destination[start..<min(start + 8, destination.count)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.prefix(destination.count - start)))
                }
            }
        }
    }

    private static let batch = Mutex(Batch())

    /// The words fetched and not yet handed out: `words[next...]`.
    struct Batch {
        private var words = [UInt64](repeating: 0, count: 512)
        private var next = 512

        /// The next word, zeroed in the batch as it is taken.
        mutating func take() -> UInt64 {
            if next == words.count {
                words.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
                next = 0
            }
            defer {
                words[next] = 0
                next += 1
            }
            return words[next]
        }
    }
}
