/// Why a DynamoDB call failed.
public enum DynamoDBError: Error, Sendable, CustomStringConvertible {
    /// DynamoDB answered with an error: its type (`ConditionalCheckFailedException`,
    /// `ProvisionedThroughputExceededException`, …), message and HTTP status.
    case service(type: String, message: String, status: Int)
    /// No answer: the connection failed or timed out.
    case transport(String)
    /// An answer that is not DynamoDB's JSON.
    case malformedResponse(String)

    /// The error type of a failed condition (a conditional put that found its item).
    public static let conditionalCheckFailed = "ConditionalCheckFailedException"

    /// Error types that mean "too many requests": retried with backoff.
    static let throttlingTypes: Set<String> = [
        "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "LimitExceededException",
        "TransactionInProgressException",
    ]

    /// Whether the same request may succeed later: throttling, a server error, no answer.
    public var isRetryable: Bool {
        switch self {
        case .service(let type, _, let status): Self.throttlingTypes.contains(type) || status >= 500
        case .transport: true
        case .malformedResponse: false
        }
    }

    /// Whether DynamoDB refused the request for a failed condition.
    public var isConditionalCheckFailure: Bool {
        if case .service(Self.conditionalCheckFailed, _, _) = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .service(let type, let message, let status): "DynamoDB \(type) (HTTP \(status)): \(message)"
        case .transport(let reason): "DynamoDB unreachable: \(reason)"
        case .malformedResponse(let reason): "DynamoDB answered something else than its JSON: \(reason)"
        }
    }
}
