import Foundation
import GRDB
import PodiumEngine

/// The embedded default store: one SQLite file in WAL mode with synchronous commits, so a
/// committed event survives a crash of the process or of the machine.
public final class SQLiteStore: PodiumStore {
    let pool: DatabasePool
    /// Commits the small writes of concurrent requests together.
    let groupedWrites: GroupedWrites
    /// Rate limits are counted in memory: only this process uses the file.
    private let rateLimits = SlidingWindowLog()

    /// Opens (creating if needed) the database at `path` and migrates it.
    /// - Parameter busyTimeout: how long a write waits for a lock held by another process.
    public init(path: String, busyTimeout: TimeInterval = 2) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        groupedWrites = GroupedWrites(pool: pool)
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: score log and snapshots") { db in
            try db.execute(
                sql: """
                    CREATE TABLE score_events (
                        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                        game_id TEXT NOT NULL,
                        kind INTEGER NOT NULL,
                        user_id TEXT NOT NULL,
                        display_name TEXT NOT NULL,
                        country_code TEXT,
                        score INTEGER NOT NULL,
                        achieved_at INTEGER NOT NULL,
                        source TEXT NOT NULL,
                        reference TEXT,
                        recorded_at INTEGER NOT NULL
                    );
                    CREATE UNIQUE INDEX score_events_reference ON score_events(game_id, user_id, reference)
                        WHERE reference IS NOT NULL;
                    CREATE TABLE board_snapshots (
                        game_id TEXT PRIMARY KEY,
                        sequence INTEGER NOT NULL,
                        rules TEXT NOT NULL,
                        data BLOB NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration("v2: accounts, run sessions, flags") { db in
            try db.execute(
                sql: """
                    ALTER TABLE score_events ADD COLUMN session_token_hash TEXT;
                    CREATE TABLE users (
                        id TEXT PRIMARY KEY,
                        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
                        password_hash TEXT,
                        display_name TEXT NOT NULL,
                        country_code TEXT,
                        role TEXT NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE run_sessions (
                        token_hash TEXT PRIMARY KEY,
                        user_id TEXT NOT NULL REFERENCES users(id),
                        game_id TEXT NOT NULL,
                        issued_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        consumed_at INTEGER
                    );
                    CREATE TABLE flagged_submissions (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        user_id TEXT NOT NULL,
                        game_id TEXT NOT NULL,
                        score INTEGER NOT NULL,
                        reason TEXT NOT NULL,
                        flagged_at INTEGER NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration("v3: admin games, announcements, bans") { db in
            try db.execute(
                sql: """
                    CREATE TABLE games (
                        id TEXT PRIMARY KEY,
                        definition TEXT NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE TABLE announcements (
                        id TEXT PRIMARY KEY,
                        title TEXT NOT NULL,
                        body TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    ALTER TABLE users ADD COLUMN banned_at INTEGER;
                    """
            )
        }
        migrator.registerMigration("v4: run sessions by expiry") { db in
            try db.execute(sql: "CREATE INDEX run_sessions_expiry ON run_sessions(expires_at)")
        }
        migrator.registerMigration("v5: admin state in the log") { db in
            // Games, announcements and bans become log events (appended after everything
            // logged so far, in that order), so every fold sees them in order with scores.
            try db.execute(
                sql: """
                    ALTER TABLE score_events ADD COLUMN payload TEXT;
                    ALTER TABLE score_events ADD COLUMN origin TEXT NOT NULL DEFAULT '';
                    CREATE INDEX score_events_administrative ON score_events(sequence) WHERE kind >= 2;
                    INSERT INTO score_events (game_id, kind, user_id, display_name, score, achieved_at, source, payload, recorded_at)
                        SELECT id, 3, '', '', 0, updated_at, 'admin', definition, updated_at FROM games ORDER BY id;
                    INSERT INTO score_events (game_id, kind, user_id, display_name, score, achieved_at, source, payload, recorded_at)
                        SELECT '', 4, '', '', 0, updated_at, 'admin',
                            json_object('id', id, 'title', title, 'body', body, 'createdAt', created_at, 'updatedAt', updated_at),
                            updated_at
                        FROM announcements ORDER BY created_at, id;
                    INSERT INTO score_events (game_id, kind, user_id, display_name, score, achieved_at, source, recorded_at)
                        SELECT '', 2, id, '', 0, banned_at, 'admin', banned_at FROM users WHERE banned_at IS NOT NULL ORDER BY id;
                    DROP TABLE games;
                    DROP TABLE announcements;
                    """
            )
            // A new log numbers its events from its creation time (see firstSequenceOfNewLog).
            if try Int.fetchOne(db, sql: "SELECT count(*) FROM score_events") == 0 {
                try db.execute(sql: "DELETE FROM sqlite_sequence WHERE name = 'score_events'")
                try db.execute(
                    sql: "INSERT INTO sqlite_sequence (name, seq) VALUES ('score_events', ?)", arguments: [firstSequenceOfNewLog()]
                )
            }
        }
        migrator.registerMigration("v6: the time each event was accepted") { db in
            // Events logged before it take the time they were recorded.
            try db.execute(
                sql: """
                    ALTER TABLE score_events ADD COLUMN accepted_at INTEGER NOT NULL DEFAULT 0;
                    UPDATE score_events SET accepted_at = recorded_at;
                    """
            )
        }
        migrator.registerMigration("v7: score history by player") { db in
            try db.execute(sql: "CREATE INDEX score_events_player ON score_events(game_id, user_id, sequence) WHERE kind = 0")
        }
        return migrator
    }

    public var isShared: Bool { false }

    public func append(_ events: [LoggedEvent]) async throws -> [CommitOutcome] {
        let now = Timestamp.now()
        do {
            return try await pool.write { db in
                try events.map { event in
                    if let reference = event.reference,
                        let existing = try Row.fetchOne(
                            db.cachedStatement(sql: "SELECT * FROM score_events WHERE game_id = ? AND user_id = ? AND reference = ?"),
                            arguments: [event.gameId, event.userId, reference]
                        )
                    {
                        return .duplicate(Self.event(from: existing))
                    }
                    if let tokenHash = event.sessionTokenHash {
                        try db.cachedStatement(
                            sql: "UPDATE run_sessions SET consumed_at = ? WHERE token_hash = ? AND consumed_at IS NULL AND expires_at > ?"
                        ).execute(arguments: [now, tokenHash, now])
                        if db.changesCount == 0 { return .sessionRejected }
                    }
                    try db.cachedStatement(
                        sql: """
                            INSERT INTO score_events (game_id, kind, user_id, display_name, country_code, score, achieved_at,
                                source, reference, session_token_hash, payload, origin, recorded_at, accepted_at)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """
                    ).execute(
                        arguments: [
                            event.gameId, event.kind.rawValue, event.userId, event.displayName, event.countryCode?.description,
                            event.score, event.achievedAt, event.source.rawValue, event.reference, event.sessionTokenHash, event.payload,
                            event.origin, now, event.acceptedAt,
                        ]
                    )
                    return .logged(db.lastInsertedRowID)
                }
            }
        } catch let error as DatabaseError {
            throw StoreError.unavailable(error.message ?? error.description)
        }
    }

    public func events(after sequence: Int64, limit: Int) async throws -> [LoggedEvent] {
        try await reading { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM score_events WHERE sequence > ? ORDER BY sequence LIMIT ?"),
                arguments: [sequence, limit]
            ).map(Self.event)
        }
    }

    public func administrativeEvents(through sequence: Int64) async throws -> [LoggedEvent] {
        try await reading { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM score_events WHERE kind >= 2 AND sequence <= ? ORDER BY sequence", arguments: [sequence]
            ).map(Self.event)
        }
    }

    public func scoreHistory(gameId: String, userId: String, limit: Int) async throws -> [LoggedEvent] {
        try await reading { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT * FROM score_events WHERE kind = 0 AND game_id = ? AND user_id = ? ORDER BY sequence DESC LIMIT ?"
                ),
                arguments: [gameId, userId, limit]
            ).map(Self.event)
        }
    }

    public func followAppends(_ body: @escaping @Sendable () -> Void) async throws {}

    public func admit(_ key: String, limit: Int, window: Int64, now: Int64) async throws -> RateDecision {
        rateLimits.admit(key, limit: limit, window: window, now: now)
    }

    public func snapshots() async throws -> [BoardSnapshot] {
        try await reading { db in
            try Row.fetchAll(db, sql: "SELECT game_id, sequence, rules, data FROM board_snapshots").map { row in
                let data: Data = row["data"]
                return BoardSnapshot(gameId: row["game_id"], sequence: row["sequence"], rules: row["rules"], data: Array(data))
            }
        }
    }

    public func saveSnapshots(_ snapshots: [BoardSnapshot]) async throws {
        let now = Timestamp.now()
        try await writing { db in
            for snapshot in snapshots {
                try db.execute(
                    sql: """
                        INSERT INTO board_snapshots (game_id, sequence, rules, data, created_at) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT(game_id) DO UPDATE SET sequence = excluded.sequence, rules = excluded.rules,
                            data = excluded.data, created_at = excluded.created_at
                        WHERE excluded.sequence >= board_snapshots.sequence
                        """,
                    arguments: [snapshot.gameId, snapshot.sequence, snapshot.rules, Data(snapshot.data), now]
                )
            }
        }
    }

    public func deleteSnapshots(_ boardIds: [String]) async throws {
        try await writing { db in
            for id in boardIds { try db.execute(sql: "DELETE FROM board_snapshots WHERE game_id = ?", arguments: [id]) }
        }
    }

    /// A read whose database errors become ``StoreError/unavailable(_:)``.
    func reading<T: Sendable>(_ value: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(value)
        } catch let error as DatabaseError {
            throw StoreError.unavailable(error.message ?? error.description)
        }
    }

    /// A write, group-committed with those of concurrent requests, whose database errors
    /// become ``StoreError/unavailable(_:)``.
    func writing<T: Sendable>(_ updates: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do {
            return try await groupedWrites.write(updates)
        } catch let error as DatabaseError {
            throw StoreError.unavailable(error.message ?? error.description)
        }
    }

    static func user(from row: Row) -> UserRecord {
        UserRecord(
            id: row["id"], username: row["username"], passwordHash: row["password_hash"], displayName: row["display_name"],
            countryCode: (row["country_code"] as String?).flatMap { CountryCode($0) },
            role: UserRecord.Role(rawValue: row["role"]) ?? .player, createdAt: row["created_at"]
        )
    }

    private static func event(from row: Row) -> LoggedEvent {
        LoggedEvent(
            sequence: row["sequence"], gameId: row["game_id"], kind: LoggedEvent.Kind(rawValue: row["kind"]) ?? .score,
            userId: row["user_id"], displayName: row["display_name"],
            countryCode: (row["country_code"] as String?).flatMap { CountryCode($0) }, score: row["score"],
            achievedAt: row["achieved_at"], source: EventSource(rawValue: row["source"]) ?? .ingest, reference: row["reference"],
            sessionTokenHash: row["session_token_hash"], payload: row["payload"], origin: row["origin"], acceptedAt: row["accepted_at"]
        )
    }
}
