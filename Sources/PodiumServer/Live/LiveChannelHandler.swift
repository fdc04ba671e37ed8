import NIOCore
import NIOWebSocket

/// The last handler of a live WebSocket: registers the connection with the hub, hands
/// the client's text messages to it (within a per-connection rate), answers pings and
/// the close handshake, and forgets the connection when the socket closes.
final class LiveChannelHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let hub: LiveHub
    private let userId: String?
    private let refusal: APIError?
    private var connection: LiveConnection?
    private var limiter: TokenBucket
    /// Whether this flood was already answered: one error per flood, not one per dropped
    /// message, so replies cannot back up the client's socket.
    private var warnedOfFlood = false

    init(hub: LiveHub, userId: String?, refusal: APIError?) {
        self.hub = hub
        self.userId = userId
        self.refusal = refusal
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
        let frame = unwrapInboundIn(data)
        guard let connection else { return }
        switch frame.opcode {
        case .text:
            guard limiter.take(now: .now) else {
                if !warnedOfFlood {
                    connection.send(LiveServerMessage.error(code: "RATE_LIMIT_EXCEEDED", message: "Too many messages; slow down."))
                    warnedOfFlood = true
                }
                return
            }
            warnedOfFlood = false
            hub.handle(String(buffer: frame.unmaskedData), from: connection)
        case .binary:
            connection.send(LiveServerMessage.error(code: "BAD_MESSAGE", message: "Send JSON text messages."))
        case .ping:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .pong:
            connection.receivedPong()
        case .connectionClose:
            connection.peerClosed(echoing: frame.unmaskedData)
        default:
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
        // Frame errors were answered by NIO's protocol error handler; a message whose
        // fragments add up to too much is answered here.
        if error is NIOWebSocketFrameAggregator.Error, let connection {
            connection.close(.messageTooLarge, reason: "Messages are limited in size.")
        } else {
            context.close(promise: nil)
        }
    }
}
