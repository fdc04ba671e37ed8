import PostgresNIO

extension PostgresStore {
    /// Counted in the database, so a user who spreads requests over the fleet gets the
    /// same limit as on one instance: `podium_admit` (migration 4) takes the key's
    /// advisory lock, which orders concurrent admissions, drops the rows that left the
    /// window, counts the rest and records this one, in one statement and one round trip.
    public func admit(_ key: String, limit: Int, window: Int64, now: Int64) async throws -> RateDecision {
        try await storing { [self] in
            let statement = PostgresStatements.Admit(key: key, limit: Int32(clamping: limit), window: window, now: now)
            let wait = try await client.execute(statement, logger: logger).first { _ in true }
            guard let wait, let milliseconds = wait else { return .admitted }
            return .refused(retryAfter: milliseconds)
        }
    }
}
