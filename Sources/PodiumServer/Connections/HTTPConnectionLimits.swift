import NIOHTTP1

/// Limits of plain HTTP connections (those not upgraded to WebSocket), with safe defaults.
public struct HTTPConnectionLimits: Sendable {
    /// Open HTTP connections; a connection past it is answered 503 `TOO_MANY_CONNECTIONS`
    /// and closed. Upgraded WebSockets count against `LiveHub.Configuration.maxConnections`
    /// instead.
    public var maxConnections = 512
    /// Time a request head (request line and headers) may take to arrive in full, from
    /// the connection's opening for its first request and from its first byte for the
    /// next ones.
    public var headTimeout = Duration.seconds(10)
    /// Time a request body may take to arrive in full, from the end of its head, plus a
    /// second for every `bodyBytesPerSecond` of it that arrived.
    public var bodyTimeout = Duration.seconds(10)
    /// The rate that keeps a large body arriving (an import of a million players is 70 MB)
    /// within its deadline: each of its bytes earns `1 / bodyBytesPerSecond` seconds. A
    /// trickle still meets the body timeout.
    public var bodyBytesPerSecond = 64 * 1024
    /// Time a kept-alive connection may wait for its next request.
    public var idleTimeout = Duration.seconds(30)
    /// Largest request head, in bytes (larger ones are answered 431).
    public var maxHeadSize = 16 * 1024

    public init() {}

    /// The HTTP decoder's limits for these.
    var decoderLimits: NIOHTTPDecoderLimitConfiguration {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = maxHeadSize
        limits.maxHeaderListSize = maxHeadSize
        return limits
    }
}
