import NIOCore
import NIOWebSocket
import Synchronization

/// One open WebSocket: its identity and its bounded outbox.
///
/// Everything sent to a client goes through the outbox, which one writer task drains. A
/// client that stops reading fills its outbox and is disconnected; the hub never waits
/// for it.
final class LiveConnection: Sendable {
    /// What the writer task does next.
    enum Outbound: Sendable {
        /// A text frame holding a JSON message (shared bytes, not copied per client), and
        /// when it was produced.
        case message(ByteBuffer, producedAt: ContinuousClock.Instant)
        /// A close frame, after which the writer stops.
        case close(WebSocketErrorCode, reason: String)
    }

    let id: Int
    /// The signed-in user, for authenticated connections.
    let userId: String?
    let outbox: AsyncStream<Outbound>
    private let continuation: AsyncStream<Outbound>.Continuation
    private let channel: any Channel
    private let overflowed = Atomic<Bool>(false)

    init(id: Int, userId: String?, channel: any Channel, outboxCapacity: Int) {
        self.id = id
        self.userId = userId
        self.channel = channel
        (outbox, continuation) = AsyncStream.makeStream(of: Outbound.self, bufferingPolicy: .bufferingOldest(outboxCapacity))
    }

    /// Queues a message; returns false (and drops the connection) when the outbox is full.
    @discardableResult
    func send(_ message: ByteBuffer, producedAt: ContinuousClock.Instant = .now) -> Bool {
        switch continuation.yield(.message(message, producedAt: producedAt)) {
        case .enqueued, .terminated: return true
        case .dropped:
            if !overflowed.exchange(true, ordering: .relaxed) {
                continuation.finish()
                channel.close(mode: .all, promise: nil)
            }
            return false
        @unknown default: return true
        }
    }

    /// Whether the connection was dropped for not reading.
    var wasDroppedAsSlow: Bool { overflowed.load(ordering: .relaxed) }

    /// Sends a close frame after what is queued, then stops the writer.
    func close(_ code: WebSocketErrorCode, reason: String) {
        continuation.yield(.close(code, reason: reason))
        continuation.finish()
    }
}
