import Hummingbird
import NIOCore

/// The request context of every Podium route: Hummingbird's core storage and the
/// connection's channel (for the caller's address).
public struct PodiumRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel
    /// The signed-in user, set by ``AuthMiddleware``.
    public var identity: Identity?
    /// The request was a HEAD, routed as its GET (``HeadResponder``).
    var answersHead = false

    /// The method the client sent (HEAD for a HEAD routed as a GET).
    func method(of request: Request) -> String { answersHead ? "HEAD" : request.method.rawValue }

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    public var remoteAddress: SocketAddress? { channel.remoteAddress }

    /// Whether the caller connects from this machine.
    var isLoopback: Bool {
        guard let address = channel.remoteAddress?.ipAddress else { return false }
        return address == "127.0.0.1" || address == "::1" || address == "::ffff:127.0.0.1" || address.hasPrefix("127.")
    }
}
