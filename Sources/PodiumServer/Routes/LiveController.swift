import Hummingbird
import HummingbirdWebSocket
import NIOWebSocket

/// The WebSocket endpoint `/ws`: one writer task drains the connection's outbox while
/// the reader handles the client's messages, within a per-connection rate.
struct LiveController {
    let hub: LiveHub
    let metrics: PodiumMetrics
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
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await item in connection.outbox {
                        switch item {
                        case .message(let buffer, let producedAt):
                            try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: buffer)))
                            metrics.deliveryLatency.record(.now - producedAt)
                        case .close(let code, let reason):
                            try await outbound.close(code, reason: reason)
                            return
                        }
                    }
                }
                group.addTask {
                    var limiter = TokenBucket(ratePerSecond: Double(hub.configuration.messagesPerSecond), burst: Double(2 * hub.configuration.messagesPerSecond))
                    var warned = false
                    for try await message in inbound.messages(maxSize: maxMessageSize) {
                        guard limiter.take(now: .now) else {
                            // One error per flood, not one per dropped message: replies must not
                            // fill the client's outbox.
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
                try await group.next()
                group.cancelAll()
            }
        }
    }
}
