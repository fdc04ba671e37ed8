import NIOCore
import NIOWebSocket
import PodiumEngine
import Prometheus
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
    /// The signed-in user's country, if their account has one.
    let countryCode: CountryCode?
    /// The contract its messages follow.
    let dialect: LiveDialect
    private let channel: any Channel
    /// The context of the channel's frame encoder: framed bytes written through it skip
    /// the encoder and go straight to the socket.
    private let frameOutput: NIOLoopBound<ChannelHandlerContext>
    private let unwritableBudget: Int
    /// Counts the messages ``send(_:)`` writes (fan-outs count theirs in one go).
    private let messagesSent: Counter
    /// Messages written while the channel was unwritable (touched on its event loop only).
    private let writtenWhileUnwritable = Atomic<Int>(0)
    private let overflowed = Atomic<Bool>(false)
    private let isClosing = Atomic<Bool>(false)
    private let awaitingPong = Atomic<Bool>(false)

    /// Call on the channel's event loop, once its WebSocket handlers are in place.
    init(
        id: Int, userId: String?, countryCode: CountryCode?, dialect: LiveDialect, channel: any Channel, unwritableBudget: Int,
        messagesSent: Counter
    ) throws {
        self.id = id
        self.userId = userId
        self.countryCode = countryCode
        self.dialect = dialect
        self.channel = channel
        self.unwritableBudget = unwritableBudget
        self.messagesSent = messagesSent
        let encoder = try channel.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
        frameOutput = NIOLoopBound(encoder, eventLoop: channel.eventLoop)
    }

    var eventLoop: any EventLoop { channel.eventLoop }

    /// Sends one text message, after everything sent before it. On the channel's event
    /// loop it is written at once, so it also goes out before a close that follows it.
    func send(_ message: ByteBuffer) {
        messagesSent.increment()
        let frame = LiveFrame(text: message)
        guard channel.eventLoop.inEventLoop else {
            channel.eventLoop.execute { if self.write(frame) { self.channel.flush() } }
            return
        }
        if write(frame) { channel.flush() }
    }

    /// Writes a framed message without flushing; call on ``eventLoop``. Returns false when
    /// the connection is closing or was dropped as too slow.
    func write(_ frame: LiveFrame) -> Bool {
        guard !isClosing.load(ordering: .relaxed) else { return false }
        if channel.isWritable {
            writtenWhileUnwritable.store(0, ordering: .relaxed)
        } else if writtenWhileUnwritable.add(1, ordering: .relaxed).newValue > unwritableBudget {
            dropAsSlow()
            return false
        }
        frameOutput.value.write(NIOAny(frame.bytes), promise: nil)
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
            Self.sendClose(on: self.channel, code: code, reason: reason)
        }
    }

    /// Answers the peer's close frame with its code (none if it sent none), then closes; if
    /// the server began the handshake, the peer's answer ends it. Call on ``eventLoop``.
    func peerClosed(code: WebSocketErrorCode?) {
        guard !isClosing.exchange(true, ordering: .relaxed) else {
            channel.close(promise: nil)
            return
        }
        Self.sendClose(on: channel, code: code, reason: "")
    }

    /// Pings the peer; ``closeIfPingUnanswered()`` later checks for its pong.
    func ping() {
        channel.eventLoop.execute {
            guard !self.isClosing.load(ordering: .relaxed) else { return }
            self.awaitingPong.store(true, ordering: .relaxed)
            if self.dialect.pingsInText { self.send(LiveDialect.textPing) }
            self.channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer()), promise: nil)
        }
    }

    /// Closes the connection with 1001 (going away) if the peer has not answered the last
    /// ping: it is gone, but a close frame tells it why if it is only slow.
    func closeIfPingUnanswered() {
        channel.eventLoop.execute {
            guard self.awaitingPong.load(ordering: .relaxed), !self.isClosing.exchange(true, ordering: .relaxed) else { return }
            Self.sendClose(on: self.channel, code: .goingAway, reason: "No answer to ping.")
        }
    }

    /// Notes the peer's answer to the last ping.
    func receivedPong() {
        awaitingPong.store(false, ordering: .relaxed)
    }

    /// Tells an upgraded client why it cannot stay (its token was refused), then closes
    /// with 1008 (policy violation).
    static func refuse(_ channel: any Channel, with error: APIError) {
        let message = LiveServerMessage.error(code: error.code, message: error.message)
        channel.write(WebSocketFrame(fin: true, opcode: .text, data: message), promise: nil)
        sendClose(on: channel, code: .policyViolation, reason: error.code.rawValue)
    }

    /// Closes an upgraded channel that never became a connection.
    static func refuse(_ channel: any Channel, code: WebSocketErrorCode, reason: String) {
        sendClose(on: channel, code: code, reason: reason)
    }

    private static func sendClose(on channel: any Channel, code: WebSocketErrorCode?, reason: String) {
        var data = channel.allocator.buffer(capacity: 2 + reason.utf8.count)
        if let code {
            data.write(webSocketErrorCode: code)
            data.writeString(reason)
        }
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)).whenComplete { _ in
            channel.close(promise: nil)
        }
        channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
    }

    private func dropAsSlow() {
        guard !overflowed.exchange(true, ordering: .relaxed) else { return }
        isClosing.store(true, ordering: .relaxed)
        channel.close(mode: .all, promise: nil)
    }
}
