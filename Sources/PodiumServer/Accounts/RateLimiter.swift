/// A rate limit: at most `limit` requests per key (a user id, an IP address) in any window
/// of `window`, counted by the store, so a fleet of instances shares one count.
public struct RateLimiter: Sendable {
    /// What is limited; keys of different limits never meet.
    public let name: String
    public let limit: Int
    public let window: Duration
    let store: any RateLimitStore

    public init(_ name: String, limit: Int, per window: Duration, store: any RateLimitStore) {
        self.name = name
        self.limit = limit
        self.window = window
        self.store = store
    }

    /// Counts one request of `key`.
    /// - Throws: ``APIError`` 429 `RATE_LIMIT_EXCEEDED` with the seconds until the next
    ///   one is allowed, or ``StoreError`` when the count cannot be kept.
    func take(_ key: String) async throws {
        let windowMilliseconds = window.components.seconds * 1000 + window.components.attoseconds / 1_000_000_000_000_000
        let decision = try await store.admit(name + ":" + key, limit: limit, window: windowMilliseconds, now: Timestamp.now())
        if case .refused(let wait) = decision { throw APIError.rateLimited(retryAfter: max(1, Int((wait + 999) / 1000))) }
    }
}
