import Logging
import PostgresNIO

/// The tables of ``PostgresStore``, created and migrated at start-up. Migrations run under
/// an advisory lock in one transaction, so instances that start at once take turns and
/// the later ones find the schema ready.
enum PostgresSchema {
    /// Advisory lock keys (any constant the database's other users do not take).
    static let migrationLock: Int64 = 0x706f_6469_756d_0001
    static let snapshotLock: Int64 = 0x706f_6469_756d_0002

    /// Each migration's statements, in order; the schema's version is how many have run.
    static let migrations: [[String]] = [
        [
            "CREATE TABLE log_head (id integer PRIMARY KEY CHECK (id = 1), sequence bigint NOT NULL)",
            """
            CREATE TABLE log_events (
                sequence bigint PRIMARY KEY, game_id text NOT NULL, kind smallint NOT NULL, user_id text NOT NULL,
                display_name text NOT NULL, country_code text, score bigint NOT NULL, achieved_at bigint NOT NULL,
                source text NOT NULL, reference text, session_token_hash text, payload text, origin text NOT NULL,
                recorded_at bigint NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX log_events_reference ON log_events (game_id, user_id, reference) WHERE reference IS NOT NULL",
            "CREATE INDEX log_events_administrative ON log_events (sequence) WHERE kind >= 2",
            """
            CREATE TABLE board_snapshots (
                game_id text PRIMARY KEY, sequence bigint NOT NULL, rules text NOT NULL, data bytea NOT NULL, created_at bigint NOT NULL
            )
            """,
            """
            CREATE TABLE users (
                id text PRIMARY KEY, username text NOT NULL, password_hash text, display_name text NOT NULL, country_code text,
                role text NOT NULL, created_at bigint NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX users_username ON users (lower(username))",
            """
            CREATE TABLE run_sessions (
                token_hash text PRIMARY KEY, user_id text NOT NULL REFERENCES users (id), game_id text NOT NULL,
                issued_at bigint NOT NULL, expires_at bigint NOT NULL, consumed_at bigint
            )
            """,
            "CREATE INDEX run_sessions_expiry ON run_sessions (expires_at)",
            """
            CREATE TABLE flagged_submissions (
                id bigserial PRIMARY KEY, user_id text NOT NULL, game_id text NOT NULL, score bigint NOT NULL, reason text NOT NULL,
                flagged_at bigint NOT NULL
            )
            """,
        ],
        [
            "CREATE TABLE rate_admissions (key text NOT NULL, admitted_at bigint NOT NULL)",
            "CREATE INDEX rate_admissions_key ON rate_admissions (key, admitted_at)",
        ],
        [
            "CREATE TABLE live_instances (id text PRIMARY KEY, seen_at bigint NOT NULL)",
            """
            CREATE TABLE live_connections (
                instance text NOT NULL, connection_id bigint NOT NULL, user_id text NOT NULL, opened_at bigint NOT NULL,
                PRIMARY KEY (instance, connection_id)
            )
            """,
            "CREATE INDEX live_connections_user ON live_connections (user_id)",
        ],
        [
            // One admission of a rate limit in one statement: nil when admitted, else the
            // milliseconds until the oldest admission in the window leaves it. Keys that
            // went quiet keep their last rows; one call in a thousand sweeps them.
            """
            CREATE FUNCTION podium_admit(admission_key text, admission_limit integer, admission_window bigint, admission_now bigint)
            RETURNS bigint LANGUAGE plpgsql AS $$
            DECLARE
                admitted bigint;
                oldest bigint;
            BEGIN
                PERFORM pg_advisory_xact_lock(hashtextextended(admission_key, 0));
                DELETE FROM rate_admissions WHERE key = admission_key AND admitted_at <= admission_now - admission_window;
                SELECT count(*), min(admitted_at) INTO admitted, oldest FROM rate_admissions WHERE key = admission_key;
                IF admitted >= admission_limit THEN
                    RETURN oldest + admission_window - admission_now;
                END IF;
                INSERT INTO rate_admissions (key, admitted_at) VALUES (admission_key, admission_now);
                IF random() < 0.001 THEN
                    DELETE FROM rate_admissions WHERE admitted_at <= admission_now - 3600000;
                END IF;
                RETURN NULL;
            END
            $$
            """,
        ],
        [
            // The time each event was accepted; events logged before take their recording time.
            "ALTER TABLE log_events ADD COLUMN accepted_at bigint NOT NULL DEFAULT 0",
            "UPDATE log_events SET accepted_at = recorded_at",
        ],
        ["CREATE INDEX log_events_player ON log_events (game_id, user_id, sequence) WHERE kind = 0"],
    ]

    /// Brings the schema to the latest version in the open transaction of `connection`.
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
        try await connection.query("CREATE TABLE IF NOT EXISTS podium_schema (version integer NOT NULL)", logger: logger)
        var version = 0
        for try await stored in try await connection.query("SELECT max(version) FROM podium_schema", logger: logger).decode(Int?.self) {
            version = stored ?? 0
        }
        guard version < migrations.count else { return }
        for (index, statements) in migrations.enumerated().dropFirst(version) {
            for statement in statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
            if index == 0 {
                // A new log numbers its events from its creation time (see firstSequenceOfNewLog).
                try await connection.query("INSERT INTO log_head (id, sequence) VALUES (1, \(firstSequenceOfNewLog()))", logger: logger)
            }
            try await connection.query("INSERT INTO podium_schema (version) VALUES (\(index + 1))", logger: logger)
        }
        logger.info("database schema migrated", metadata: ["from": "\(version)", "to": "\(migrations.count)"])
    }
}
