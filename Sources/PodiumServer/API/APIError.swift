import Hummingbird
import NIOCore

/// The one error shape of every Podium response:
/// `{"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "…", "retryAfter": 12}}`.
public struct APIError: HTTPResponseError, Sendable, Equatable {
    /// Machine-readable code from the catalogue, such as `VALIDATION_ERROR`.
    public let code: ErrorCode
    public let message: String
    /// Seconds until a retry may succeed (429 and 503).
    public let retryAfter: Int?
    /// Whether the body also says `"success": false` (the envelope of specs 002 and 003,
    /// on every route under `/api/v1/`).
    public var reportsSuccess = false
    /// A status other than the code's, where a contract's spec gives one (spec 004's 400
    /// `ALREADY_COMPLETED`).
    public var statusOverride: HTTPResponse.Status?

    public init(_ code: ErrorCode, _ message: String, retryAfter: Int? = nil) {
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    /// The code's status, unless a contract overrides it.
    public var status: HTTPResponse.Status { statusOverride ?? code.status }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    /// The JSON body.
    var body: ByteBuffer {
        var json = JSONWriter()
        json.beginObject()
        if reportsSuccess { json.field("success", false) }
        json.key("error")
        json.beginObject()
        json.field("code", code.rawValue)
        json.field("message", message)
        if let retryAfter { json.field("retryAfter", Int64(retryAfter)) }
        json.endObject()
        json.endObject()
        return json.buffer
    }
}

extension APIError {
    public static func validation(_ message: String) -> APIError {
        APIError(.validationError, message)
    }

    public static func gameNotFound(_ gameId: String) -> APIError {
        APIError(.gameNotFound, "There is no game '\(gameId)'.")
    }

    public static func playerNotFound(_ userId: String) -> APIError {
        APIError(.playerNotFound, "Player '\(userId)' has no entry on this board.")
    }

    public static func unauthorized(_ message: String) -> APIError {
        APIError(.unauthorized, message)
    }

    public static func forbidden(_ message: String) -> APIError {
        APIError(.forbidden, message)
    }

    public static func payloadTooLarge(limit: Int) -> APIError {
        APIError(.payloadTooLarge, "The request body is larger than \(limit) bytes.")
    }

    public static func rateLimited(retryAfter: Int) -> APIError {
        APIError(.rateLimitExceeded, "Too many requests; retry later.", retryAfter: retryAfter)
    }

    public static func storageUnavailable(_ message: String) -> APIError {
        APIError(.storageUnavailable, message, retryAfter: 1)
    }

    public static func notFound(_ message: String) -> APIError {
        APIError(.notFound, message)
    }
}

extension APIError {
    /// The JSON form of Hummingbird's own errors (no route, body too large, …).
    init(_ error: HTTPError) {
        switch error.status {
        case .notFound: self = .notFound(error.body ?? "No such route.")
        case .contentTooLarge: self.init(.payloadTooLarge, error.body ?? "The request body is too large.")
        case .methodNotAllowed: self.init(.methodNotAllowed, "This route does not accept that method.")
        case .unauthorized: self = .unauthorized(error.body ?? "Sign in first.")
        case .badRequest: self = .validation(error.body ?? "The request is not valid.")
        default: self.init(error.status.code < 500 ? .badRequest : .internalError, error.body ?? error.status.reasonPhrase)
        }
    }
}
