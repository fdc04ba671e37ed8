import NIOCore
import NIOHTTP1

/// Guards one HTTP/1.1 connection, right after the HTTP decoder: closes it when a request
/// head or body takes too long to arrive (answering 408 `REQUEST_TIMEOUT`) or when it idles
/// too long between requests, and answers a request that cannot be parsed with 400
/// `BAD_REQUEST` (431 `HEADERS_TOO_LARGE` for an oversized head) in the one error shape,
/// then closes. It holds the connection's slot of ``HTTPConnections`` and gives it back
/// when it is removed: when the connection closes, or when it becomes a WebSocket.
///
/// Its ``ByteObserver``, first in the pipeline, tells it when the first bytes of a request
/// arrive, before the decoder has a head to show.
final class HTTPConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let connections: HTTPConnections
    private var state: StateMachine
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    init(connections: HTTPConnections) {
        self.connections = connections
        state = StateMachine(limits: connections.limits)
    }

    /// Adds the guard after the HTTP decoder of `channel`, and its observer first. The
    /// guard owns the connection's slot from here.
    static func install(in channel: any Channel, connections: HTTPConnections) throws {
        let pipeline = channel.pipeline.syncOperations
        let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
        let guardHandler = HTTPConnectionGuard(connections: connections)
        try pipeline.addHandler(ByteObserver(guardHandler), position: .first)
        try pipeline.addHandler(guardHandler, position: .after(decoder))
    }

    /// Removes the guard and its observer from a connection that becomes a WebSocket.
    static func remove(from channel: any Channel) {
        let pipeline = channel.pipeline.syncOperations
        for context in [try? pipeline.context(handlerType: ByteObserver.self), try? pipeline.context(handlerType: HTTPConnectionGuard.self)] {
            if let context { pipeline.removeHandler(context: context, promise: nil) }
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        perform(state.opened(now: .now()), context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
        connections.release()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !state.isClosing else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            // HTTP/0.9 and other versions than 1.x are not served.
            guard head.version.major == 1 else { return perform(state.parseError(.invalidVersion), context: context) }
            perform(state.headReceived(now: .now(), keepAlive: head.isKeepAlive, http10: head.version == .http1_0), context: context)
        case .body(let bytes): state.bodyReceived(count: bytes.readableBytes)
        case .end:
            let action = state.endReceived()
            context.fireChannelRead(data)
            return perform(action, context: context)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            guard head.status.code >= 200, state.responseHeadSent(), !head.headers.contains(name: "connection") else {
                return context.write(data, promise: promise)
            }
            var echoed = head
            echoed.headers.add(name: "Connection", value: "keep-alive")
            context.write(wrapOutboundOut(.head(echoed)), promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            context.write(data, promise: promise)
            perform(state.responseEnded(now: .now()), context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case let error as HTTPParserError:
            let action = state.parseError(error)
            if action == .forward { context.fireErrorCaught(error) } else { perform(action, context: context) }
        case is ByteToMessageDecoderError where state.isClosing:
            // Bytes after an unreadable request: the decoder refuses them, and they are dropped.
            break
        default:
            context.fireErrorCaught(error)
        }
    }

    /// The next handler (``FirstPageHandler``) answered the request it read with bytes
    /// written past the HTTP encoder: the response went out as if its parts had passed here.
    func responseWrittenPastTheEncoder() {
        guard let context else { return }
        _ = state.responseHeadSent()
        perform(state.responseEnded(now: .now()), context: context)
    }

    /// The observer saw bytes arrive.
    fileprivate func bytesReceived() {
        guard let context else { return }
        perform(state.bytesReceived(now: .now()), context: context)
    }

    private func perform(_ action: StateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none, .forward:
            break
        case .schedule(let deadline):
            arm(deadline, context: context)
        case .answer(let error):
            answer(error, context: context)
            context.closeLingering()
        case .cutBody(let error):
            context.fireErrorCaught(APIError(.requestTimeout, "The request body took too long to arrive."))
            if let error {
                answer(error, context: context)
                context.closeLingering()
            } else {
                context.close(promise: nil)
            }
        case .closeAfterAnswer:
            context.closeLingering()
        case .close:
            context.close(promise: nil)
        }
    }

    /// Keeps one timer: an earlier deadline replaces it; a later one waits for it to fire.
    private func arm(_ deadline: NIODeadline, context: ChannelHandlerContext) {
        if let timerDeadline, timerDeadline <= deadline, timer != nil { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timer = nil
            guard let context = self.context else { return }
            self.perform(self.state.timerFired(now: .now()), context: context)
        }
    }

    private func answer(_ error: APIError, context: ChannelHandlerContext) {
        let requestId = RequestIdentifiers.next()
        let body = error.body
        var headers = HTTPHeaders([
            ("Content-Type", "application/json; charset=utf-8"), ("Content-Length", String(body.readableBytes)), ("Connection", "close"),
        ])
        headers.add(name: RequestMiddleware.requestIdHeader.rawName, value: requestId)
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: error.status.code), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        RequestMiddleware.record(
            method: "-", route: "unmatched", path: "-", status: error.status.code, since: .now, requestId: requestId,
            metrics: connections.metrics, accessLog: .everything, logger: connections.logger
        )
    }
}

extension HTTPConnectionGuard {
    /// The first handler of an HTTP connection: tells the guard that bytes arrived.
    final class ByteObserver: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer

        private let connectionGuard: HTTPConnectionGuard

        fileprivate init(_ connectionGuard: HTTPConnectionGuard) {
            self.connectionGuard = connectionGuard
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            connectionGuard.bytesReceived()
            context.fireChannelRead(data)
        }
    }
}
