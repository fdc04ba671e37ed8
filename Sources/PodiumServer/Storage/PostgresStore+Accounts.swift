import PodiumEngine
import PostgresNIO

extension PostgresStore {
    private static let userColumns = "id, username, password_hash, display_name, country_code, role, created_at"

    public func createUser(_ user: UserRecord) async throws -> Bool {
        try await storing { [self] in
            let rows = try await client.query(
                """
                INSERT INTO users (id, username, password_hash, display_name, country_code, role, created_at)
                VALUES (\(user.id), \(user.username), \(user.passwordHash), \(user.displayName), \(user.countryCode?.description),
                    \(user.role.rawValue), \(user.createdAt))
                ON CONFLICT DO NOTHING RETURNING id
                """,
                logger: logger
            )
            return try await rows.decode(String.self).first { _ in true } != nil
        }
    }

    public func user(username: String) async throws -> UserRecord? {
        try await storing { [self] in
            try await Self.users(client.query("SELECT \(unescaped: Self.userColumns) FROM users WHERE lower(username) = lower(\(username))")).first
        }
    }

    public func user(id: String) async throws -> UserRecord? {
        try await storing { [self] in
            try await Self.users(client.query("SELECT \(unescaped: Self.userColumns) FROM users WHERE id = \(id)")).first
        }
    }

    public func setAdmins(usernames: Set<String>) async throws -> Set<String> {
        let names = usernames.map { $0.lowercased() }
        return try await storing { [self] in
            let rows = try await client.query(
                """
                WITH updated AS (
                    UPDATE users SET role = CASE WHEN lower(username) = ANY(\(names)::text[]) THEN 'admin' ELSE 'player' END
                    RETURNING id, role
                )
                SELECT id FROM updated WHERE role = 'admin'
                """,
                logger: logger
            )
            var admins = Set<String>()
            for try await id in rows.decode(String.self) { admins.insert(id) }
            return admins
        }
    }

    public func createSession(_ session: RunSession) async throws -> Bool {
        try await storing { [self] in
            try await client.execute(PostgresStatements.CreateSession(session: session), logger: logger).first { _ in true } != nil
        }
    }

    public func deleteSessions(expiredBefore time: Int64) async throws -> Int {
        try await storing { [self] in
            let rows = try await client.query(
                "WITH deleted AS (DELETE FROM run_sessions WHERE expires_at < \(time) RETURNING 1) SELECT count(*) FROM deleted",
                logger: logger
            )
            return Int(try await rows.decode(Int64.self).first { _ in true } ?? 0)
        }
    }

    public func session(tokenHash: String) async throws -> RunSession? {
        try await storing { [self] in
            try await client.execute(PostgresStatements.Session(tokenHash: tokenHash), logger: logger).first { _ in true }
        }
    }

    public func recordFlag(_ flag: FlaggedSubmission) async throws {
        try await storing { [self] in
            try await client.query(
                """
                INSERT INTO flagged_submissions (user_id, game_id, score, reason, flagged_at)
                VALUES (\(flag.userId), \(flag.gameId), \(flag.score), \(flag.reason), \(flag.flaggedAt))
                """,
                logger: logger
            )
        }
    }

    public func flags(limit: Int) async throws -> [FlaggedSubmission] {
        try await storing { [self] in
            let rows = try await client.query(
                "SELECT user_id, game_id, score, reason, flagged_at FROM flagged_submissions ORDER BY id DESC LIMIT \(limit)", logger: logger
            )
            var flags: [FlaggedSubmission] = []
            for try await (userId, gameId, score, reason, flaggedAt) in rows.decode((String, String, Int64, String, Int64).self) {
                flags.append(FlaggedSubmission(userId: userId, gameId: gameId, score: score, reason: reason, flaggedAt: flaggedAt))
            }
            return flags
        }
    }

    private static func users(_ rows: PostgresRowSequence) async throws -> [UserRecord] {
        var users: [UserRecord] = []
        for try await (id, username, hash, displayName, country, role, createdAt)
            in rows.decode((String, String, String?, String, String?, String, Int64).self)
        {
            users.append(
                UserRecord(
                    id: id, username: username, passwordHash: hash, displayName: displayName, countryCode: country.flatMap { CountryCode($0) },
                    role: UserRecord.Role(rawValue: role) ?? .player, createdAt: createdAt
                )
            )
        }
        return users
    }
}
