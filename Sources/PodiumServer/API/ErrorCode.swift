import HTTPTypes

/// Every error code Podium answers with, and the HTTP status it goes with: the one
/// catalogue. docs/api.md lists each (a test holds them together). Codes sent only over
/// the WebSocket carry the status the same mistake gets over HTTP.
public enum ErrorCode: String, CaseIterable, Sendable {
    // 400
    case validationError = "VALIDATION_ERROR"
    case badRequest = "BAD_REQUEST"
    case scoreOutOfRange = "SCORE_OUT_OF_RANGE"
    case invalidAction = "INVALID_ACTION"
    case implausibleScore = "IMPLAUSIBLE_SCORE"
    /// WebSocket only: a message that is not a JSON object with a `type`.
    case badMessage = "BAD_MESSAGE"
    /// WebSocket only: a message of a type the server does not know.
    case unknownType = "UNKNOWN_TYPE"
    /// WebSocket only: a subscription past the per-connection limit of games.
    case subscriptionLimit = "SUBSCRIPTION_LIMIT"
    /// Spec 003: a score token that is not one of Podium's.
    case invalidToken = "INVALID_TOKEN"
    // 401
    case unauthorized = "UNAUTHORIZED"
    case tokenExpired = "TOKEN_EXPIRED"
    // 403
    case forbidden = "FORBIDDEN"
    case banned = "BANNED"
    case sessionMismatch = "SESSION_MISMATCH"
    /// Spec 003: a score token issued to another user.
    case tokenUserMismatch = "TOKEN_USER_MISMATCH"
    // 404
    case notFound = "NOT_FOUND"
    case gameNotFound = "GAME_NOT_FOUND"
    case playerNotFound = "PLAYER_NOT_FOUND"
    case periodNotFound = "PERIOD_NOT_FOUND"
    // 405
    case methodNotAllowed = "METHOD_NOT_ALLOWED"
    // 408
    case requestTimeout = "REQUEST_TIMEOUT"
    // 409
    case sessionConsumed = "SESSION_CONSUMED"
    case alreadyCompleted = "ALREADY_COMPLETED"
    case runConflict = "RUN_CONFLICT"
    case usernameTaken = "USERNAME_TAKEN"
    case gameExists = "GAME_EXISTS"
    case gameNotEmpty = "GAME_NOT_EMPTY"
    case importInProgress = "IMPORT_IN_PROGRESS"
    /// Spec 003: a score token redeemed before.
    case tokenAlreadyUsed = "TOKEN_ALREADY_USED"
    // 410
    case sessionExpired = "SESSION_EXPIRED"
    // 413
    case payloadTooLarge = "PAYLOAD_TOO_LARGE"
    // 426
    case upgradeRequired = "UPGRADE_REQUIRED"
    // 429
    case rateLimitExceeded = "RATE_LIMIT_EXCEEDED"
    // 431
    case headersTooLarge = "HEADERS_TOO_LARGE"
    // 500
    case internalError = "INTERNAL_ERROR"
    // 503
    case storageUnavailable = "STORAGE_UNAVAILABLE"
    case notReady = "NOT_READY"
    case tooManyConnections = "TOO_MANY_CONNECTIONS"
    case issuerUnavailable = "ISSUER_UNAVAILABLE"
    case shuttingDown = "SHUTTING_DOWN"

    /// The HTTP status of an answer with this code.
    public var status: HTTPResponse.Status {
        switch self {
        case .validationError, .badRequest, .scoreOutOfRange, .invalidAction, .implausibleScore, .badMessage, .unknownType, .subscriptionLimit,
            .invalidToken:
            .badRequest
        case .unauthorized, .tokenExpired: .unauthorized
        case .forbidden, .banned, .sessionMismatch, .tokenUserMismatch: .forbidden
        case .notFound, .gameNotFound, .playerNotFound, .periodNotFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .requestTimeout: .requestTimeout
        case .sessionConsumed, .alreadyCompleted, .runConflict, .usernameTaken, .gameExists, .gameNotEmpty, .importInProgress, .tokenAlreadyUsed: .conflict
        case .sessionExpired: .gone
        case .payloadTooLarge: .contentTooLarge
        case .upgradeRequired: .upgradeRequired
        case .rateLimitExceeded: .tooManyRequests
        case .headersTooLarge: .requestHeaderFieldsTooLarge
        case .internalError: .internalServerError
        case .storageUnavailable, .notReady, .tooManyConnections, .issuerUnavailable, .shuttingDown: .serviceUnavailable
        }
    }

    /// Whether only the WebSocket sends it.
    public var isLiveOnly: Bool { [.badMessage, .unknownType, .subscriptionLimit].contains(self) }
}
