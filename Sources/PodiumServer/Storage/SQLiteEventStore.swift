import Foundation
import GRDB
import PodiumEngine

/// The embedded default store: one SQLite file in WAL mode with synchronous commits, so a
/// committed event survives a crash of the process or of the machine.
public final class SQLiteEventStore: EventStore {
    let pool: DatabasePool

    /// Opens (creating if needed) the database at `path` and migrates it.
    /// - Parameter busyTimeout: how long a write waits for a lock held by another process.
    public init(path: String, busyTimeout: TimeInterval = 2) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
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
        return migrator
    }

    public func commit(_ events: [LoggedEvent]) async throws -> [CommitOutcome] {
        let now = Timestamp.now()
        do {
            return try await pool.write { db in
                try events.map { event in
                    try db.execute(
                        sql: """
                            INSERT INTO score_events
                                (game_id, kind, user_id, display_name, country_code, score, achieved_at, source, reference, recorded_at)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            ON CONFLICT DO NOTHING
                            """,
                        arguments: [
                            event.gameId, event.kind.rawValue, event.userId, event.displayName, event.countryCode?.description,
                            event.score, event.achievedAt, event.source.rawValue, event.reference, now,
                        ]
                    )
                    if db.changesCount == 1 { return .logged(db.lastInsertedRowID) }
                    let existing = try Row.fetchOne(
                        db, sql: "SELECT * FROM score_events WHERE game_id = ? AND user_id = ? AND reference = ?",
                        arguments: [event.gameId, event.userId, event.reference]
                    )
                    guard let existing else { throw StoreError.unavailable("the event was neither logged nor found") }
                    return .duplicate(Self.event(from: existing))
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
        do {
            try await pool.write { db in
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
        } catch let error as DatabaseError {
            throw StoreError.unavailable(error.message ?? error.description)
        }
    }

    private static func event(from row: Row) -> LoggedEvent {
        LoggedEvent(
            sequence: row["sequence"], gameId: row["game_id"], kind: LoggedEvent.Kind(rawValue: row["kind"]) ?? .score,
            userId: row["user_id"], displayName: row["display_name"],
            countryCode: (row["country_code"] as String?).flatMap { CountryCode($0) }, score: row["score"],
            achievedAt: row["achieved_at"], source: EventSource(rawValue: row["source"]) ?? .ingest, reference: row["reference"]
        )
    }
}
