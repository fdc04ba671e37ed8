import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket

/// Every accepted connection: HTTP/1.1 served by the router (within the limits that
/// ``HTTPConnectionGuard`` keeps), or, for an upgrade request to a live path (`/ws`, `/`
/// and the contracts' paths, ``LiveDialect``), a live WebSocket
/// served by channel handlers alone (``LiveChannelHandler``). A connection past the HTTP
/// cap is answered 503 at once and closed.
///
/// A live connection is the channel, its pipeline and one ``LiveConnection``: no task, no
/// async stream and no timer per connection, so an idle subscriber costs a few kilobytes
/// and a fan-out is a loop of socket writes on each event loop.
struct LiveServerChannel: ServerChildChannel, HTTPChannelHandler {
    /// What the first request of a connection turned it into.
    enum Negotiated: Sendable {
        case live
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// An upgrade request that was turned down; NIO has consumed its head, so the
        /// answer is written here rather than by the router.
        case refusedUpgrade(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, LiveUpgrades.Admission, APIError)
        /// A connection past the HTTP cap: its ``ConnectionRefusalHandler`` answers and
        /// closes it.
        case refused
    }

    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    let upgrades: LiveUpgrades
    let connections: HTTPConnections
    /// What ``FirstPageHandler`` serves; nil sends first pages through the router too.
    let firstPages: FirstPageHandler.Pages?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            guard connections.admit() else {
                try channel.pipeline.syncOperations.addHandler(ConnectionRefusalHandler())
                return Value(negotiated: channel.eventLoop.makeSucceededFuture(.refused), channel: channel)
            }
            let admission = NIOLoopBoundBox<LiveUpgrades.Admission?>(nil, eventLoop: channel.eventLoop)
            let upgrader = NIOTypedWebSocketServerUpgrader<Negotiated>(
                maxFrameSize: upgrades.maxFrameSize,
                shouldUpgrade: { channel, head in
                    upgrades.admit(head, on: channel).map { decision in
                        admission.value = decision
                        if case .refused = decision.outcome { return nil }
                        // A WebSocket from here: the hub counts it and its pings time it.
                        HTTPConnectionGuard.remove(from: channel)
                        FirstPageHandler.remove(from: channel)
                        var headers = HTTPHeaders([(RequestMiddleware.requestIdHeader.rawName, decision.requestId)])
                        if let subprotocol = decision.subprotocol { headers.add(name: "Sec-WebSocket-Protocol", value: subprotocol) }
                        return headers
                    }
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard let decision = admission.value else { throw NIOWebSocketUpgradeError.unsupportedWebSocketTarget }
                        try upgrades.start(decision, on: channel)
                        return .live
                    }
                }
            )
            // Requests that are not upgrades go to the router.
            let configuration = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try pipeline.addHandler(HTTPConnectionStateHandler(logger: logger))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        if let decision = admission.value, case .refused(let error) = decision.outcome {
                            return .refusedUpgrade(http, decision, error)
                        }
                        return .http(http)
                    }
                }
            )
            let negotiated: EventLoopFuture<Negotiated>
            do {
                negotiated = try Self.configureHTTP(channel, upgrades: configuration, limits: connections.limits)
                try HTTPConnectionGuard.install(in: channel, connections: connections)
                if let firstPages { try FirstPageHandler.install(in: channel, pages: firstPages) }
            } catch {
                connections.release()
                throw error
            }
            return Value(negotiated: negotiated, channel: channel)
        }
    }

    /// NIO's HTTP/1 server pipeline with the upgrade handler, as Hummingbird's own channels
    /// have it (its async channel handles pipelining and errors, and HTTP types validate
    /// response headers), except that the decoder does not tell the encoder each request's
    /// method: ``FirstPageHandler`` writes its answers past the encoder, and HEAD answers
    /// lose their body in ``HeadResponder`` instead.
    private static func configureHTTP(
        _ channel: any Channel, upgrades: NIOTypedHTTPServerUpgradeConfiguration<Negotiated>, limits: HTTPConnectionLimits
    ) throws -> EventLoopFuture<Negotiated> {
        let pipeline = channel.pipeline.syncOperations
        let encoder = HTTPResponseEncoder()
        let decoder = ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes, limitConfiguration: limits.decoderLimits))
        try pipeline.addHandler(encoder)
        try pipeline.addHandler(decoder)
        let upgrader = NIOTypedHTTPServerUpgradeHandler(httpEncoder: encoder, extraHTTPHandlers: [decoder], upgradeConfiguration: upgrades)
        try pipeline.addHandler(upgrader)
        return upgrader.upgradeResultFuture
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .live, .refused:
                // These need nothing more from this task: their handlers run them.
                break
            case .http(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .refusedUpgrade(let http, let admission, let error):
                await upgrades.answer(http, refused: admission, with: error)
            }
        } catch {
            logger.debug("connection ended before its first request was handled", metadata: ["error": "\(error)"])
        }
    }
}

/// Decides WebSocket upgrades, starts the live connections they open and answers the
/// ones it refuses.
struct LiveUpgrades: Sendable {
    /// What becomes of one upgrade request.
    struct Admission: Sendable {
        enum Outcome: Sendable {
            /// A live connection of `identity` (nil: anonymous, or a spec 004 client that
            /// signs in with its first frame).
            case live(identity: Identity?)
            /// A live connection that is told why its token was refused, then closed:
            /// browsers cannot read the answer to a refused upgrade.
            case tokenRefused(APIError)
            /// No upgrade: the instance is full, the path is not a live one, or a contract
            /// that needs a token at the upgrade got none or a bad one.
            case refused(APIError)
        }

        var outcome: Outcome
        var requestId: String
        var path: String
        /// The contract of the path (Podium's for an unknown one, which is refused).
        var dialect: LiveDialect
        /// The first subprotocol the client offered in `Sec-WebSocket-Protocol`, echoed back
        /// as browsers require (spec 001 sends its JWT there).
        var subprotocol: String?
        var start: ContinuousClock.Instant
    }

    let hub: LiveHub
    let authenticator: Authenticator
    let metrics: PodiumMetrics
    let accessLog: AccessLog
    let maxFrameSize: Int
    let logger: Logger

    /// The admission of an upgrade request (checking its token, if it has one).
    func admit(_ head: HTTPRequestHead, on channel: any Channel) -> EventLoopFuture<Admission> {
        let uri = URI(head.uri)
        let path = uri.path
        let offered = head.headers[canonicalForm: "Sec-WebSocket-Protocol"].map(String.init)
        var admission = Admission(
            outcome: .live(identity: nil),
            requestId: RequestMiddleware.requestId(
                given: head.headers.first(name: RequestMiddleware.requestIdHeader.rawName)
                    ?? head.headers.first(name: RequestMiddleware.correlationIdHeader.rawName)
            ),
            path: path,
            dialect: LiveDialect(path: path) ?? .podium,
            subprotocol: offered.first,
            start: .now
        )
        guard LiveDialect(path: path) != nil else {
            admission.outcome = .refused(APIError(.notFound, "WebSockets are served at /ws and the paths of docs/compatibility.md."))
            return channel.eventLoop.makeSucceededFuture(admission)
        }
        guard hub.acceptsConnections else {
            admission.outcome = .refused(
                APIError(.tooManyConnections, "This instance is full.", retryAfter: 5)
            )
            return channel.eventLoop.makeSucceededFuture(admission)
        }
        let token =
            Authenticator.bearerToken(ofAuthorization: head.headers.first(name: "Authorization"))
            ?? uri.queryParameters["token"].map(String.init)
            ?? offered.first(where: Self.looksLikeJWT)
        let refusesAtUpgrade = admission.dialect.tokenPolicy == .requiredAtUpgrade
        guard let token else {
            if refusesAtUpgrade {
                admission.outcome = .refused(
                    .unauthorized("This socket needs an access token: ?token=, Authorization: Bearer or Sec-WebSocket-Protocol.")
                )
            }
            return channel.eventLoop.makeSucceededFuture(admission)
        }
        var requestLogger = logger
        requestLogger[metadataKey: "request_id"] = .string(admission.requestId)
        return channel.eventLoop.makeFutureWithTask { [authenticator, admission, requestLogger] in
            var admission = admission
            do {
                admission.outcome = .live(identity: try await authenticator.identity(for: token, logger: requestLogger))
            } catch {
                let refusal = error as? APIError ?? .unauthorized("The access token is not valid.")
                admission.outcome = refusesAtUpgrade ? .refused(refusal) : .tokenRefused(refusal)
            }
            return admission
        }
    }

    /// Whether an offered subprotocol is a JWT (three base64url parts) rather than a name.
    private static func looksLikeJWT(_ text: String) -> Bool {
        text.split(separator: ".", omittingEmptySubsequences: false).count == 3 && text.utf8.count > 20
    }

    /// Adds the live handlers to an upgraded channel.
    func start(_ admission: Admission, on channel: any Channel) throws {
        let (identity, refusal): (Identity?, APIError?) =
            switch admission.outcome {
            case .live(let identity): (identity, nil)
            case .tokenRefused(let error), .refused(let error): (nil, error)
            }
        let signsInWithFirstFrame = identity == nil && admission.dialect.tokenPolicy == .requiredAtUpgradeOrFirstFrame
        var requestLogger = logger
        requestLogger[metadataKey: "request_id"] = .string(admission.requestId)
        try channel.pipeline.syncOperations.addHandler(
            LiveChannelHandler(
                hub: hub, identity: identity, dialect: admission.dialect, refusal: refusal,
                signIn: signsInWithFirstFrame ? FirstFrameSignIn(authenticator: authenticator, logger: requestLogger) : nil,
                maxMessageSize: maxFrameSize
            )
        )
        record(admission, status: 101)
    }

    /// Answers a refused upgrade with the one error shape and closes the connection.
    func answer(_ http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, refused admission: Admission, with error: APIError) async {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .connection: "close"]
        headers[RequestMiddleware.requestIdHeader] = admission.requestId
        if let retryAfter = error.retryAfter { headers[.retryAfter] = String(retryAfter) }
        let body = error.body
        headers[.contentLength] = String(body.readableBytes)
        do {
            try await http.executeThenClose { _, outbound in
                try await outbound.write(contentsOf: [.head(HTTPResponse(status: error.status, headerFields: headers)), .body(body), .end(nil)])
            }
        } catch {
            logger.debug("cannot answer a refused upgrade", metadata: ["error": "\(error)"])
        }
        record(admission, status: error.status.code)
    }

    /// The metrics and log line of an upgrade request, as for every request.
    private func record(_ admission: Admission, status: Int) {
        RequestMiddleware.record(
            method: "GET", route: LiveDialect(path: admission.path) != nil ? admission.path : "unmatched", path: admission.path, status: status,
            since: admission.start, requestId: admission.requestId, metrics: metrics, accessLog: accessLog, logger: logger
        )
    }
}
