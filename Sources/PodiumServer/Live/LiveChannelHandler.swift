import Foundation
import Logging
import NIOCore
import NIOWebSocket

/// The last handler of a live WebSocket: registers the connection with the hub, reads the
/// client's frames with a ``WebSocketReader`` (failing the connection on protocol
/// errors), hands text messages to the hub (within a per-connection rate), answers pings
/// and the close handshake, and forgets the connection when the socket closes. A spec 004
/// connection that came without a token is registered once its first frame's token is
/// verified (``FirstFrameSignIn``).
final class LiveChannelHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let hub: LiveHub
    private let identity: Identity?
    private let dialect: LiveDialect
    private let refusal: APIError?
    private var signIn: FirstFrameSignIn?
    private var connection: LiveConnection?
    private var reader: WebSocketReader
    private var limiter: TokenBucket
    /// Whether this flood was already answered: one error per flood, not one per dropped
    /// message, so replies cannot back up the client's socket.
    private var warnedOfFlood = false

    init(hub: LiveHub, identity: Identity?, dialect: LiveDialect, refusal: APIError?, signIn: FirstFrameSignIn?, maxMessageSize: Int) {
        self.hub = hub
        self.identity = identity
        self.dialect = dialect
        self.refusal = refusal
        self.signIn = signIn
        reader = WebSocketReader(maxMessageSize: maxMessageSize)
        let rate = Double(hub.configuration.messagesPerSecond)
        limiter = TokenBucket(ratePerSecond: rate, burst: 2 * rate)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if let refusal {
            LiveConnection.refuse(context.channel, with: refusal)
        } else if let signIn {
            signIn.closeUnlessSignedIn(context.channel)
        } else {
            open(as: identity, context: context)
        }
    }

    private func open(as identity: Identity?, context: ChannelHandlerContext) {
        if let connection = try? hub.open(identity: identity, dialect: dialect, channel: context.channel) {
            self.connection = connection
        } else {
            LiveConnection.refuse(context.channel, code: .unknown(1013), reason: "This instance is full.")
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let read = reader.read(unwrapInboundIn(data))
        guard let connection else {
            switch read {
            case .text(let text): signIn(with: text, context: context)
            case .pong(let payload): context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: payload)), promise: nil)
            case .close, .fail: context.close(promise: nil)
            default: break
            }
            return
        }
        switch read {
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

    /// Checks the token of a spec 004 client's first frame, then opens its connection (or
    /// tells it why not and closes with 1008). Later frames before the answer are dropped.
    private func signIn(with text: String, context: ChannelHandlerContext) {
        guard let signIn else { return }
        self.signIn = nil
        let handler = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        signIn.verify(firstFrame: text, on: context.eventLoop).whenComplete { result in
            let (handler, context) = handler.value
            switch result {
            case .success(let identity): handler.open(as: identity, context: context)
            case .failure(let error): LiveConnection.refuse(context.channel, with: error as? APIError ?? .unauthorized("The access token is not valid."))
            }
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

/// Spec 004's sign-in by the first frame (`{"type":"AUTH","token":"…"}`, or any object with
/// a `token`), for a connection that came without a token: the frame must arrive within
/// `deadline` and carry a valid token.
struct FirstFrameSignIn: Sendable {
    let authenticator: Authenticator
    let logger: Logger
    var deadline = TimeAmount.seconds(10)

    /// The identity of the first frame's token.
    func verify(firstFrame text: String, on eventLoop: any EventLoop) -> EventLoopFuture<Identity> {
        guard let message = try? JSONDecoder().decode(ContractClientMessage.self, from: Data(text.utf8)), let token = message.token else {
            return eventLoop.makeFailedFuture(APIError.unauthorized("Send the access token first: {\"type\":\"AUTH\",\"token\":\"…\"}."))
        }
        return eventLoop.makeFutureWithTask { [authenticator, logger] in try await authenticator.identity(for: token, logger: logger) }
    }

    /// Closes the connection with 1008 if it has not signed in by the deadline.
    func closeUnlessSignedIn(_ channel: any Channel) {
        channel.eventLoop.scheduleTask(in: deadline) {
            guard (try? channel.pipeline.syncOperations.handler(type: LiveChannelHandler.self))?.isWaitingForSignIn == true else { return }
            LiveConnection.refuse(channel, with: .unauthorized("No access token within \(deadline.nanoseconds / 1_000_000_000) s."))
        }
    }
}

extension LiveChannelHandler {
    /// Whether the connection has not signed in yet (nor sent its first frame).
    fileprivate var isWaitingForSignIn: Bool { connection == nil && signIn != nil }
}
