import Foundation
import GRDB

extension SQLiteStore {
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
        try await reading { db in try Row.fetchOne(db, sql: "SELECT * FROM users WHERE username = ?", arguments: [username]).map(Self.user) }
    }

    public func user(id: String) async throws -> UserRecord? {
        try await reading { db in try Row.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [id]).map(Self.user) }
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
        try await reading { db in
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
        try await reading { db in
            try Row.fetchAll(db, sql: "SELECT * FROM flagged_submissions ORDER BY id DESC LIMIT ?", arguments: [limit]).map { row in
                FlaggedSubmission(
                    userId: row["user_id"], gameId: row["game_id"], score: row["score"], reason: row["reason"], flaggedAt: row["flagged_at"]
                )
            }
        }
    }
}
