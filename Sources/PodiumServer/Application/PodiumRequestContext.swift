import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The request context of every Podium route: Hummingbird's core storage, the WebSocket
/// handler slot, and the connection's channel (for the caller's address and for closing
/// live connections that stop reading).
public struct PodiumRequestContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    public let channel: any Channel
    /// The signed-in user, set by ``AuthMiddleware``.
    public var identity: Identity?
    /// Why the bearer token of a WebSocket upgrade was refused, if it was.
    var authenticationError: APIError?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.channel = source.channel
    }

    public var remoteAddress: SocketAddress? { channel.remoteAddress }

    /// Whether the caller connects from this machine.
    var isLoopback: Bool {
        guard let address = channel.remoteAddress?.ipAddress else { return false }
        return address == "127.0.0.1" || address == "::1" || address == "::ffff:127.0.0.1" || address.hasPrefix("127.")
    }
}
