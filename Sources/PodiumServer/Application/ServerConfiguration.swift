import Foundation

/// Everything `podium serve` can be told, with safe defaults.
public struct ServerConfiguration: Sendable {
    /// The clock of acceptance times and period boundaries (the system's; tests set theirs).
    public var clock = WallClock.system
    /// Production mode: no "Submit test score" button, and a JWT secret is required.
    public var isProduction = false
    /// Folder of the web pages and their assets; nil serves the pages built into the binary.
    public var publicDirectory: String?
    /// The OpenAPI document served at `GET /openapi.yaml`; nil serves the one built in.
    public var openAPIFile: String?
    /// Address to listen on; 127.0.0.1 keeps a development server private.
    public var host = "127.0.0.1"
    /// Port for HTTP and WebSocket (seed 000's `REALTIME_PORT`, default 4000).
    public var port = 4000
    /// Length of the listening socket's queue of connections not yet accepted (the kernel
    /// caps it at `net.core.somaxconn`, 4096 by default since Linux 5.4). A burst of
    /// connections past it waits for SYN retries (a second or more) instead of a turn.
    public var listenBacklog = 4096
    /// One read (GET or HEAD below 400) in this many gets an access log line; 0 logs no
    /// reads. Nil: every read up to 100 a second, then one in 100. Writes and errors are
    /// always logged.
    public var accessLogReadSampling: Int?
    /// First pages (Podium's and every contract's top-N route) are answered right after the
    /// HTTP decoder from the page cache (``FirstPageHandler``); false sends them through the
    /// router like every other request, with the same answers.
    public var firstPagesFastPath = true
    /// Where the log and everything else durable lives.
    public enum Storage: Sendable, Equatable, CustomStringConvertible {
        /// One SQLite file, `podium.sqlite`, in the data directory (the default).
        case sqlite
        /// Memory only: everything is lost at exit (tests, demos).
        case memory
        /// A PostgreSQL database shared by every instance of a fleet, by its URL.
        case postgres(String)

        /// `sqlite`, `memory` or a `postgres://` (or `postgresql://`) URL.
        public init?(argument: String) {
            switch argument {
            case "sqlite": self = .sqlite
            case "memory": self = .memory
            case let url where url.hasPrefix("postgres://") || url.hasPrefix("postgresql://"): self = .postgres(url)
            default: return nil
            }
        }

        /// The storage as it is named on the command line, without a password.
        public var description: String {
            switch self {
            case .sqlite: "sqlite"
            case .memory: "memory"
            case .postgres(let url): url.replacing(/:[^:@\/]*@/, with: ":…@")
            }
        }
    }

    /// Where the score log lives.
    public var storage = Storage.sqlite
    /// Folder of the SQLite file.
    public var dataDirectory = "./data"
    /// The games registry read at start-up; nil reads the sample registry built into the
    /// binary.
    public var gamesFile: String?
    /// `topN` of the registry's games that set none (seed 000's `TOP_N`).
    public var defaultTopN = 10
    /// Shared secret of `POST /score` (`REALTIME_INGEST_SECRET`); nil accepts loopback callers only.
    public var ingestSecret: String?
    /// HS256 key of access tokens, at least 32 bytes; nil makes a random one per start
    /// (tokens then die with the process).
    public var jwtSecret: String?
    /// Seconds an access token stays valid.
    public var accessTokenLifetime = 15 * 60
    /// bcrypt cost of password hashes.
    public var bcryptCost: UInt8 = 12
    /// Seconds a run token stays valid.
    public var runSessionLifetime = 10 * 60
    /// Score submissions (runs and actions) per user per minute (seed 004: 10).
    public var scoreSubmissionsPerMinute = 10
    /// Register and login attempts per IP address per minute.
    public var authAttemptsPerMinute = 20
    /// The OpenID issuer whose ID tokens are accepted (Google), if any.
    public var openID: OpenIDVerifier.Configuration?
    /// Usernames of the admin accounts: the only accounts with the admin role. Nobody can
    /// register these names.
    public var adminUsers: Set<String> = []
    /// Password of the admin accounts created at start-up when they do not exist yet.
    public var adminPassword: String?
    /// Largest request body accepted, in bytes.
    public var maxBodySize = 64 * 1024
    /// Largest body of a board import (`POST /api/admin/games/{gameId}/import`), in bytes.
    public var maxImportSize = 256 * 1024 * 1024
    /// Largest WebSocket frame and message accepted, in bytes (larger ones close with 1009).
    public var maxFrameSize = 16 * 1024
    /// How long a shutdown waits for requests in flight before it closes their connections.
    public var shutdownGrace = Duration.seconds(5)
    /// Limits of plain HTTP connections: their number, timeouts and head size.
    public var http = HTTPConnectionLimits()
    /// Limits of the live hub.
    public var live = LiveHub.Configuration()
    /// Snapshots and replay.
    public var follower = LogFollower.Configuration()
    /// The defaults of specs 001-004 where they differ (docs/compatibility.md).
    public var contracts = ContractConfiguration()
    /// The boards' copy in DynamoDB (spec 000); nil keeps them out of DynamoDB.
    public var dynamoDB: DynamoDBSettings?

    public init() {}

    /// Where the durable data lives: the SQLite file's absolute path, the database server
    /// (without its password), or that nothing is kept.
    public var dataLocation: String {
        switch storage {
        case .sqlite: URL(fileURLWithPath: sqliteFile).standardizedFileURL.path
        case .memory: "nowhere: memory only, lost at exit"
        case .postgres: storage.description
        }
    }

    /// The SQLite database file of the data directory.
    public var sqliteFile: String { (dataDirectory as NSString).appendingPathComponent("podium.sqlite") }
}
