import Hummingbird
import HummingbirdWebSocket
import NIOWebSocket

/// The WebSocket endpoint `/ws`: reads the client's messages, within a per-connection
/// rate; the hub writes the server's messages straight to the connection's channel.
struct LiveController {
    let hub: LiveHub
    let maxMessageSize: Int

    func addRoutes(to router: Router<PodiumRequestContext>) {
        router.ws("ws") { _, _ in
            guard hub.acceptsConnections else {
                throw APIError(.serviceUnavailable, code: "TOO_MANY_CONNECTIONS", message: "This instance is full.", retryAfter: 5)
            }
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            if let refusal = context.requestContext.authenticationError {
                let message = LiveServerMessage.error(code: refusal.code, message: refusal.message)
                try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: message)))
                try await outbound.close(.policyViolation, reason: refusal.code)
                return
            }
            guard let connection = hub.open(userId: context.requestContext.identity?.userId, channel: context.requestContext.channel) else {
                try await outbound.close(.unknown(1013), reason: "This instance is full.")
                return
            }
            defer { hub.remove(connection) }
            var limiter = TokenBucket(ratePerSecond: Double(hub.configuration.messagesPerSecond), burst: Double(2 * hub.configuration.messagesPerSecond))
            var warned = false
            for try await message in inbound.messages(maxSize: maxMessageSize) {
                guard limiter.take(now: .now) else {
                    // One error per flood, not one per dropped message: replies must not
                    // back up the client's socket.
                    if !warned {
                        connection.send(LiveServerMessage.error(code: "RATE_LIMIT_EXCEEDED", message: "Too many messages; slow down."))
                        warned = true
                    }
                    continue
                }
                warned = false
                guard case .text(let text) = message else {
                    connection.send(LiveServerMessage.error(code: "BAD_MESSAGE", message: "Send JSON text messages."))
                    continue
                }
                hub.handle(text, from: connection)
            }
        }
    }
}
