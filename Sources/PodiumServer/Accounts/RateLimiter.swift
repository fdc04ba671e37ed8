import Synchronization

/// Token buckets by key (a user id, an IP address): `limit` requests per `period`.
public final class RateLimiter: Sendable {
    public let limit: Int
    public let period: Duration
    private let buckets = Mutex<[String: TokenBucket]>([:])

    public init(limit: Int, per period: Duration) {
        self.limit = limit
        self.period = period
    }

    /// Takes one request from `key`'s bucket.
    /// - Throws: ``APIError`` 429 `RATE_LIMIT_EXCEEDED` with the seconds until the next one is allowed.
    func take(_ key: String, now: ContinuousClock.Instant = .now) throws(APIError) {
        let seconds = Double(period.components.seconds) + Double(period.components.attoseconds) / 1e18
        let wait = buckets.withLock { buckets -> Double? in
            if buckets.count > 100_000 { buckets.removeAll() }
            var bucket = buckets[key] ?? TokenBucket(ratePerSecond: Double(limit) / seconds, burst: Double(limit))
            defer { buckets[key] = bucket }
            if bucket.take(now: now) { return nil }
            return bucket.secondsUntilAvailable(now: now)
        }
        if let wait { throw .rateLimited(retryAfter: max(1, Int(wait.rounded(.up)))) }
    }
}
