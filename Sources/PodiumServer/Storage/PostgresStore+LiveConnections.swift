import PostgresNIO

extension PostgresStore: LiveConnectionDirectory {
    static let closeRequestChannel = "podium_live_close"

    public func register(_ connection: LiveConnectionRecord, keepingNewest limit: Int) async throws -> [LiveConnectionRecord] {
        try await storing { [self] in
            try await client.withTransaction(logger: logger) { db in
                try await db.query("SELECT pg_advisory_xact_lock(hashtextextended(\("live:" + connection.userId), 0))", logger: logger)
                try await db.query(
                    """
                    INSERT INTO live_connections (instance, connection_id, user_id, opened_at)
                    VALUES (\(connection.instance), \(Int64(connection.id)), \(connection.userId), \(connection.openedAt))
                    ON CONFLICT DO NOTHING
                    """,
                    logger: logger
                )
                let rows = try await db.query(
                    """
                    DELETE FROM live_connections WHERE (instance, connection_id) IN (
                        SELECT instance, connection_id FROM live_connections WHERE user_id = \(connection.userId)
                        ORDER BY opened_at DESC, instance DESC, connection_id DESC OFFSET \(limit)
                    )
                    RETURNING instance, connection_id, user_id, opened_at
                    """,
                    logger: logger
                )
                var surplus: [LiveConnectionRecord] = []
                for try await (instance, id, userId, openedAt) in rows.decode((String, Int64, String, Int64).self) {
                    surplus.append(LiveConnectionRecord(instance: instance, id: Int(id), userId: userId, openedAt: openedAt))
                }
                return surplus
            }
        }
    }

    public func unregister(_ connection: LiveConnectionRecord) async throws {
        try await storing { [self] in
            try await client.query(
                "DELETE FROM live_connections WHERE instance = \(connection.instance) AND connection_id = \(Int64(connection.id))",
                logger: logger
            )
        }
    }

    public func requestClose(of connection: LiveConnectionRecord) async throws {
        try await storing { [self] in
            try await client.query(
                "SELECT pg_notify(\(Self.closeRequestChannel), \(connection.instance + " " + String(connection.id)))", logger: logger
            )
        }
    }

    public func followCloseRequests(for instance: String, _ body: @escaping @Sendable (Int) -> Void) async throws {
        try await Self.mappingErrors {
            try await client.withConnection { connection in
                for try await notification in try await connection.listen(Self.closeRequestChannel) {
                    let parts = notification.payload.split(separator: " ")
                    if parts.count == 2, parts[0] == instance, let id = Int(parts[1]) { body(id) }
                }
            }
        }
    }

    public func heartbeat(_ instance: String, now: Int64, staleBefore: Int64) async throws {
        try await storing { [self] in
            try await client.withTransaction(logger: logger) { db in
                try await db.query(
                    """
                    INSERT INTO live_instances (id, seen_at) VALUES (\(instance), \(now))
                    ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at
                    """,
                    logger: logger
                )
                try await db.query(
                    "DELETE FROM live_connections WHERE instance IN (SELECT id FROM live_instances WHERE seen_at < \(staleBefore))",
                    logger: logger
                )
                try await db.query("DELETE FROM live_instances WHERE seen_at < \(staleBefore)", logger: logger)
            }
        }
    }

    public func retire(_ instance: String) async throws {
        try await storing { [self] in
            try await client.withTransaction(logger: logger) { db in
                try await db.query("DELETE FROM live_connections WHERE instance = \(instance)", logger: logger)
                try await db.query("DELETE FROM live_instances WHERE id = \(instance)", logger: logger)
            }
        }
    }
}
