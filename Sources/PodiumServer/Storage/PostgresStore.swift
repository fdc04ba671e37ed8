import Foundation
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle

/// The store of a fleet: one PostgreSQL database that every instance commits through and
/// follows (`--storage postgres://…`).
///
/// Commit order is log order. Every commit takes its sequences from the one row of
/// `log_head` (`UPDATE … RETURNING`), which locks that row until the transaction ends, so
/// no two commits hold sequences at once: a commit that took sequences 41–45 has ended
/// before any other can take 46. A follower that reads rows above the last sequence it saw
/// therefore never misses one that commits later with a lower sequence. Each commit sends
/// a notification that wakes the followers of every instance (LISTEN/NOTIFY); they also
/// poll, so a lost notification costs latency only.
///
/// Its connection pool runs from ``open(url:logger:)`` until the store's service ends.
/// While the database is unreachable, every call fails within ``operationTimeout`` with
/// ``StoreError/unavailable(_:)``, and works again once the database is back.
public final class PostgresStore: PodiumStore, Service {
    let client: PostgresClient
    let logger: Logger
    private let pool: Task<Void, Never>
    /// How long one call may wait for the database.
    let operationTimeout: Duration
    /// The channel of the notifications sent with every commit.
    static let notificationChannel = "podium_log"

    private init(url: String, operationTimeout: Duration, logger: Logger) throws {
        let client = PostgresClient(configuration: try Self.configuration(url: url), backgroundLogger: logger)
        self.client = client
        self.logger = logger
        self.operationTimeout = operationTimeout
        self.pool = Task { await client.run() }
    }

    /// Connects to the database at `url` (`postgres://user:password@host:port/database`,
    /// `?sslmode=disable|prefer|require`) and creates or migrates its schema; instances
    /// that start at once take turns.
    /// - Throws: ``ConfigurationError`` for a bad URL or a database that cannot be reached.
    public static func open(url: String, operationTimeout: Duration = .seconds(5), logger: Logger) async throws -> PostgresStore {
        let store = try PostgresStore(url: url, operationTimeout: operationTimeout, logger: logger)
        await Task.yield()  // lets the pool start before the first lease
        do {
            try await store.storing(timeout: .seconds(30)) {
                try await store.client.withTransaction(logger: logger) { connection in
                    try await PostgresSchema.migrate(connection, logger: logger)
                }
            }
        } catch {
            store.pool.cancel()
            throw ConfigurationError("cannot prepare the PostgreSQL database: \(error)")
        }
        return store
    }

    static func configuration(url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme),
            let host = components.host, let user = components.user
        else {
            throw ConfigurationError("the storage URL must look like postgres://user:password@host:5432/database")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let tls: PostgresClient.Configuration.TLS
        switch query["sslmode"] ?? "prefer" {
        case "disable": tls = .disable
        case "prefer": tls = .prefer(.makeClientConfiguration())
        case "require": tls = .require(.makeClientConfiguration())
        case let mode: throw ConfigurationError("sslmode must be disable, prefer or require, not '\(mode)'")
        }
        let database = components.path.split(separator: "/").first.map(String.init)
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password, database: database ?? user, tls: tls
        )
        configuration.options.maximumConnections = 16
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    // MARK: Service

    /// Keeps the connection pool until graceful shutdown (list it before the services that
    /// use the store, so it stops after them), then closes it.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// Closes every connection; the store cannot be used afterwards.
    func close() async {
        pool.cancel()
        await pool.value
    }

    /// Runs `body` within `timeout` (``operationTimeout`` by default), turning the
    /// database's failures and a timeout into ``StoreError/unavailable(_:)``.
    func storing<T: Sendable>(timeout: Duration? = nil, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let limit = timeout ?? operationTimeout
        return try await Self.mappingErrors {
            try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    try await Task.sleep(for: limit)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let value = first else {
                    throw StoreError.unavailable("the database did not answer within \(limit)")
                }
                return value
            }
        }
    }

    /// Runs `body`, turning the database's failures into ``StoreError/unavailable(_:)``.
    static func mappingErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PSQLError {
            throw StoreError.unavailable(error.serverInfo?[.message] ?? "\(error.code)")
        } catch let error as PostgresTransactionError {
            throw StoreError.unavailable("\(error.closureError ?? error.commitError ?? error.beginError ?? error)")
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.unavailable("\(error)")
        }
    }

    // MARK: Log

    public var isShared: Bool { true }

    public func append(_ events: [LoggedEvent]) async throws -> [CommitOutcome] {
        guard !events.isEmpty else { return [] }
        let now = Timestamp.now()
        return try await storing { [self] in
            try await client.withTransaction(logger: logger) { connection in
                try await Self.append(events, now: now, on: connection, logger: logger)
            }
        }
    }

    public func events(after sequence: Int64, limit: Int) async throws -> [LoggedEvent] {
        try await storing { [self] in
            var events: [LoggedEvent] = []
            for try await event in try await client.execute(PostgresStatements.EventsAfter(sequence: sequence, limit: Int64(limit)), logger: logger) {
                events.append(event)
            }
            return events
        }
    }

    public func administrativeEvents(through sequence: Int64) async throws -> [LoggedEvent] {
        try await storing { [self] in
            try await Self.events(
                client.query("SELECT \(unescaped: Self.eventColumns) FROM log_events WHERE kind >= 2 AND sequence <= \(sequence) ORDER BY sequence")
            )
        }
    }

    public func scoreHistory(gameId: String, userId: String, limit: Int) async throws -> [LoggedEvent] {
        try await storing { [self] in
            try await Self.events(
                client.query(
                    """
                    SELECT \(unescaped: Self.eventColumns) FROM log_events
                    WHERE kind = 0 AND game_id = \(gameId) AND user_id = \(userId) ORDER BY sequence DESC LIMIT \(limit)
                    """
                )
            )
        }
    }

    public func followAppends(_ body: @escaping @Sendable () -> Void) async throws {
        try await Self.mappingErrors {
            try await client.withConnection { connection in
                for try await _ in try await connection.listen(Self.notificationChannel) { body() }
            }
        }
    }

    // MARK: Snapshots

    public func snapshots() async throws -> [BoardSnapshot] {
        try await storing { [self] in
            var snapshots: [BoardSnapshot] = []
            let rows = try await client.query("SELECT game_id, sequence, rules, data FROM board_snapshots")
            for try await (gameId, sequence, rules, data) in rows.decode((String, Int64, String, ByteBuffer).self) {
                snapshots.append(BoardSnapshot(gameId: gameId, sequence: sequence, rules: rules, data: Array(buffer: data)))
            }
            return snapshots
        }
    }

    public func deleteSnapshots(_ boardIds: [String]) async throws {
        guard !boardIds.isEmpty else { return }
        try await storing { [self] in
            try await client.query("DELETE FROM board_snapshots WHERE game_id = ANY(\(boardIds)::text[])", logger: logger)
        }
    }

    /// Written by one instance at a time: an instance that finds another writing skips
    /// this round (the other's snapshots are as good).
    public func saveSnapshots(_ snapshots: [BoardSnapshot]) async throws {
        let now = Timestamp.now()
        try await storing { [self] in
            try await client.withTransaction(logger: logger) { connection in
                let locked = try await connection.query("SELECT pg_try_advisory_xact_lock(\(PostgresSchema.snapshotLock))", logger: logger)
                    .decode(Bool.self).first { _ in true }
                guard locked == true else { return }
                for snapshot in snapshots {
                    try await connection.query(
                        """
                        INSERT INTO board_snapshots (game_id, sequence, rules, data, created_at)
                        VALUES (\(snapshot.gameId), \(snapshot.sequence), \(snapshot.rules), \(ByteBuffer(bytes: snapshot.data)), \(now))
                        ON CONFLICT (game_id) DO UPDATE SET sequence = excluded.sequence, rules = excluded.rules,
                            data = excluded.data, created_at = excluded.created_at
                        WHERE excluded.sequence >= board_snapshots.sequence
                        """,
                        logger: logger
                    )
                }
            }
        }
    }
}
