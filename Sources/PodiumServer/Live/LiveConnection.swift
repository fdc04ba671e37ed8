import NIOCore
import NIOWebSocket
import Synchronization

/// One open WebSocket: its identity, and the writes of server messages straight to its
/// channel, on the channel's event loop.
///
/// The hub hands each event loop one batch of writes per update (``LiveHub/deliver(_:)``),
/// so a fan-out costs one task per loop, not one per subscriber. A client that stops
/// reading leaves its channel unwritable; after `unwritableBudget` more messages it is
/// disconnected, so it holds neither memory nor anyone else's delivery.
final class LiveConnection: Sendable {
    let id: Int
    /// The signed-in user, for authenticated connections.
    let userId: String?
    private let channel: any Channel
    private let unwritableBudget: Int
    /// Messages written while the channel was unwritable (touched on its event loop only).
    private let writtenWhileUnwritable = Atomic<Int>(0)
    private let overflowed = Atomic<Bool>(false)
    private let isClosing = Atomic<Bool>(false)

    init(id: Int, userId: String?, channel: any Channel, unwritableBudget: Int) {
        self.id = id
        self.userId = userId
        self.channel = channel
        self.unwritableBudget = unwritableBudget
    }

    var eventLoop: any EventLoop { channel.eventLoop }

    /// Sends one message, after everything sent before it.
    func send(_ message: ByteBuffer) {
        channel.eventLoop.execute {
            if self.write(message) { self.channel.flush() }
        }
    }

    /// Writes a text frame holding `message` without flushing; call on ``eventLoop``.
    /// Returns false when the connection is closing or was dropped as too slow.
    func write(_ message: ByteBuffer) -> Bool {
        guard !isClosing.load(ordering: .relaxed) else { return false }
        if channel.isWritable {
            writtenWhileUnwritable.store(0, ordering: .relaxed)
        } else if writtenWhileUnwritable.add(1, ordering: .relaxed).newValue > unwritableBudget {
            dropAsSlow()
            return false
        }
        channel.write(WebSocketFrame(fin: true, opcode: .text, data: message), promise: nil)
        return true
    }

    /// Flushes what ``write(_:)`` queued; call on ``eventLoop``.
    func flush() {
        channel.flush()
    }

    /// Whether the connection was dropped for not reading.
    var wasDroppedAsSlow: Bool { overflowed.load(ordering: .relaxed) }

    /// Sends a close frame after what is queued, then closes the socket once it is
    /// written (or after two seconds, for a peer that does not read).
    func close(_ code: WebSocketErrorCode, reason: String) {
        channel.eventLoop.execute {
            guard !self.isClosing.exchange(true, ordering: .relaxed) else { return }
            var data = self.channel.allocator.buffer(capacity: 2 + reason.utf8.count)
            data.write(webSocketErrorCode: code)
            data.writeString(reason)
            let channel = self.channel
            channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)).whenComplete { _ in
                channel.close(promise: nil)
            }
            channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
        }
    }

    private func dropAsSlow() {
        guard !overflowed.exchange(true, ordering: .relaxed) else { return }
        isClosing.store(true, ordering: .relaxed)
        channel.close(mode: .all, promise: nil)
    }
}
