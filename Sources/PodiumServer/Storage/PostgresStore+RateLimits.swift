import PostgresNIO

extension PostgresStore {
    /// Counted in the database, so a user who spreads requests over the fleet gets the
    /// same limit as on one instance: the key's advisory lock orders concurrent
    /// admissions, and the window's rows are counted, in one transaction.
    public func admit(_ key: String, limit: Int, window: Int64, now: Int64) async throws -> RateDecision {
        try await storing { [self] in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(key), 0))", logger: logger)
                try await connection.query(
                    "DELETE FROM rate_admissions WHERE key = \(key) AND admitted_at <= \(now - window)", logger: logger
                )
                let rows = try await connection.query(
                    "SELECT count(*), min(admitted_at) FROM rate_admissions WHERE key = \(key)", logger: logger
                )
                var (count, oldest): (Int64, Int64?) = (0, nil)
                for try await row in rows.decode((Int64, Int64?).self) { (count, oldest) = row }
                guard count < limit else { return .refused(retryAfter: (oldest ?? now) + window - now) }
                try await connection.query("INSERT INTO rate_admissions (key, admitted_at) VALUES (\(key), \(now))", logger: logger)
                if Int.random(in: 0..<1000) == 0 {
                    // Keys that went quiet keep their last rows; sweep them now and then.
                    try await connection.query("DELETE FROM rate_admissions WHERE admitted_at <= \(now - 3_600_000)", logger: logger)
                }
                return .admitted
            }
        }
    }
}
