import Logging
import PodiumEngine
import PostgresNIO

extension PostgresStore {
    static let eventColumns = """
        sequence, game_id, kind, user_id, display_name, country_code, score, achieved_at, source, reference, \
        session_token_hash, payload, origin, accepted_at
        """

    /// Logs `events` in the open transaction of `connection`, in five statements whatever
    /// their number: references already logged, run sessions consumed, sequences taken
    /// from `log_head` (locking it until the transaction ends), the rows inserted, and the
    /// notification sent at commit.
    static func append(_ events: [LoggedEvent], now: Int64, on connection: PostgresConnection, logger: Logger) async throws -> [CommitOutcome] {
        var outcomes = [CommitOutcome?](repeating: nil, count: events.count)
        let referenced = events.indices.filter { events[$0].reference != nil }
        if !referenced.isEmpty {
            let rows = try await connection.query(
                """
                SELECT \(unescaped: eventColumns) FROM log_events WHERE (game_id, user_id, reference) IN
                    (SELECT * FROM UNNEST(\(referenced.map { events[$0].gameId })::text[], \(referenced.map { events[$0].userId })::text[],
                        \(referenced.map { events[$0].reference! })::text[]))
                """,
                logger: logger
            )
            let logged = Dictionary(try await Self.events(rows).map { ($0.referenceKey, $0) }, uniquingKeysWith: { first, _ in first })
            for index in referenced { if let earlier = logged[events[index].referenceKey] { outcomes[index] = .duplicate(earlier) } }
        }
        let spending = events.indices.filter { outcomes[$0] == nil && events[$0].sessionTokenHash != nil }
        if !spending.isEmpty {
            let rows = try await connection.query(
                """
                UPDATE run_sessions SET consumed_at = \(now)
                WHERE token_hash = ANY(\(spending.map { events[$0].sessionTokenHash! })::text[]) AND consumed_at IS NULL AND expires_at > \(now)
                RETURNING token_hash
                """,
                logger: logger
            )
            var consumed = Set<String>()
            for try await hash in rows.decode(String.self) { consumed.insert(hash) }
            for index in spending where consumed.remove(events[index].sessionTokenHash!) == nil { outcomes[index] = .sessionRejected }
        }
        // A reference twice in one batch: the first is logged, the later ones answer it.
        var firstWithReference: [String: Int] = [:]
        var sameAs: [Int: Int] = [:]
        var logging: [Int] = []
        for index in events.indices where outcomes[index] == nil {
            if events[index].reference != nil {
                if let first = firstWithReference[events[index].referenceKey] {
                    sameAs[index] = first
                    continue
                }
                firstWithReference[events[index].referenceKey] = index
            }
            logging.append(index)
        }
        if !logging.isEmpty {
            let head = try await connection.query(
                "UPDATE log_head SET sequence = sequence + \(Int64(logging.count)) RETURNING sequence", logger: logger
            )
            var last: Int64 = 0
            for try await sequence in head.decode(Int64.self) { last = sequence }
            let first = last - Int64(logging.count) + 1
            let rows = logging.map { events[$0] }
            let inserted = try await connection.query(
                """
                INSERT INTO log_events (sequence, game_id, kind, user_id, display_name, country_code, score, achieved_at, source,
                    reference, session_token_hash, payload, origin, recorded_at, accepted_at)
                SELECT sequence, game_id, kind, user_id, display_name, NULLIF(country_code, ''), score, achieved_at, source,
                    NULLIF(reference, ''), NULLIF(session_token_hash, ''), NULLIF(payload, ''), origin, \(now), accepted_at
                FROM UNNEST(\(Array(first...last))::bigint[], \(rows.map(\.gameId))::text[], \(rows.map { Int16($0.kind.rawValue) })::smallint[],
                    \(rows.map(\.userId))::text[], \(rows.map(\.displayName))::text[], \(rows.map { $0.countryCode?.description ?? "" })::text[],
                    \(rows.map(\.score))::bigint[], \(rows.map(\.achievedAt))::bigint[], \(rows.map(\.source.rawValue))::text[],
                    \(rows.map { $0.reference ?? "" })::text[], \(rows.map { $0.sessionTokenHash ?? "" })::text[],
                    \(rows.map { $0.payload ?? "" })::text[], \(rows.map(\.origin))::text[], \(rows.map(\.acceptedAt))::bigint[])
                    AS row (sequence, game_id, kind, user_id, display_name, country_code, score, achieved_at, source, reference,
                        session_token_hash, payload, origin, accepted_at)
                ON CONFLICT (game_id, user_id, reference) WHERE reference IS NOT NULL DO NOTHING
                RETURNING sequence
                """,
                logger: logger
            )
            var logged = Set<Int64>()
            for try await sequence in inserted.decode(Int64.self) { logged.insert(sequence) }
            for (offset, index) in logging.enumerated() {
                let sequence = first + Int64(offset)
                if logged.contains(sequence) {
                    outcomes[index] = .logged(sequence)
                } else {
                    // Another instance logged the same reference since the first statement.
                    outcomes[index] = try await duplicate(of: events[index], on: connection, logger: logger)
                }
            }
            try await connection.query("SELECT pg_notify(\(notificationChannel), \(String(last)))", logger: logger)
        }
        for (index, first) in sameAs {
            switch outcomes[first]! {
            case .logged(let sequence):
                var earlier = events[first]
                earlier.sequence = sequence
                outcomes[index] = .duplicate(earlier)
            case let outcome:
                outcomes[index] = outcome
            }
        }
        return outcomes.map { $0! }
    }

    private static func duplicate(of event: LoggedEvent, on connection: PostgresConnection, logger: Logger) async throws -> CommitOutcome {
        let rows = try await connection.query(
            """
            SELECT \(unescaped: eventColumns) FROM log_events
            WHERE game_id = \(event.gameId) AND user_id = \(event.userId) AND reference = \(event.reference)
            """,
            logger: logger
        )
        guard let earlier = try await events(rows).first else { throw StoreError.unavailable("a conflicting event vanished") }
        return .duplicate(earlier)
    }

    /// The events of rows selected with ``eventColumns``.
    static func events(_ rows: PostgresRowSequence) async throws -> [LoggedEvent] {
        var events: [LoggedEvent] = []
        for try await row in rows { events.append(try event(row)) }
        return events
    }

    /// The event of one row selected with ``eventColumns``.
    static func event(_ row: PostgresRow) throws -> LoggedEvent {
        let columns = (Int64, String, Int16, String, String, String?, Int64, Int64, String, String?, String?, String?, String, Int64).self
        let (sequence, gameId, kind, userId, displayName, country, score, achievedAt, source, reference, tokenHash, payload, origin, acceptedAt) =
            try row.decode(columns)
        return LoggedEvent(
            sequence: sequence, gameId: gameId, kind: LoggedEvent.Kind(rawValue: Int(kind)) ?? .score, userId: userId,
            displayName: displayName, countryCode: country.flatMap { CountryCode($0) }, score: score, achievedAt: achievedAt,
            source: EventSource(rawValue: source) ?? .ingest, reference: reference, sessionTokenHash: tokenHash, payload: payload,
            origin: origin, acceptedAt: acceptedAt
        )
    }
}

extension LoggedEvent {
    /// What makes a reference unique: game, user and reference.
    fileprivate var referenceKey: String { "\(gameId)\u{0}\(userId)\u{0}\(reference ?? "")" }
}
