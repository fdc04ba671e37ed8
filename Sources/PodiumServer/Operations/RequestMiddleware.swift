import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOHTTP1
import PodiumEngine
import Synchronization

/// The outermost middleware: gives every request an id (the caller's `X-Request-Id` or a
/// new one) that is returned on the response and carried in every log line of the work,
/// turns every error into the one JSON error shape, logs one line per request (reads as
/// sampled by ``AccessLog``) and records the request metrics.
struct RequestMiddleware: RouterMiddleware {
    typealias Context = PodiumRequestContext
    let metrics: PodiumMetrics
    let accessLog: AccessLog

    static let requestIdHeader = HTTPField.Name("X-Request-Id")!
    /// Spec 003's name for the request id: taken when sent, and echoed under that name.
    static let correlationIdHeader = HTTPField.Name("X-Correlation-ID")!
    /// Paths whose errors carry `"success": false` (specs 002 and 003).
    static let successEnvelopePrefix = "/api/v1/"
    static let submissionRoutes: Set<String> = [
        "/score", "/api/scores/submit", "/api/actions/complete", "/api/action/complete", "/users/{userId}/actions/{actionId}",
        "/api/v1/scores/update",
    ]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let correlationId = request.headers[Self.correlationIdHeader]
        let requestId = Self.requestId(given: request.headers[Self.requestIdHeader] ?? correlationId)
        var context = context
        context.logger[metadataKey: "request_id"] = .string(requestId)
        var response: Response
        var errorCode: String?
        do {
            response = try await next(request, context)
        } catch {
            var apiError = Self.apiError(answering: error, logger: context.logger)
            apiError.reportsSuccess = request.uri.path.hasPrefix(Self.successEnvelopePrefix)
            errorCode = apiError.code.rawValue
            response = try apiError.response(from: request, context: context)
        }
        response.headers[Self.requestIdHeader] = requestId
        if correlationId != nil { response.headers[Self.correlationIdHeader] = requestId }
        let route = Self.routeLabel(endpointPath: context.endpointPath)
        Self.record(
            method: context.method(of: request), route: route, path: request.uri.path, status: response.status.code, since: start,
            requestId: requestId, metrics: metrics, accessLog: accessLog, logger: context.logger
        )
        if Self.submissionRoutes.contains(route) {
            metrics.recordSubmission(route: route, outcome: response.status == .ok ? "accepted" : errorCode ?? "HTTP_\(response.status.code)")
        }
        return response
    }

    /// The error in the one JSON shape that answers a request that failed with `error`.
    private static func apiError(answering error: any Error, logger: Logger) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as HTTPError:
            return APIError(error)
        case let error as HTTPParserError:
            // The client sent a broken request or went away in the middle of its body.
            logger.debug("request not read", metadata: ["error": "\(error)"])
            return APIError(.badRequest, "The request could not be read: \(error).")
        case let error as BoardError:
            return APIError(error)
        case let error as StoreError:
            logger.warning("the store failed", metadata: ["error": "\(error)"])
            return APIError.storageUnavailable("The data store is unavailable right now.")
        case is CancellationError:
            // Cut off by the end of the shutdown grace period.
            return APIError(.shuttingDown, "The server is shutting down.")
        default:
            logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return APIError(.internalError, "The server failed to handle this request.")
        }
    }

    /// The request metrics and the one log line of a finished request (if `accessLog` keeps
    /// it): for the router's requests, and for those answered before the router (first
    /// pages on the event loop, WebSocket upgrades, unreadable requests).
    static func record(
        method: String, route: String, path: String, status: Int, since start: ContinuousClock.Instant, requestId: String,
        metrics: PodiumMetrics, accessLog: AccessLog, logger: Logger
    ) {
        let duration = ContinuousClock.now - start
        metrics.recordRequest(method: method, route: route, status: status, duration: duration)
        log(method: method, route: route, path: path, status: status, duration: duration, requestId: requestId, accessLog: accessLog, logger: logger)
    }

    /// The one log line of a finished request, if `accessLog` keeps it.
    static func log(
        method: String, route: String, path: @autoclosure () -> String, status: Int, duration: Duration, requestId: String,
        accessLog: AccessLog, logger: Logger
    ) {
        guard accessLog.logs(method: method, status: status) else { return }
        logger.info(
            "request",
            metadata: [
                "method": .string(method), "route": .string(route), "path": .string(path()), "status": .stringConvertible(status),
                "duration_ms": .string(milliseconds(duration)), "request_id": .string(requestId),
            ]
        )
    }

    /// The route of a request in metrics and log lines: the router's path pattern,
    /// `static` for a file of the web pages (Hummingbird's FileMiddleware), or `unmatched`
    /// (also what the first-page and upgrade paths say for a path they do not serve).
    static func routeLabel(endpointPath: String?) -> String {
        switch endpointPath {
        case "FileMiddleware": "static"
        case nil, "NotFound": "unmatched"
        case let path?: path
        }
    }

    /// The caller's request id when it is a sane token, else a new one.
    static func requestId(given: String?) -> String {
        if let given, (1...128).contains(given.utf8.count), given.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) {
            return given
        }
        return RequestIdentifiers.next()
    }

    /// A duration in milliseconds with two decimals, for log lines.
    private static func milliseconds(_ duration: Duration) -> String {
        let hundredths = duration.components.seconds * 100_000 + duration.components.attoseconds / 10_000_000_000_000
        let fraction = hundredths % 100
        return String(hundredths / 100) + (fraction < 10 ? ".0" : ".") + String(fraction)
    }
}

/// Request ids unique across processes and cheap to make: a random 64-bit process prefix
/// and a counter (`"9f3a6c0e1b2d4f58-0000002a"`), with no random draw per request.
enum RequestIdentifiers {
    private static let prefix = Array(hex(UInt64.random(in: .min ... .max), digits: 16) + [UInt8(ascii: "-")])
    private static let counter = Atomic<UInt64>(0)

    static func next() -> String {
        let number = counter.add(1, ordering: .relaxed).newValue
        return String(decoding: prefix + hex(number, digits: max(8, (64 - number.leadingZeroBitCount + 3) / 4)), as: UTF8.self)
    }

    /// `value` in lowercase hexadecimal, zero-padded to `digits`.
    private static func hex(_ value: UInt64, digits: Int) -> [UInt8] {
        (0..<digits).reversed().map { digit in
            let nibble = UInt8(truncatingIfNeeded: value >> (UInt64(digit) * 4)) & 0x0F
            return nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
        }
    }
}
