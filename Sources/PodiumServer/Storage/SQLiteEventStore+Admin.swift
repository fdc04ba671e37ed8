import Foundation
import GRDB

extension SQLiteEventStore {
    public func storedGames() async throws -> [Game] {
        let definitions = try await pool.read { db in try String.fetchAll(db, sql: "SELECT definition FROM games ORDER BY id") }
        return try definitions.map { try JSONDecoder().decode(Game.self, from: Data($0.utf8)) }
    }

    public func saveGame(_ game: Game) async throws {
        let definition = String(decoding: try JSONEncoder().encode(game), as: UTF8.self)
        let now = Timestamp.now()
        try await writing { db in
            try db.execute(
                sql: """
                    INSERT INTO games (id, definition, updated_at) VALUES (?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at
                    """,
                arguments: [game.id, definition, now]
            )
        }
    }

    public func announcements() async throws -> [Announcement] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM announcements ORDER BY created_at DESC, id DESC").map { row in
                Announcement(
                    id: row["id"], title: row["title"], body: row["body"], createdAt: row["created_at"], updatedAt: row["updated_at"]
                )
            }
        }
    }

    public func saveAnnouncement(_ announcement: Announcement) async throws {
        try await writing { db in
            try db.execute(
                sql: """
                    INSERT INTO announcements (id, title, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET title = excluded.title, body = excluded.body, updated_at = excluded.updated_at
                    """,
                arguments: [announcement.id, announcement.title, announcement.body, announcement.createdAt, announcement.updatedAt]
            )
        }
    }

    public func deleteAnnouncement(id: String) async throws -> Bool {
        try await writing { db in
            try db.execute(sql: "DELETE FROM announcements WHERE id = ?", arguments: [id])
            return db.changesCount == 1
        }
    }

    public func banUser(id: String, at time: Int64) async throws -> Bool {
        try await writing { db in
            try db.execute(sql: "UPDATE users SET banned_at = COALESCE(banned_at, ?) WHERE id = ?", arguments: [time, id])
            return db.changesCount == 1
        }
    }

    public func bannedUserIds() async throws -> Set<String> {
        try await pool.read { db in Set(try String.fetchAll(db, sql: "SELECT id FROM users WHERE banned_at IS NOT NULL")) }
    }
}
