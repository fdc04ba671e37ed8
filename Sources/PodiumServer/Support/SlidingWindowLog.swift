import Synchronization

/// Exact sliding-window counting in memory: at most `limit` admissions per key in any
/// window of `window` milliseconds. A key keeps at most `limit` times, so memory is
/// bounded by the keys seen; keys idle for a window are dropped when the table grows.
final class SlidingWindowLog: Sendable {
    private let admissions = Mutex<[String: [Int64]]>([:])

    /// Admits one request of `key` at `now` (milliseconds), or says how many milliseconds
    /// until the oldest admission in the window leaves it.
    func admit(_ key: String, limit: Int, window: Int64, now: Int64) -> RateDecision {
        admissions.withLock { admissions in
            if admissions.count > 100_000 { admissions = admissions.filter { ($0.value.last ?? 0) > now - window } }
            var times = admissions[key, default: []]
            times.removeAll { $0 <= now - window }
            defer { admissions[key] = times }
            guard times.count < limit else { return .refused(retryAfter: times[0] + window - now) }
            times.append(now)
            return .admitted
        }
    }
}
