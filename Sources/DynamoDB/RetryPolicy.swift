/// How a call that failed for a passing reason (throttling, a server error, no answer) is
/// tried again: exponential backoff with full jitter, a bounded number of times.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    /// The cap of the wait after the first failure; it doubles with each failure.
    public var baseDelay: Duration
    /// The cap of any wait.
    public var maxDelay: Duration

    public init(maxAttempts: Int = 6, baseDelay: Duration = .milliseconds(50), maxDelay: Duration = .seconds(5)) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The wait before trying again after attempt number `attempt` (from 1) failed with
    /// `error`, or nil to give up. `random` in 0..<1 picks the wait below the cap.
    public func delay(after attempt: Int, failure error: DynamoDBError, random: Double) -> Duration? {
        guard error.isRetryable, attempt < maxAttempts else { return nil }
        return cap(after: attempt) * random
    }

    /// The longest wait after attempt number `attempt` failed.
    func cap(after attempt: Int) -> Duration {
        let doubling = min(attempt - 1, 30)
        return min(maxDelay, baseDelay * (1 << doubling))
    }
}
