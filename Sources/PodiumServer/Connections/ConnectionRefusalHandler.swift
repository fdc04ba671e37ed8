import NIOCore

/// The only handler of a connection accepted past the HTTP cap: answers 503
/// `TOO_MANY_CONNECTIONS` at once, without reading the request, and closes.
final class ConnectionRefusalHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var answered = false

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // The request is not read.
    }

    private func refuse(_ context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        let error = APIError(.tooManyConnections, "This instance is full.", retryAfter: 5)
        let body = error.body
        var response = context.channel.allocator.buffer(capacity: 256 + body.readableBytes)
        response.writeString(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
                + "Content-Length: \(body.readableBytes)\r\nRetry-After: 5\r\nConnection: close\r\n"
                + "X-Request-Id: \(RequestIdentifiers.next())\r\n\r\n"
        )
        response.writeImmutableBuffer(body)
        context.writeAndFlush(wrapOutboundOut(response), promise: nil)
        context.closeLingering()
    }
}
