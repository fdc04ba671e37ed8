import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import PodiumEngine

/// Answers the most frequent requests of a leaderboard server, the first page of a board
/// (`GET /api/leaderboards/{gameId}` with at most `scope`, `country` and `limit`) and seed
/// 004's `GET /api/leaderboard` (no query), on the connection's event loop from the
/// board's page cache, before the request would hop to the router's task. Anything else, and any request it cannot answer with a 200, goes
/// on to the router unchanged, which then also answers the errors.
///
/// It answers only when no earlier request of the connection is still with the router,
/// so the answers of pipelined requests stay in order.
final class FirstPageHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let leaderboards: LeaderboardService
    private let metrics: PodiumMetrics
    private let accessLog: AccessLog
    private let logger: Logger
    /// Requests passed on whose response has not ended yet.
    private var withRouter = 0
    /// Whether the rest of a request answered here (its `.end`) is still to be dropped.
    private var droppingRest = false

    static let route = "/api/leaderboards/{gameId}"
    static let defaultRoute = "/api/leaderboard"
    private static let prefix = "/api/leaderboards/"

    init(leaderboards: LeaderboardService, metrics: PodiumMetrics, accessLog: AccessLog, logger: Logger) {
        self.leaderboards = leaderboards
        self.metrics = metrics
        self.accessLog = accessLog
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            let start = ContinuousClock.now
            if withRouter == 0, let (page, route) = firstPage(for: request) {
                droppingRest = true
                answer(request, with: page, route: route, since: start, context: context)
                return
            }
            withRouter += 1
            context.fireChannelRead(data)
        case .body:
            if !droppingRest { context.fireChannelRead(data) }
        case .end:
            if droppingRest {
                droppingRest = false
            } else {
                context.fireChannelRead(data)
            }
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { withRouter -= 1 }
        context.write(data, promise: promise)
    }

    /// The cached bytes of the page `request` asks for and its route, or nil to let the
    /// router answer.
    private func firstPage(for request: HTTPRequest) -> (ByteBuffer, route: String)? {
        guard request.method == .get, let target = request.path,
            request.headerFields[.authorization] == nil, request.headerFields[.connection] == nil
        else { return nil }
        if target == Self.defaultRoute {
            return (try? leaderboards.encodedDefaultLeaderboard()).map { ($0, Self.defaultRoute) }
        }
        guard target.hasPrefix(Self.prefix) else { return nil }
        let uri = URI(target)
        let gameId = uri.path.dropFirst(Self.prefix.count)
        let query = uri.query
        // Anything that needs decoding or could be read two ways is left to the router.
        guard !gameId.isEmpty, !gameId.contains(where: { $0 == "/" || $0 == "%" }),
            !(query?.contains(where: { $0 == "%" || $0 == "+" }) ?? false)
        else { return nil }
        var scope = LeaderboardScope.global
        var country: CountryCode?
        var limit = 10
        var seen: Set<Substring> = []
        for pair in query?.split(separator: "&") ?? [] {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, seen.insert(parts[0]).inserted else { return nil }
            let value = String(parts[1])
            switch parts[0] {
            case "scope":
                guard let parsed = try? LeaderboardController.scope(value), parsed != .personal else { return nil }
                scope = parsed
            case "country":
                guard let parsed = try? LeaderboardController.country(value) else { return nil }
                country = parsed
            case "limit":
                guard let parsed = Int(value), (1...LeaderboardController.maxLimit).contains(parsed) else { return nil }
                limit = parsed
            default:
                return nil
            }
        }
        return (try? leaderboards.encodedPage(String(gameId), scope: scope, country: country, limit: limit, cursor: nil))
            .map { ($0, Self.route) }
    }

    private func answer(
        _ request: HTTPRequest, with page: ByteBuffer, route: String, since start: ContinuousClock.Instant, context: ChannelHandlerContext
    ) {
        let correlationId = request.headerFields[RequestMiddleware.correlationIdHeader]
        let requestId = RequestMiddleware.requestId(given: request.headerFields[RequestMiddleware.requestIdHeader] ?? correlationId)
        var headers: HTTPFields = [
            .contentType: "application/json; charset=utf-8", .contentLength: String(page.readableBytes),
            .date: HTTPDate.now(), .server: "Podium",
        ]
        headers[RequestMiddleware.requestIdHeader] = requestId
        if correlationId != nil { headers[RequestMiddleware.correlationIdHeader] = requestId }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .ok, headerFields: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(page)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        metrics.firstPagesFromTheEventLoop.increment()
        RequestMiddleware.record(
            method: "GET", route: route, path: String(request.path?.prefix { $0 != "?" } ?? ""), status: 200, since: start,
            requestId: requestId, metrics: metrics, accessLog: accessLog, logger: logger
        )
    }
}
