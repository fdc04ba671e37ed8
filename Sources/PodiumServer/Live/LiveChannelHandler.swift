import NIOCore
import NIOWebSocket

/// The last handler of a live WebSocket: registers the connection with the hub, reads the
/// client's frames with a ``WebSocketReader`` (failing the connection on protocol
/// errors), hands text messages to the hub (within a per-connection rate), answers pings
/// and the close handshake, and forgets the connection when the socket closes.
final class LiveChannelHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let hub: LiveHub
    private let userId: String?
    private let refusal: APIError?
    private var connection: LiveConnection?
    private var reader: WebSocketReader
    private var limiter: TokenBucket
    /// Whether this flood was already answered: one error per flood, not one per dropped
    /// message, so replies cannot back up the client's socket.
    private var warnedOfFlood = false

    init(hub: LiveHub, userId: String?, refusal: APIError?, maxMessageSize: Int) {
        self.hub = hub
        self.userId = userId
        self.refusal = refusal
        reader = WebSocketReader(maxMessageSize: maxMessageSize)
        let rate = Double(hub.configuration.messagesPerSecond)
        limiter = TokenBucket(ratePerSecond: rate, burst: 2 * rate)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if let refusal {
            LiveConnection.refuse(context.channel, with: refusal)
        } else if let connection = try? hub.open(userId: userId, channel: context.channel) {
            self.connection = connection
        } else {
            LiveConnection.refuse(context.channel, code: .unknown(1013), reason: "This instance is full.")
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let connection else { return }
        switch reader.read(unwrapInboundIn(data)) {
        case .text(let text):
            guard limiter.take(now: .now) else {
                if !warnedOfFlood {
                    connection.send(LiveServerMessage.error(code: .rateLimitExceeded, message: "Too many messages; slow down."))
                    warnedOfFlood = true
                }
                return
            }
            warnedOfFlood = false
            hub.handle(text, from: connection)
        case .binary:
            connection.send(LiveServerMessage.error(code: .badMessage, message: "Send JSON text messages."))
        case .pong(let payload):
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: payload)), promise: nil)
        case .receivedPong:
            connection.receivedPong()
        case .close(let code):
            connection.peerClosed(code: code)
        case .fail(let code, let reason):
            connection.close(code, reason: reason)
        case .none:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let connection { hub.remove(connection) }
        connection = nil
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The server allows half-closed sockets (for HTTP); a live client that stops
        // sending has gone.
        if let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Frame errors (too large, fragmented control frames) are answered by NIO's
        // protocol error handler, which closes once its close frame is written.
        if !(error is NIOWebSocketError) { context.close(promise: nil) }
    }
}
