import Glibc
import IOReactor
import Synchronization

/// Standard input and output made non-blocking and waited on by `IOReactor`, whose thread runs
/// the stdio session's tasks (see `ServerRuntime`): a line is read, run and answered, and
/// PostgreSQL's answer resumes the call, all on that one thread, which sleeps in one `epoll_wait`.
/// A regular file (input redirected from one) reads as always ready, which it is.
final class StdioStreams: Sendable {
    private struct Output {
        var bytes: [UInt8] = []
        /// How much of `bytes` is written.
        var written = 0
        var writing = false
        var failed = false
        var drained: [CheckedContinuation<Void, Never>] = []
    }

    private let reactor = IOReactor.shared
    private let savedFlags: (input: Int32, output: Int32)
    private let output = Mutex(Output())
    /// False once `finish()` gave standard input back its blocking mode: the reader, woken later,
    /// must not read then (a blocking read would stall the thread every task runs on).
    private let inputOpen = Mutex(true)

    init() {
        savedFlags = (fcntl(0, F_GETFL), fcntl(1, F_GETFL))
        if savedFlags.input >= 0 { _ = fcntl(0, F_SETFL, savedFlags.input | O_NONBLOCK) }
        if savedFlags.output >= 0 { _ = fcntl(1, F_SETFL, savedFlags.output | O_NONBLOCK) }
    }

    /// One line of standard input, or the size of one that was longer than allowed (its bytes
    /// dropped as they arrived, so a client cannot grow the server's memory without bound).
    enum Line {
        case text(String)
        case tooLong(bytes: Int)
    }

    /// Standard input's lines (without `\n` or a trailing `\r`), until end of input; the last one
    /// may lack its `\n`. A line over `maxBytes` (`PGMCP_MAX_REQUEST_BYTES`, as for an HTTP body)
    /// arrives as `.tooLong`.
    func lines(maxBytes: Int) -> AsyncStream<Line> {
        let (lines, continuation) = AsyncStream.makeStream(of: Line.self)
        Task(executorPreference: reactor) { [self] in
            var line: [UInt8] = []
            var dropped = 0  // bytes of an overlong line, thrown away
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            func append(_ bytes: ArraySlice<UInt8>) {
                if dropped == 0, line.count + bytes.count <= maxBytes {
                    line.append(contentsOf: bytes)
                } else {
                    dropped += line.count + bytes.count
                    line.removeAll()
                }
            }
            func emit() {
                if dropped > 0 {
                    continuation.yield(.tooLong(bytes: dropped))
                    dropped = 0
                    return
                }
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                continuation.yield(.text(String(decoding: line, as: UTF8.self)))
                line.removeAll(keepingCapacity: true)
            }
            while true {
                let (count, error) = inputOpen.withLock { open -> (Int, Int32) in
                    guard open else { return (0, 0) }
                    let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                    return (count, errno)
                }
                if count > 0 {
                    var start = 0
                    for index in 0..<count where buffer[index] == UInt8(ascii: "\n") {
                        append(buffer[start..<index])
                        emit()
                        start = index + 1
                    }
                    append(buffer[start..<count])
                } else if count < 0, error == EAGAIN || error == EWOULDBLOCK {
                    _ = await reactor.wait(0)
                } else if count < 0, error == EINTR {
                    continue
                } else {
                    if !line.isEmpty || dropped > 0 { emit() }
                    continuation.finish()
                    return
                }
            }
        }
        return lines
    }

    /// Queues `bytes` for standard output, in order; what cannot be written at once is written when
    /// the pipe has room again.
    func write(_ bytes: [UInt8]) {
        let start = output.withLock { output -> Bool in
            guard !output.failed else { return false }
            output.bytes.append(contentsOf: bytes)
            defer { output.writing = true }
            return !output.writing
        }
        if start { drain() }
    }

    private enum DrainStep { case wrote, pipeFull, readerGone, done }

    /// Writes until done or until the pipe is full; then waits for room in a task of its own.
    private func drain() {
        while true {
            let step = output.withLock { output -> DrainStep in
                guard output.written < output.bytes.count else {
                    output.bytes.removeAll()
                    output.written = 0
                    output.writing = false
                    return .done
                }
                let written = output.bytes.withUnsafeBytes { raw in
                    Glibc.write(1, raw.baseAddress! + output.written, raw.count - output.written)
                }
                if written > 0 {
                    output.written += written
                    return .wrote
                }
                switch errno {
                case EINTR: return .wrote
                case EAGAIN, EWOULDBLOCK: return .pipeFull
                default: return .readerGone
                }
            }
            switch step {
            case .wrote: continue
            case .pipeFull:
                Task(executorPreference: reactor) { [self] in
                    _ = await reactor.wait(1, readable: false, writable: true)
                    drain()
                }
                return
            case .readerGone: return abandonOutput()  // nothing more can be delivered
            case .done: return resumeDrained()
            }
        }
    }

    private func resumeDrained() {
        let waiters = output.withLock { output in
            defer { output.drained = [] }
            return output.drained
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until everything queued is written (at most `limit`: a client that stopped reading
    /// must not keep the process alive), then restores the descriptors' blocking mode (they may be
    /// shared with the parent process).
    func finish(limit: Duration = .seconds(5)) async {
        let giveUp = Task(executorPreference: reactor) { [self] in
            guard (try? await Task.sleep(for: limit)) != nil else { return }
            abandonOutput()
        }
        await output.wait { output, continuation in
            if !output.writing { return true }
            output.drained.append(continuation)
            return false
        }
        giveUp.cancel()
        inputOpen.withLock { open in
            open = false
            if savedFlags.input >= 0 { _ = fcntl(0, F_SETFL, savedFlags.input) }
        }
        if savedFlags.output >= 0 { _ = fcntl(1, F_SETFL, savedFlags.output) }
    }

    /// Drops what could not be written; waiters for the output to drain return.
    private func abandonOutput() {
        output.withLock { output in
            output.failed = true
            output.bytes = []
            output.written = 0
            output.writing = false
        }
        resumeDrained()
    }
}
