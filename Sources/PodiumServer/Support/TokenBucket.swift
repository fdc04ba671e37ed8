/// A token bucket: `burst` tokens, refilled at `ratePerSecond`.
struct TokenBucket: Sendable {
    let ratePerSecond: Double
    let burst: Double
    private var tokens: Double
    private var updatedAt: ContinuousClock.Instant?

    init(ratePerSecond: Double, burst: Double) {
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        self.tokens = burst
    }

    /// Takes one token if there is one.
    mutating func take(now: ContinuousClock.Instant) -> Bool {
        refill(now: now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// Seconds until a token is available (0 if one is).
    mutating func secondsUntilAvailable(now: ContinuousClock.Instant) -> Double {
        refill(now: now)
        return tokens >= 1 ? 0 : (1 - tokens) / ratePerSecond
    }

    private mutating func refill(now: ContinuousClock.Instant) {
        if let updatedAt {
            let elapsed = now - updatedAt
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            tokens = min(burst, tokens + seconds * ratePerSecond)
        }
        updatedAt = now
    }
}
