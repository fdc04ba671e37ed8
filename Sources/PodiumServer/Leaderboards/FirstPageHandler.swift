import Logging
import NIOCore
import NIOHTTP1

/// Answers the most frequent requests of a leaderboard server, the first pages of boards
/// (``FirstPageRequest``: Podium's and every contract's top-N route), right after NIO's
/// HTTP/1 decoder and the connection's guard, from the board's page cache: the cached body
/// and a head written as bytes past the HTTP encoder, with the request id, `Date`, metrics
/// and access-log line every request gets. Hummingbird's conversion to HTTP types, its
/// router and its responder never see these requests. (Writing past the encoder is sound
/// because nothing tells it the requests' methods: ``LiveServerChannel``.)
///
/// Anything else goes on untouched and in order: any method but GET, another HTTP version
/// than 1.1, a request with `Authorization`, `Connection` or `Upgrade`, a target it does not
/// claim, a page that cannot be read (the router answers the error). It answers only when
/// no earlier request of the connection is still with the router, so the answers of
/// pipelined requests stay in order.
final class FirstPageHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// What the handler serves with; one per server.
    struct Pages: Sendable {
        let leaderboards: LeaderboardService
        let metrics: PodiumMetrics
        let accessLog: AccessLog
        let logger: Logger
        /// The metrics series of each route answered here (GET, status 200), in the order of
        /// ``FirstPageRequest/routes``.
        fileprivate let series: [RequestSeries]

        init(leaderboards: LeaderboardService, metrics: PodiumMetrics, accessLog: AccessLog, logger: Logger) {
            self.leaderboards = leaderboards
            self.metrics = metrics
            self.accessLog = accessLog
            self.logger = logger
            series = FirstPageRequest.routes.map { metrics.requestSeries(method: "GET", route: $0, status: 200) }
        }
    }

    /// A request this handler answers, between its head and its end.
    private struct Answering {
        var page: ByteBuffer
        var firstPage: FirstPageRequest
        var target: String
        /// The caller's `X-Request-Id` (or spec 003's `X-Correlation-ID`).
        var givenId: String?
        var isCorrelated: Bool
        var start: ContinuousClock.Instant
    }

    private let pages: Pages
    private let connectionGuard: HTTPConnectionGuard
    /// Where the answer's bytes are written: the HTTP encoder's context, so they go past it.
    private var encoder: ChannelHandlerContext?
    /// Requests passed on whose response has not ended yet.
    private var withRouter = 0
    private var answering: Answering?
    /// The server is shutting down: close once the request being read here is answered.
    private var closesAfterAnswer = false
    /// The last target claimed on this connection and what it asks for: a client reads the
    /// same page again and again.
    private var lastClaim: (target: String, request: FirstPageRequest)?

    private init(pages: Pages, connectionGuard: HTTPConnectionGuard) {
        self.pages = pages
        self.connectionGuard = connectionGuard
    }

    /// Adds the handler after the guard of `channel`'s HTTP pipeline.
    static func install(in channel: any Channel, pages: Pages) throws {
        let pipeline = channel.pipeline.syncOperations
        let connectionGuard = try pipeline.handler(type: HTTPConnectionGuard.self)
        try pipeline.addHandler(FirstPageHandler(pages: pages, connectionGuard: connectionGuard), position: .after(connectionGuard))
    }

    /// Removes the handler from a connection that becomes a WebSocket.
    static func remove(from channel: any Channel) {
        let pipeline = channel.pipeline.syncOperations
        if let context = try? pipeline.context(handlerType: FirstPageHandler.self) { pipeline.removeHandler(context: context, promise: nil) }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        encoder = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        encoder = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            let start = ContinuousClock.now
            if withRouter == 0, encoder != nil, let (request, ids) = claims(head), let page = try? pages.leaderboards.encodedFirstPage(request) {
                answering = Answering(
                    page: page, firstPage: request, target: head.uri, givenId: ids.given, isCorrelated: ids.isCorrelated, start: start
                )
                return
            }
            withRouter += 1
            context.fireChannelRead(data)
        case .body:
            if answering == nil { context.fireChannelRead(data) }
        case .end:
            guard let request = answering else { return context.fireChannelRead(data) }
            answering = nil
            answer(request, context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { withRouter -= 1 }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A connection whose requests were all answered here has no Hummingbird handler
        // to close it when the server shuts down: it is closed here once idle.
        guard event is ChannelShouldQuiesceEvent, withRouter == 0 else { return context.fireUserInboundEventTriggered(event) }
        if answering != nil {
            closesAfterAnswer = true
        } else {
            context.close(promise: nil)
        }
    }

    /// The first page `head` asks for and the request id it brings, if it is a request
    /// this handler may answer.
    private func claims(_ head: HTTPRequestHead) -> (FirstPageRequest, ids: (given: String?, isCorrelated: Bool))? {
        guard head.method == .GET, head.version == .http1_1 else { return nil }
        var requestId: String?
        var correlationId: String?
        // One pass over the headers, comparing names of the right length only.
        for (name, value) in head.headers {
            switch name.utf8.count {
            case 13 where name.utf8.elementsEqualIgnoringASCIICase("Authorization".utf8),
                10 where name.utf8.elementsEqualIgnoringASCIICase("Connection".utf8),
                7 where name.utf8.elementsEqualIgnoringASCIICase("Upgrade".utf8):
                return nil
            case 12 where requestId == nil && name.utf8.elementsEqualIgnoringASCIICase("X-Request-Id".utf8):
                requestId = value
            case 16 where correlationId == nil && name.utf8.elementsEqualIgnoringASCIICase("X-Correlation-ID".utf8):
                correlationId = value
            default:
                continue
            }
        }
        let ids = (given: requestId ?? correlationId, isCorrelated: correlationId != nil)
        if let lastClaim, lastClaim.target == head.uri { return (lastClaim.request, ids) }
        guard let request = FirstPageRequest(target: head.uri) else { return nil }
        lastClaim = (head.uri, request)
        return (request, ids)
    }

    private func answer(_ request: Answering, context: ChannelHandlerContext) {
        guard let encoder else { return }
        let requestId = RequestMiddleware.requestId(given: request.givenId)
        let body = request.page
        var head = context.channel.allocator.buffer(capacity: 256)
        head.writeStaticString("HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ")
        head.writeString(String(body.readableBytes))
        head.writeStaticString("\r\nX-Request-Id: ")
        head.writeString(requestId)
        if request.isCorrelated {
            head.writeStaticString("\r\nX-Correlation-ID: ")
            head.writeString(requestId)
        }
        head.writeStaticString("\r\nDate: ")
        head.writeString(HTTPDate.now())
        head.writeStaticString("\r\nServer: Podium\r\n\r\n")
        encoder.write(NIOAny(IOData.byteBuffer(head)), promise: nil)
        encoder.write(NIOAny(IOData.byteBuffer(body)), promise: nil)
        encoder.flush()
        connectionGuard.responseWrittenPastTheEncoder()
        pages.metrics.firstPagesFromTheEventLoop.increment()
        let duration = ContinuousClock.now - request.start
        pages.series[request.firstPage.routeIndex].record(duration)
        RequestMiddleware.log(
            method: "GET", route: request.firstPage.route, path: String(request.target.prefix { $0 != "?" }), status: 200, duration: duration,
            requestId: requestId, accessLog: pages.accessLog, logger: pages.logger
        )
        if closesAfterAnswer { context.close(promise: nil) }
    }
}

extension Collection<UInt8> {
    /// Whether two ASCII texts are the same but for the case of their letters.
    fileprivate func elementsEqualIgnoringASCIICase(_ other: some Collection<UInt8>) -> Bool {
        count == other.count && zip(self, other).allSatisfy { $0 == $1 || ($0 | 0x20 == $1 | 0x20 && ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A) }
    }
}
