import Glibc
import NIOCore
import NIOPosix
import Synchronization

/// Standard input and output as one NIO pipe channel: lines in, bytes out, on an event loop.
final class StdioPipe: Sendable {
    let lines: AsyncStream<String>
    private let channel: any Channel
    /// The last write; writes complete in order, so waiting for it waits for them all.
    private let lastWrite = Mutex<EventLoopFuture<Void>?>(nil)

    private init(channel: any Channel, lines: AsyncStream<String>) {
        self.channel = channel
        self.lines = lines
    }

    /// Fails for descriptors NIO cannot watch (a regular file as input), and the caller falls back
    /// to blocking I/O. Works on copies of 0 and 1, which the channel owns and closes.
    static func open(on group: any EventLoopGroup) async throws -> StdioPipe {
        let (lines, continuation) = AsyncStream.makeStream(of: String.self)
        let input = dup(0), output = dup(1)
        guard input >= 0, output >= 0 else {
            if input >= 0 { Glibc.close(input) }
            if output >= 0 { Glibc.close(output) }
            throw IOError(errnoCode: errno, reason: "dup")
        }
        do {
            let channel = try await NIOPipeBootstrap(group: group)
                // End of input must not close output: answers to what was read are still to come.
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(LineSplitter(continuation)) }
                }
                .takingOwnershipOfDescriptors(input: input, output: output).get()
            return StdioPipe(channel: channel, lines: lines)
        } catch {
            continuation.finish()
            throw error
        }
    }

    func write(_ bytes: [UInt8]) {
        let future = channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
        lastWrite.withLock { $0 = future }
    }

    /// Waits until everything written has gone out, then closes the channel.
    func close() async {
        _ = try? await lastWrite.withLock({ $0 })?.get()
        _ = try? await channel.close()
    }
}

/// Splits standard input into lines (without `\n` or a trailing `\r`); the last one may lack its `\n`.
final class LineSplitter: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    private let continuation: AsyncStream<String>.Continuation
    /// Bytes of a line whose end has not arrived yet. Touched only on the channel's event loop.
    private let pending = Mutex<[UInt8]>([])

    init(_ continuation: AsyncStream<String>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        pending.withLock { pending in
            buffer.withUnsafeReadableBytes { bytes in
                var start = 0
                for index in 0..<bytes.count where bytes[index] == UInt8(ascii: "\n") {
                    pending.append(contentsOf: bytes[start..<index])
                    emit(&pending)
                    start = index + 1
                }
                pending.append(contentsOf: bytes[start..<bytes.count])
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { finish() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    private func finish() {
        pending.withLock { pending in
            if !pending.isEmpty { emit(&pending) }
        }
        continuation.finish()
    }

    private func emit(_ line: inout [UInt8]) {
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        continuation.yield(String(decoding: line, as: UTF8.self))
        line.removeAll(keepingCapacity: true)
    }
}
