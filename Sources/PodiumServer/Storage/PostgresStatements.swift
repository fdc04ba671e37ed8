import PostgresNIO

/// The statements of ``PostgresStore`` that run once or more per request, prepared once
/// per connection (named), so the database parses and plans each of them once.
enum PostgresStatements {
    /// One rate-limit admission in one round trip (`podium_admit`, migration 4): the wait
    /// in milliseconds until the key may be admitted again, or nil when admitted.
    struct Admit: PostgresPreparedStatement {
        static let name = "podium_admit"
        static let sql = "SELECT podium_admit($1, $2, $3, $4)"
        typealias Row = Int64?

        var key: String
        var limit: Int32
        var window: Int64
        var now: Int64

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings()
            bindings.append(key)
            bindings.append(limit)
            bindings.append(window)
            bindings.append(now)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int64?.self) }
    }

    /// A run session issued to a user that exists: its token hash, or no row.
    struct CreateSession: PostgresPreparedStatement {
        static let name = "podium_create_session"
        static let sql = """
            INSERT INTO run_sessions (token_hash, user_id, game_id, issued_at, expires_at)
            SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM users WHERE id = $2)
            RETURNING token_hash
            """
        typealias Row = String

        var session: RunSession

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings()
            bindings.append(session.tokenHash)
            bindings.append(session.userId)
            bindings.append(session.gameId)
            bindings.append(session.issuedAt)
            bindings.append(session.expiresAt)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(String.self) }
    }

    /// The run session of a token hash.
    struct Session: PostgresPreparedStatement {
        static let name = "podium_session"
        static let sql = "SELECT token_hash, user_id, game_id, issued_at, expires_at, consumed_at FROM run_sessions WHERE token_hash = $1"
        typealias Row = RunSession

        var tokenHash: String

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings()
            bindings.append(tokenHash)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row {
            let (hash, userId, gameId, issuedAt, expiresAt, consumedAt) = try row.decode((String, String, String, Int64, Int64, Int64?).self)
            return RunSession(tokenHash: hash, userId: userId, gameId: gameId, issuedAt: issuedAt, expiresAt: expiresAt, consumedAt: consumedAt)
        }
    }

    /// The log's events after a sequence, in order, at most a limit of them.
    struct EventsAfter: PostgresPreparedStatement {
        static let name = "podium_events_after"
        static let sql = "SELECT \(PostgresStore.eventColumns) FROM log_events WHERE sequence > $1 ORDER BY sequence LIMIT $2"
        typealias Row = LoggedEvent

        var sequence: Int64
        var limit: Int64

        func makeBindings() -> PostgresBindings {
            var bindings = PostgresBindings()
            bindings.append(sequence)
            bindings.append(limit)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try PostgresStore.event(row) }
    }
}
