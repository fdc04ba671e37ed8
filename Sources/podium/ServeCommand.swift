import ArgumentParser
import Foundation
import Logging
import PodiumServer

/// `podium serve`: runs the server. Every option can also come from the environment.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Podium server (HTTP API, WebSocket hub and web pages on one port)."
    )

    @Option(help: "Log format: text or json. Env: PODIUM_LOG_FORMAT. Default text.")
    var logFormat: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. Env: PODIUM_LOG_LEVEL. Default info.")
    var logLevel: String?

    @Flag(help: "Production mode: hides the test-score button and requires a JWT secret. Env: PODIUM_ENV=production or NODE_ENV=production.")
    var production = false

    @Option(help: "Folder of the web pages, instead of those built into podium. Env: PODIUM_PUBLIC_DIR.")
    var publicDirectory: String?

    @Option(help: "Address to listen on. Env: PODIUM_HOST. Default 127.0.0.1.")
    var host: String?

    @Option(help: "Port for HTTP and WebSocket. Env: REALTIME_PORT. Default 4000.")
    var port: Int?

    @Option(help: "Where the log lives: sqlite (a file in the data directory), memory (lost at exit) or postgres://user:password@host:5432/database (shared by a fleet of instances). Env: PODIUM_STORAGE, or DATABASE_URL. Default sqlite.")
    var storage: String?

    @Option(help: "Folder of the SQLite database (podium.sqlite). Env: PODIUM_DATA_DIR. Default ./data.")
    var dataDirectory: String?

    @Option(help: "Seconds between board snapshots (also taken at shutdown). Env: PODIUM_SNAPSHOT_INTERVAL. Default 10 (seed 000).")
    var snapshotInterval: Int?

    @Option(help: "Seconds between flushes of changed boards to DynamoDB (DDB_TABLE_LEADERBOARD_SNAPSHOTS). Env: PODIUM_DYNAMODB_FLUSH_INTERVAL. Default 10.")
    var dynamodbFlushInterval: Int?

    @Option(help: "Seconds a shutdown waits for requests in flight before closing their connections. Env: PODIUM_SHUTDOWN_GRACE. Default 5.")
    var shutdownGrace: Int?

    @Option(help: "Games registry file (JSON), instead of the sample built into podium. Env: PODIUM_GAMES_FILE.")
    var games: String?

    @Option(help: "Shared secret of POST /score (header x-realtime-secret). Env: REALTIME_INGEST_SECRET. Unset: loopback callers only.")
    var ingestSecret: String?

    @Option(help: "Length of the queue of connections not yet accepted (capped by net.core.somaxconn). Env: PODIUM_LISTEN_BACKLOG. Default 4096.")
    var listenBacklog: Int?

    @Option(help: "Log one read (GET or HEAD answered below 400) in N; 1 logs every read, 0 none. Writes and errors are always logged. Env: PODIUM_ACCESS_LOG_READS. Default: every read up to 100 a second, then one in 100.")
    var accessLogReads: Int?

    @Option(help: "Answer first pages of boards right after the HTTP decoder (true) or through the router (false); the answers are the same. Env: PODIUM_FAST_PATH. Default true.")
    var fastPath: Bool?

    @Option(help: "Open WebSocket connections allowed. Env: PODIUM_MAX_CONNECTIONS. Default 19000.")
    var maxConnections: Int?

    @Option(help: "Open HTTP connections allowed (not upgraded to WebSocket); more are answered 503. Env: PODIUM_MAX_HTTP_CONNECTIONS. Default 512.")
    var maxHttpConnections: Int?

    @Option(help: "Seconds a request head may take to arrive (from the connection's opening, or the request's first byte). Env: PODIUM_REQUEST_HEAD_TIMEOUT. Default 10.")
    var requestHeadTimeout: Int?

    @Option(help: "Seconds a request body may take to arrive after its head, plus one per 64 KiB that arrived. Env: PODIUM_REQUEST_BODY_TIMEOUT. Default 10.")
    var requestBodyTimeout: Int?

    @Option(help: "Largest import (POST /api/admin/games/{gameId}/import, podium import), in MiB. Env: PODIUM_MAX_IMPORT_SIZE. Default 256.")
    var maxImportSize: Int?

    @Option(help: "Seconds a kept-alive HTTP connection may wait for its next request. Env: PODIUM_KEEP_ALIVE_TIMEOUT. Default 30.")
    var keepAliveTimeout: Int?

    @Option(help: "HS256 key of access tokens, at least 32 bytes. Env: PODIUM_JWT_SECRET (or JWT_SECRET). Unset: a random key per start.")
    var jwtSecret: String?

    @Option(help: "Seconds an access token stays valid. Env: PODIUM_ACCESS_TOKEN_LIFETIME. Default 900.")
    var accessTokenLifetime: Int?

    @Option(help: "Seconds a run token (POST /api/game-sessions) stays valid. Env: PODIUM_RUN_TOKEN_LIFETIME. Default 600.")
    var runTokenLifetime: Int?

    @Option(help: "bcrypt cost of password hashes, 10-16. Env: PODIUM_BCRYPT_COST. Default 12.")
    var bcryptCost: Int?

    @Option(help: "OpenID issuer whose ID tokens sign users in, e.g. https://accounts.google.com. Env: PODIUM_OIDC_ISSUER.")
    var oidcIssuer: String?

    @Option(help: "Client id the ID tokens must be issued for (their aud). Env: PODIUM_OIDC_CLIENT_ID.")
    var oidcClientId: String?

    @Option(help: "The issuer's JWKS URL. Env: PODIUM_OIDC_JWKS_URL. Default for Google: https://www.googleapis.com/oauth2/v3/certs.")
    var oidcJwksUrl: String?

    @Option(help: "Comma-separated usernames of the admin accounts; nobody can register them. Env: PODIUM_ADMIN_USERS.")
    var adminUsers: String?

    @Option(help: "Password of the admin accounts created at start-up when missing. Env: PODIUM_ADMIN_PASSWORD.")
    var adminPassword: String?

    @Option(help: "Score submissions per user per minute. Env: PODIUM_SCORE_RATE_LIMIT. Default 10.")
    var scoreRateLimit: Int?

    @Option(help: "Register and login attempts per IP address per minute. Env: PODIUM_AUTH_RATE_LIMIT. Default 20.")
    var authRateLimit: Int?

    @Option(help: "Entries pushed live for games of the registry that set no topN. Env: TOP_N. Default 10.")
    var topN: Int?

    @Option(help: "Country of a local subscription that names none when the player's is unknown. Env: DEFAULT_COUNTRY_CODE. Default GB.")
    var defaultCountryCode: String?

    @Option(help: "Spec 001: action starts (POST /users/:userId/actions) per user per minute. Env: PODIUM_ACTION_START_RATE_LIMIT. Default 10.")
    var actionStartRateLimit: Int?

    @Option(help: "Spec 001: action completions (PUT /users/:userId/actions/:actionId) per user per minute. Env: PODIUM_ACTION_COMPLETE_RATE_LIMIT. Default 30.")
    var actionCompleteRateLimit: Int?

    @Option(help: "Spec 003: HS256 key of score tokens, at least 32 bytes. Env: SCORE_TOKEN_SECRET. Unset: a random key per start.")
    var scoreTokenSecret: String?

    @Option(help: "Spec 003: seconds a score token stays valid. Env: PODIUM_SCORE_TOKEN_LIFETIME. Default 60.")
    var scoreTokenLifetime: Int?

    @Option(help: "Spec 003: score tokens issued (POST /api/v1/actions/complete) per user per minute. Env: PODIUM_SCORE_TOKEN_RATE_LIMIT. Default 10.")
    var scoreTokenRateLimit: Int?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var configuration = ServerConfiguration()
        configuration.isProduction = production || environment["PODIUM_ENV"] == "production" || environment["NODE_ENV"] == "production"
        configuration.publicDirectory = publicDirectory ?? environment["PODIUM_PUBLIC_DIR"] ?? configuration.publicDirectory
        configuration.host = host ?? environment["PODIUM_HOST"] ?? configuration.host
        configuration.port = try port ?? Self.integer(environment, "REALTIME_PORT") ?? configuration.port
        let storageSettings = try StorageOptions.configuration(storage: storage, dataDirectory: dataDirectory)
        configuration.storage = storageSettings.storage
        configuration.dataDirectory = storageSettings.dataDirectory
        if let seconds = try Self.positive(snapshotInterval ?? Self.integer(environment, "PODIUM_SNAPSHOT_INTERVAL"), "the snapshot interval") {
            configuration.follower.snapshotInterval = .seconds(seconds)
        }
        if let seconds = try Self.positive(
            dynamodbFlushInterval ?? Self.integer(environment, "PODIUM_DYNAMODB_FLUSH_INTERVAL"), "the DynamoDB flush interval"
        ) {
            configuration.follower.replicaFlushInterval = .seconds(seconds)
        }
        if let seconds = try Self.positive(shutdownGrace ?? Self.integer(environment, "PODIUM_SHUTDOWN_GRACE"), "the shutdown grace") {
            configuration.shutdownGrace = .seconds(seconds)
        }
        configuration.gamesFile = games ?? environment["PODIUM_GAMES_FILE"] ?? configuration.gamesFile
        configuration.ingestSecret = ingestSecret ?? environment["REALTIME_INGEST_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        if let backlog = try Self.positive(listenBacklog ?? Self.integer(environment, "PODIUM_LISTEN_BACKLOG"), "the listen backlog") {
            configuration.listenBacklog = backlog
        }
        if let sampling = try accessLogReads ?? Self.integer(environment, "PODIUM_ACCESS_LOG_READS") {
            guard sampling >= 0 else { throw ValidationError("the access log's read sampling must be 0 or more, not \(sampling).") }
            configuration.accessLogReadSampling = sampling
        }
        if let fastPath = try fastPath ?? Self.boolean(environment, "PODIUM_FAST_PATH") {
            configuration.firstPagesFastPath = fastPath
        }
        configuration.live.maxConnections =
            try maxConnections ?? Self.integer(environment, "PODIUM_MAX_CONNECTIONS") ?? configuration.live.maxConnections
        if let count = try Self.positive(
            maxHttpConnections ?? Self.integer(environment, "PODIUM_MAX_HTTP_CONNECTIONS"), "the HTTP connection limit"
        ) {
            configuration.http.maxConnections = count
        }
        if let seconds = try Self.positive(requestHeadTimeout ?? Self.integer(environment, "PODIUM_REQUEST_HEAD_TIMEOUT"), "the request head timeout") {
            configuration.http.headTimeout = .seconds(seconds)
        }
        if let seconds = try Self.positive(requestBodyTimeout ?? Self.integer(environment, "PODIUM_REQUEST_BODY_TIMEOUT"), "the request body timeout") {
            configuration.http.bodyTimeout = .seconds(seconds)
        }
        if let mebibytes = try Self.positive(maxImportSize ?? Self.integer(environment, "PODIUM_MAX_IMPORT_SIZE"), "the largest import") {
            configuration.maxImportSize = mebibytes * 1024 * 1024
        }
        if let seconds = try Self.positive(keepAliveTimeout ?? Self.integer(environment, "PODIUM_KEEP_ALIVE_TIMEOUT"), "the keep-alive timeout") {
            configuration.http.idleTimeout = .seconds(seconds)
        }
        configuration.jwtSecret = (jwtSecret ?? environment["PODIUM_JWT_SECRET"] ?? environment["JWT_SECRET"]).flatMap { $0.isEmpty ? nil : $0 }
        configuration.accessTokenLifetime = try Self.positive(
            accessTokenLifetime ?? Self.integer(environment, "PODIUM_ACCESS_TOKEN_LIFETIME"), "the access token lifetime"
        ) ?? configuration.accessTokenLifetime
        configuration.runSessionLifetime = try Self.positive(
            runTokenLifetime ?? Self.integer(environment, "PODIUM_RUN_TOKEN_LIFETIME"), "the run token lifetime"
        ) ?? configuration.runSessionLifetime
        if let cost = try bcryptCost ?? Self.integer(environment, "PODIUM_BCRYPT_COST") {
            guard (10...16).contains(cost) else { throw ValidationError("the bcrypt cost must be 10-16, not \(cost).") }
            configuration.bcryptCost = UInt8(cost)
        }
        if let admins = adminUsers ?? environment["PODIUM_ADMIN_USERS"] {
            let names = admins.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if let invalid = names.first(where: { !UserRecord.isValid(username: $0) }) {
                throw ValidationError("admin username '\(invalid)' must be 3-32 letters, digits, dots, dashes or underscores.")
            }
            configuration.adminUsers = Set(names)
        }
        configuration.adminPassword = (adminPassword ?? environment["PODIUM_ADMIN_PASSWORD"]).flatMap { $0.isEmpty ? nil : $0 }
        if let issuer = oidcIssuer ?? environment["PODIUM_OIDC_ISSUER"] {
            guard let clientId = oidcClientId ?? environment["PODIUM_OIDC_CLIENT_ID"] else {
                throw ValidationError("an OpenID issuer needs its client id (--oidc-client-id or PODIUM_OIDC_CLIENT_ID).")
            }
            let googleKeys = issuer == "https://accounts.google.com" ? "https://www.googleapis.com/oauth2/v3/certs" : nil
            guard let jwksURL = oidcJwksUrl ?? environment["PODIUM_OIDC_JWKS_URL"] ?? googleKeys else {
                throw ValidationError("an OpenID issuer needs its JWKS URL (--oidc-jwks-url or PODIUM_OIDC_JWKS_URL).")
            }
            configuration.openID = .init(issuer: issuer, audience: clientId, jwksURL: jwksURL)
        }
        configuration.scoreSubmissionsPerMinute =
            try scoreRateLimit ?? Self.integer(environment, "PODIUM_SCORE_RATE_LIMIT") ?? configuration.scoreSubmissionsPerMinute
        configuration.authAttemptsPerMinute =
            try authRateLimit ?? Self.integer(environment, "PODIUM_AUTH_RATE_LIMIT") ?? configuration.authAttemptsPerMinute
        if let topN = try topN ?? Self.integer(environment, "TOP_N") {
            guard (1...500).contains(topN) else { throw ValidationError("TOP_N must be between 1 and 500, not \(topN).") }
            configuration.defaultTopN = topN
        }
        if let code = defaultCountryCode ?? environment["DEFAULT_COUNTRY_CODE"] {
            guard configuration.live.setDefaultCountryCode(code) else {
                throw ValidationError("DEFAULT_COUNTRY_CODE must be an ISO 3166-1 alpha-2 code, not '\(code)'.")
            }
        }
        func positive(_ option: Int?, _ variable: String, _ name: String, else value: Int) throws -> Int {
            try Self.positive(option ?? Self.integer(environment, variable), name) ?? value
        }
        var contracts = configuration.contracts
        contracts.actionStartsPerMinute = try positive(
            actionStartRateLimit, "PODIUM_ACTION_START_RATE_LIMIT", "the action start rate limit", else: contracts.actionStartsPerMinute
        )
        contracts.actionCompletionsPerMinute = try positive(
            actionCompleteRateLimit, "PODIUM_ACTION_COMPLETE_RATE_LIMIT", "the action completion rate limit",
            else: contracts.actionCompletionsPerMinute
        )
        contracts.scoreTokenSecret = (scoreTokenSecret ?? environment["SCORE_TOKEN_SECRET"]).flatMap { $0.isEmpty ? nil : $0 }
        contracts.scoreTokenLifetime = try positive(
            scoreTokenLifetime, "PODIUM_SCORE_TOKEN_LIFETIME", "the score token lifetime", else: contracts.scoreTokenLifetime
        )
        contracts.scoreTokensPerMinute = try positive(
            scoreTokenRateLimit, "PODIUM_SCORE_TOKEN_RATE_LIMIT", "the score token rate limit", else: contracts.scoreTokensPerMinute
        )
        configuration.contracts = contracts
        do {
            configuration.dynamoDB = try DynamoDBSettings(environment: environment)
        } catch {
            throw ValidationError(error.description)
        }
        let levelName = logLevel ?? environment["PODIUM_LOG_LEVEL"] ?? "info"
        guard let level = Logger.Level(rawValue: levelName) else { throw ValidationError("unknown log level '\(levelName)'.") }
        let formatName = logFormat ?? environment["PODIUM_LOG_FORMAT"] ?? "text"
        guard let format = PodiumLogHandler.Format(rawValue: formatName) else {
            throw ValidationError("the log format must be text or json, not '\(formatName)'.")
        }
        LoggingSystem.bootstrap { PodiumLogHandler(label: $0, format: format, level: level) }
        let logger = Logger(label: "podium")
        let application: PodiumApplication
        do {
            application = try await PodiumApplication(configuration: configuration, logger: logger)
        } catch let error as ConfigurationError {
            throw ExitCode.refusal(error.description)
        }
        application.bootstrapMetricsSystem()
        try await application.run()
    }

    private static func positive(_ value: Int?, _ name: String) throws -> Int? {
        guard let value else { return nil }
        guard value > 0 else { throw ValidationError("\(name) must be positive, not \(value).") }
        return value
    }

    private static func boolean(_ environment: [String: String], _ name: String) throws -> Bool? {
        guard let text = environment[name] else { return nil }
        guard let value = Bool(text) else { throw ValidationError("\(name) must be true or false, not '\(text)'.") }
        return value
    }

    private static func integer(_ environment: [String: String], _ name: String) throws -> Int? {
        guard let text = environment[name] else { return nil }
        guard let value = Int(text) else { throw ValidationError("\(name) must be an integer, not '\(text)'.") }
        return value
    }
}
