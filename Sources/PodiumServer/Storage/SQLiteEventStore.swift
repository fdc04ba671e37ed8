import Foundation
import GRDB
import PodiumEngine

/// The embedded default store: one SQLite file in WAL mode with synchronous commits, so a
/// committed event survives a crash of the process or of the machine.
public final class SQLiteEventStore: PodiumStore {
    let pool: DatabasePool
    /// Commits the small writes of concurrent requests together.
    let groupedWrites: GroupedWrites

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
        return migrator
    }

    public func commit(_ events: [LoggedEvent]) async throws -> [CommitOutcome] {
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
                                source, reference, session_token_hash, recorded_at)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """
                    ).execute(
                        arguments: [
                            event.gameId, event.kind.rawValue, event.userId, event.displayName, event.countryCode?.description,
                            event.score, event.achievedAt, event.source.rawValue, event.reference, event.sessionTokenHash, now,
                        ]
                    )
                    return .logged(db.lastInsertedRowID)
                }
            }
        } catch let error as DatabaseError {
            throw StoreError.unavailable(error.message ?? error.description)
        }
    }

    public func readEvents(after sequence: Int64, chunkSize: Int, _ body: @Sendable ([LoggedEvent]) throws -> Void) async throws {
        try await pool.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM score_events WHERE sequence > ? ORDER BY sequence", arguments: [sequence])
            var chunk: [LoggedEvent] = []
            chunk.reserveCapacity(chunkSize)
            while let row = try rows.next() {
                chunk.append(Self.event(from: row))
                if chunk.count == chunkSize {
                    try body(chunk)
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            if !chunk.isEmpty { try body(chunk) }
        }
    }

    public func snapshots() async throws -> [BoardSnapshot] {
        try await pool.read { db in
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
                        """,
                    arguments: [snapshot.gameId, snapshot.sequence, snapshot.rules, Data(snapshot.data), now]
                )
            }
        }
    }

    public func createUser(_ user: UserRecord) async throws -> Bool {
        try await writing { db in
            try db.execute(
                sql: """
                    INSERT INTO users (id, username, password_hash, display_name, country_code, role, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                    """,
                arguments: [
                    user.id, user.username, user.passwordHash, user.displayName, user.countryCode?.description, user.role.rawValue,
                    user.createdAt,
                ]
            )
            return db.changesCount == 1
        }
    }

    public func user(username: String) async throws -> UserRecord? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM users WHERE username = ?", arguments: [username]).map(Self.user) }
    }

    public func user(id: String) async throws -> UserRecord? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [id]).map(Self.user) }
    }

    public func setAdmins(usernames: Set<String>) async throws -> Set<String> {
        let names = Array(usernames)
        return try await writing { db in
            try db.execute(sql: "UPDATE users SET role = 'player' WHERE role = 'admin'")
            if !names.isEmpty {
                try db.execute(
                    sql: "UPDATE users SET role = 'admin' WHERE username IN (\(databaseQuestionMarks(count: names.count)))",
                    arguments: StatementArguments(names)
                )
            }
            return Set(try String.fetchAll(db, sql: "SELECT id FROM users WHERE role = 'admin'"))
        }
    }

    public func deleteSessions(expiredBefore time: Int64) async throws -> Int {
        try await writing { db in
            try db.execute(sql: "DELETE FROM run_sessions WHERE expires_at < ?", arguments: [time])
            return db.changesCount
        }
    }

    public func createSession(_ session: RunSession) async throws -> Bool {
        try await writing { db in
            do {
                try db.cachedStatement(
                    sql: "INSERT INTO run_sessions (token_hash, user_id, game_id, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)"
                ).execute(arguments: [session.tokenHash, session.userId, session.gameId, session.issuedAt, session.expiresAt])
                return true
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY {
                return false
            }
        }
    }

    public func session(tokenHash: String) async throws -> RunSession? {
        try await pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM run_sessions WHERE token_hash = ?"), arguments: [tokenHash]).map { row in
                RunSession(
                    tokenHash: row["token_hash"], userId: row["user_id"], gameId: row["game_id"], issuedAt: row["issued_at"],
                    expiresAt: row["expires_at"], consumedAt: row["consumed_at"]
                )
            }
        }
    }

    public func recordFlag(_ flag: FlaggedSubmission) async throws {
        try await writing { db in
            try db.execute(
                sql: "INSERT INTO flagged_submissions (user_id, game_id, score, reason, flagged_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [flag.userId, flag.gameId, flag.score, flag.reason, flag.flaggedAt]
            )
        }
    }

    public func flags(limit: Int) async throws -> [FlaggedSubmission] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM flagged_submissions ORDER BY id DESC LIMIT ?", arguments: [limit]).map { row in
                FlaggedSubmission(
                    userId: row["user_id"], gameId: row["game_id"], score: row["score"], reason: row["reason"], flaggedAt: row["flagged_at"]
                )
            }
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

    private static func user(from row: Row) -> UserRecord {
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
            sessionTokenHash: row["session_token_hash"]
        )
    }
}
