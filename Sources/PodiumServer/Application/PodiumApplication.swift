import DynamoDB
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import UnixSignals

/// The whole server: boards, live hub, routes and the services that run them.
public struct PodiumApplication: Sendable {
    public let configuration: ServerConfiguration
    public let leaderboards: LeaderboardService
    public let hub: LiveHub
    /// The per-user connection cap over a fleet (shared stores only).
    let fleetConnections: FleetConnections?
    public let readiness: Readiness
    public let store: any PodiumStore
    public let follower: LogFollower
    /// The boards' copy in DynamoDB, if configured.
    public let replica: SnapshotReplica?
    /// The scores' copy in DynamoDB (`DDB_TABLE_SCORES`), if configured.
    public let scoreHistory: ScoreHistoryRecorder?
    public let writer: LogWriter
    let tokens: TokenService
    /// Spec 003's score tokens.
    let scoreTokens: ScoreTokenSigner
    let authenticator: Authenticator
    let bans: BanList
    let announcements: Announcements
    /// Lower-cased usernames of the admin accounts.
    let adminUsernames: Set<String>
    let decoyHash: DecoyPasswordHash
    public let metrics: PodiumMetrics
    let accessLog: AccessLog
    let logger: Logger
    /// Held while this server uses a SQLite data directory.
    let dataLock: DataDirectoryLock?

    /// Loads the games registry, opens the store and builds empty boards (the follower
    /// restores them, and the games, bans and announcements of the log, when it starts).
    public init(configuration: ServerConfiguration, logger: Logger) async throws {
        var configuration = configuration
        configuration.fitConnectionCaps(logger: logger)
        self.configuration = configuration
        self.logger = logger
        let registry = try GameRegistry.load(from: configuration.gamesFile, defaultTopN: configuration.defaultTopN)
        dataLock = configuration.storage == .sqlite ? try DataDirectoryLock(directory: configuration.dataDirectory) : nil
        store = try await Self.openStore(configuration, logger: logger)
        metrics = PodiumMetrics()
        accessLog = configuration.accessLogReadSampling.map { AccessLog(readSampling: $0) } ?? .standard
        bans = BanList()
        announcements = Announcements()
        leaderboards = LeaderboardService(registry: registry, clock: configuration.clock)
        readiness = Readiness()
        replica = try await Self.openReplica(configuration, metrics: metrics, logger: logger)
        scoreHistory = try await Self.openScoreHistory(configuration, metrics: metrics)
        let origin = Hex.random(bytes: 8)
        fleetConnections = (store as? any LiveConnectionDirectory).map {
            FleetConnections(directory: $0, instance: origin, limit: configuration.live.maxConnectionsPerUser, logger: logger)
        }
        hub = LiveHub(
            leaderboards: leaderboards, configuration: configuration.live, fleet: fleetConnections, metrics: metrics, logger: logger
        )
        follower = LogFollower(
            origin: origin,
            store: store, replica: replica, scoreHistory: scoreHistory, leaderboards: leaderboards, hub: hub, bans: bans, announcements: announcements, readiness: readiness,
            metrics: metrics, configuration: configuration.follower, logger: logger
        )
        writer = LogWriter(store: store, follower: follower, leaderboards: leaderboards, metrics: metrics, logger: logger)
        var secret = configuration.jwtSecret
        if configuration.isProduction, (secret?.utf8.count ?? 0) < 32 {
            throw ConfigurationError("production mode needs PODIUM_JWT_SECRET (--jwt-secret) of at least 32 bytes")
        }
        if secret == nil {
            logger.warning("PODIUM_JWT_SECRET is not set: using a random key, so access tokens end with this process")
            secret = Hex.random()
        }
        tokens = try await TokenService(secret: secret!, lifetime: configuration.accessTokenLifetime)
        if configuration.contracts.scoreTokenSecret == nil, store.isShared {
            logger.warning("SCORE_TOKEN_SECRET is not set: spec 003's score tokens are redeemable only on the instance that issued them")
        }
        scoreTokens = try await ScoreTokenSigner(
            secret: configuration.contracts.scoreTokenSecret ?? Hex.random(), lifetime: configuration.contracts.scoreTokenLifetime
        )
        let store = store
        let openID = configuration.openID.map {
            OpenIDSignIn(verifier: OpenIDVerifier(configuration: $0), accounts: store)
        }
        adminUsernames = Set(configuration.adminUsers.map { $0.lowercased() })
        decoyHash = DecoyPasswordHash(cost: configuration.bcryptCost)
        decoyHash.prepare()
        let admins = try await AdminAccounts.prepare(
            usernames: adminUsernames, password: configuration.adminPassword, bcryptCost: configuration.bcryptCost, store: store, logger: logger
        )
        authenticator = Authenticator(tokens: tokens, openID: openID, admins: admins)
    }

    static func openStore(_ configuration: ServerConfiguration, logger: Logger) async throws -> any PodiumStore {
        switch configuration.storage {
        case .postgres(let url):
            return try await PostgresStore.open(url: url, logger: logger)
        case .memory:
            return MemoryStore()
        case .sqlite:
            do {
                try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
                return try SQLiteStore(path: configuration.sqliteFile)
            } catch {
                throw ConfigurationError("cannot open the database in \(configuration.dataDirectory): \(error)")
            }
        }
    }

    /// The DynamoDB copy of the boards, its table checked: nil unless configured.
    /// - Throws: ``ConfigurationError`` if the table cannot be used.
    static func openReplica(_ configuration: ServerConfiguration, metrics: PodiumMetrics, logger: Logger) async throws -> SnapshotReplica? {
        guard let settings = configuration.dynamoDB else { return nil }
        let client = try DynamoDBClient(configuration: settings.client)
        try await checkTables([settings.snapshotTable], settings: settings, client: client)
        return SnapshotReplica(
            store: DynamoDBSnapshotStore(client: client, table: settings.snapshotTable, chunkSize: settings.snapshotChunkSize),
            restoresBoards: configuration.storage == .memory, metrics: metrics, logger: logger
        )
    }

    /// The DynamoDB score history, its table checked: nil unless `DDB_TABLE_SCORES` is set.
    static func openScoreHistory(_ configuration: ServerConfiguration, metrics: PodiumMetrics) async throws -> ScoreHistoryRecorder? {
        guard let settings = configuration.dynamoDB, let table = settings.scoreTable else { return nil }
        let client = try DynamoDBClient(configuration: settings.client)
        try await checkTables([table], settings: settings, client: client)
        return ScoreHistoryRecorder(
            history: DynamoDBScoreHistory(client: client, table: table), retryInterval: configuration.follower.replicaFlushInterval,
            metrics: metrics, logger: Logger(label: "podium")
        )
    }

    /// Checks that each table exists and is active.
    /// - Throws: ``ConfigurationError`` naming the table and why it cannot be used.
    static func checkTables(_ tables: [String], settings: DynamoDBSettings, client: DynamoDBClient) async throws {
        for table in tables {
            let status: String
            do {
                status = try await client.describeTable(table)
            } catch {
                throw ConfigurationError("cannot use DynamoDB table '\(table)' at \(settings.client.endpoint): \(error)")
            }
            guard status == "ACTIVE" || status == "UPDATING" else {
                throw ConfigurationError("DynamoDB table '\(table)' at \(settings.client.endpoint) is \(status), not ACTIVE")
            }
        }
    }

    /// Where players' histories are read: DynamoDB's score history over the memory store
    /// (which forgets at exit), else the store's log.
    var historySource: any ScoreHistorySource {
        if configuration.storage == .memory, let history = scoreHistory?.history { return history }
        return store
    }

    /// The router with every route.
    func makeRouter() -> Router<PodiumRequestContext> {
        let router = Router(context: PodiumRequestContext.self)
        router.add(middleware: RequestMiddleware(metrics: metrics, accessLog: accessLog))
        router.add(middleware: AuthMiddleware(authenticator: authenticator))
        let submissions = RateLimiter("submissions", limit: configuration.scoreSubmissionsPerMinute, per: .seconds(60), store: store)
        let bodyLimit = configuration.maxBodySize
        HealthController(readiness: readiness, metrics: metrics).addRoutes(to: router)
        LeaderboardController(leaderboards: leaderboards, history: historySource).addRoutes(to: router)
        IngestController(leaderboards: leaderboards, writer: writer, secret: configuration.ingestSecret, maxBodySize: bodyLimit)
            .addRoutes(to: router)
        let auth = AuthController(
            accounts: store, bans: bans, tokens: tokens, attempts: RateLimiter("sign-ins", limit: configuration.authAttemptsPerMinute, per: .seconds(60), store: store),
            bcryptCost: configuration.bcryptCost, decoyHash: decoyHash, adminUsers: adminUsernames, maxBodySize: bodyLimit
        )
        auth.addRoutes(to: router)
        RunController(
            leaderboards: leaderboards, accounts: store, writer: writer, submissions: submissions,
            starts: RateLimiter("run-starts", limit: configuration.scoreSubmissionsPerMinute, per: .seconds(60), store: store), bans: bans,
            sessionLifetime: Int64(configuration.runSessionLifetime) * 1000, maxBodySize: bodyLimit, logger: logger
        ).addRoutes(to: router)
        let actions = ActionController(
            leaderboards: leaderboards, accounts: store, writer: writer, submissions: submissions, bans: bans, maxBodySize: bodyLimit
        )
        actions.addRoutes(to: router)
        addContractRoutes(to: router, auth: auth, actions: actions, submissions: submissions)
        AdminController(
            leaderboards: leaderboards, accounts: store, announcements: announcements, follower: follower, writer: writer,
            maxBodySize: bodyLimit
        ).addRoutes(to: router)
        TransferController(leaderboards: leaderboards, writer: writer, bans: bans, maxImportSize: configuration.maxImportSize)
            .addRoutes(to: router)
        PageController(
            publicDirectory: configuration.publicDirectory, openAPIFile: configuration.openAPIFile, isProduction: configuration.isProduction
        ).addRoutes(to: router)
        PageController.addFileMiddleware(publicDirectory: configuration.publicDirectory, to: router)
        LiveController(hub: hub).addRoutes(to: router)
        return router
    }

    /// The routes of specs 001-004 (docs/compatibility.md): adapters over the same
    /// accounts, action catalogue, run sessions, rate limits and log as Podium's own.
    private func addContractRoutes(to router: Router<PodiumRequestContext>, auth: AuthController, actions: ActionController, submissions: RateLimiter) {
        let board = ContractBoard(leaderboards: leaderboards)
        let contracts = configuration.contracts
        let bodyLimit = configuration.maxBodySize
        ScoreboardModuleContract(
            board: board, accounts: store, actions: actions, bans: bans,
            starts: RateLimiter("spec001-action-starts", limit: contracts.actionStartsPerMinute, per: .seconds(60), store: store),
            completions: RateLimiter("spec001-action-completions", limit: contracts.actionCompletionsPerMinute, per: .seconds(60), store: store),
            actionLifetime: Int64(configuration.runSessionLifetime) * 1000, maxBodySize: bodyLimit
        ).addRoutes(to: router, login: auth.login)
        let spec002 = LiveScoreboardContract(board: board, actions: actions, bans: bans, submissions: submissions)
        spec002.addRoutes(to: router)
        let spec003 = ScoreTokenContract(
            board: board, leaderboards: leaderboards, accounts: store, actions: actions, bans: bans,
            issues: RateLimiter("spec003-score-tokens", limit: contracts.scoreTokensPerMinute, per: .seconds(60), store: store),
            submissions: submissions, tokens: scoreTokens, maxBodySize: bodyLimit
        )
        spec003.addRoutes(to: router)
        ScoreUpdateRoute(spec002: spec002, spec003: spec003, maxBodySize: bodyLimit).addRoutes(to: router)
        TechnicalSpecContract(board: board, actions: actions).addRoutes(to: router)
    }

    /// The Hummingbird application serving HTTP and WebSocket on one port.
    /// - Parameter onServerRunning: called with the listening channel (tests read the port from it).
    public func makeApplication(
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = makeRouter()
        let upgrades = LiveUpgrades(
            hub: hub, authenticator: authenticator, metrics: metrics, accessLog: accessLog, maxFrameSize: configuration.maxFrameSize,
            logger: logger
        )
        let connections = HTTPConnections(limits: configuration.http, metrics: metrics, logger: logger)
        let firstPages =
            configuration.firstPagesFastPath
            ? FirstPageHandler.Pages(leaderboards: leaderboards, metrics: metrics, accessLog: accessLog, logger: logger) : nil
        return Application(
            responder: HeadResponder(base: router.buildResponder()),
            server: HTTPServerBuilder { responder in
                LiveServerChannel(responder: responder, upgrades: upgrades, connections: connections, firstPages: firstPages)
            },
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "Podium", backlog: configuration.listenBacklog
            ),
            onServerRunning: { [logger] channel in
                do {
                    try await channel.eventLoop.submit {
                        try channel.pipeline.syncOperations.addHandler(AcceptBackoff(logger: logger), position: .first)
                        // NIO accepts 4 connections per wake-up by default: a burst of 1,000 then
                        // waits hundreds of loop turns, each serving every open connection.
                        try channel.syncOptions?.setOption(ChannelOptions.maxMessagesPerRead, value: Self.acceptsPerWakeUp)
                    }.get()
                } catch {
                    logger.warning("cannot guard the listening socket's accepts", metadata: ["error": "\(error)"])
                }
                await onServerRunning(channel)
            },
            logger: logger
        )
    }

    /// Connections the listening socket accepts each time it is readable.
    static let acceptsPerWakeUp: UInt = 256

    /// Every service of the server in one group. On graceful shutdown the hub (last)
    /// stops first and closes every socket with 1001; then the HTTP server finishes the
    /// requests in flight (closing those still open after the grace period); then the
    /// writer commits what is queued; then the follower folds it and writes a final
    /// snapshot.
    public func makeServiceGroup(
        gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint],
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> ServiceGroup {
        if configuration.ingestSecret == nil {
            logger.warning("REALTIME_INGEST_SECRET is not set: POST /score accepts callers on this machine only")
        }
        let application = makeApplication { [configuration] channel in
            let port = channel.localAddress?.port ?? configuration.port
            let host = ["0.0.0.0", "::", ""].contains(configuration.host) ? "127.0.0.1" : configuration.host
            let url = "http://\(host.contains(":") ? "[\(host)]" : host):\(port)/"
            logger.notice(
                "Podium \(PodiumVersion.number) is listening on \(url)",
                metadata: [
                    "address": "\(channel.localAddress?.description ?? "?")", "storage": "\(configuration.storage)",
                    "data": "\(configuration.dataLocation)", "games": "\(configuration.gamesFile ?? "built in")",
                    "pages": "\(configuration.publicDirectory ?? "built in")",
                    "dynamodb": "\(configuration.dynamoDB.map { "table \($0.snapshotTable) at \($0.client.endpoint)" } ?? "off")",
                ]
            )
            await onServerRunning(channel)
        }
        // The store's connections (PostgreSQL) outlive every service that uses them.
        let storeServices = ((store as? any Service).map { [$0] } ?? []) + (fleetConnections.map { [$0 as any Service] } ?? [])
        return ServiceGroup(
            configuration: .init(
                services: storeServices.map { .init(service: $0) } + [
                    .init(service: follower),
                    .init(service: writer),
                    .init(service: ShutdownDeadline(wrapped: application, limit: configuration.shutdownGrace, logger: logger)),
                    .init(service: hub),
                ],
                gracefulShutdownSignals: gracefulShutdownSignals,
                logger: logger
            )
        )
    }

    /// Makes this server's registry the process's swift-metrics backend, so metrics that
    /// libraries record through swift-metrics appear at `GET /metrics` too. Once per process.
    public func bootstrapMetricsSystem() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))
    }

    /// Runs until SIGTERM or SIGINT.
    public func run() async throws {
        try await makeServiceGroup().run()
    }
}
