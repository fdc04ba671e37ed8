import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import PodiumServer
import ServiceLifecycle
import Synchronization

/// A real Podium server on a free loopback port, for one test.
struct TestServer: Sendable {
    let podium: PodiumApplication
    let port: Int

    static let jwtSecret = "test-secret-that-is-at-least-32-bytes-long"
    /// Password of the `admin` account the server creates at start-up.
    static let adminPassword = "admin-password-for-tests"

    static let gamesJSON = """
        {
          "defaultGame": "arcade",
          "games": [
            {"id": "arcade", "name": "Arcade", "operator": "best", "maxScore": 1000000, "topN": 3},
            {"id": "sprint", "name": "Sprint", "sortOrder": "asc", "operator": "best", "topN": 5},
            {"id": "quests", "name": "Quests", "operator": "incr", "topN": 5,
             "actions": [{"id": "login", "points": 5}, {"id": "tutorial", "points": 50, "repeatable": false}]},
            {"id": "wide", "name": "Wide", "operator": "set", "topN": 100},
            {"id": "tally", "name": "Tally", "operator": "incr", "topN": 5},
            {"id": "guarded", "name": "Guarded", "operator": "best", "maxScorePerSecond": 10, "topN": 5},
            {"id": "trial", "name": "Trial", "sortOrder": "asc", "operator": "best", "minScore": 1000, "minRunMilliseconds": 60000, "topN": 5}
          ]
        }
        """

    /// Starts a server with its SQLite file in `directory`, runs `body`, then shuts the
    /// server down gracefully.
    static func run(
        in directory: TemporaryDirectory? = nil,
        configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: (TestServer) async throws -> Void
    ) async throws {
        let owned = directory == nil ? try TemporaryDirectory() : nil
        defer { owned?.remove() }
        let directory = (directory ?? owned!).url
        let gamesFile = directory.appendingPathComponent("games.json")
        try Data(gamesJSON.utf8).write(to: gamesFile)
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.dataDirectory = directory.path
        configuration.gamesFile = gamesFile.path
        configuration.bcryptCost = 4
        configuration.jwtSecret = TestServer.jwtSecret
        configuration.adminUsers = ["admin"]
        configuration.adminPassword = TestServer.adminPassword
        configure(&configuration)
        var logger = Logger(label: "podium-test")
        logger.logLevel = .warning
        let podium = try await PodiumApplication(configuration: configuration, logger: logger)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let group = podium.makeServiceGroup(gracefulShutdownSignals: []) { channel in
            portContinuation.yield(channel.localAddress?.port ?? 0)
        }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { return }
            do {
                let server = TestServer(podium: podium, port: port)
                while !podium.readiness.isReady { try await Task.sleep(for: .milliseconds(10)) }
                try await body(server)
            } catch {
                // Shut down as after a success before rethrowing: leaving the task group by
                // a throw would cancel the server instead.
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// One HTTP request over a new connection.
    func request(
        _ method: HTTPRequest.Method, _ path: String, json: String? = nil, headers: HTTPFields = [:]
    ) async throws -> HTTP.Response {
        try await HTTP.request(port: port, method, path, json: json, headers: headers)
    }

    /// Submits a score through `POST /score` and expects 200.
    @discardableResult
    func ingest(
        game: String = "arcade", user: String, name: String? = nil, country: String? = nil, score: Int64,
        at time: String = "2026-11-23T10:00:00Z"
    ) async throws -> [String: Any] {
        let countryField = country.map { #","countryCode":"\#($0)""# } ?? ""
        let body = #"{"gameId":"\#(game)","userId":"\#(user)","displayName":"\#(name ?? "Player \(user)")"\#(countryField),"score":\#(score),"achievedAt":"\#(time)"}"#
        let response = try await request(.post, "/score", json: body)
        guard response.status == .ok else { throw TestFailure("ingest answered \(response.status): \(response.body)") }
        return try JSON.object(response.body)
    }
}

/// A folder under the system's temporary directory, removed by `remove()`.
struct TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("podium-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

extension TestServer {
    /// Registers a user and returns their access token.
    func register(_ username: String, country: String = "GB") async throws -> String {
        let body = #"{"username":"\#(username)","password":"correct horse battery","displayName":"\#(username.capitalized)","countryCode":"\#(country)"}"#
        let response = try await request(.post, "/api/auth/register", json: body)
        guard response.status == .created, let token = try JSON.object(response.body)[string: "accessToken"] else {
            throw TestFailure("register answered \(response.status): \(response.body)")
        }
        return token
    }

    /// An access token of the `admin` account.
    func signInAsAdmin() async throws -> String {
        let response = try await request(.post, "/api/auth/login", json: #"{"username":"admin","password":"\#(TestServer.adminPassword)"}"#)
        guard response.status == .ok, let token = try JSON.object(response.body)[string: "accessToken"] else {
            throw TestFailure("login answered \(response.status): \(response.body)")
        }
        return token
    }

    /// A request with `Authorization: Bearer token`.
    func request(
        _ method: HTTPRequest.Method, _ path: String, json: String? = nil, token: String
    ) async throws -> HTTP.Response {
        try await request(method, path, json: json, headers: [.authorization: "Bearer \(token)"])
    }

    /// Starts a run and returns its session token.
    func startRun(game: String = "arcade", token: String) async throws -> String {
        let response = try await request(.post, "/api/game-sessions", json: #"{"gameId":"\#(game)"}"#, token: token)
        guard response.status == .created, let session = try JSON.object(response.body)[string: "token"] else {
            throw TestFailure("game-sessions answered \(response.status): \(response.body)")
        }
        return session
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Parsing of JSON answers in tests.
enum JSON {
    static func object(_ text: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw TestFailure("not a JSON object: \(text)")
        }
        return object
    }
}

extension Dictionary where Key == String, Value == Any {
    subscript(object key: String) -> [String: Any]? { self[key] as? [String: Any] }
    subscript(array key: String) -> [[String: Any]]? { self[key] as? [[String: Any]] }
    subscript(string key: String) -> String? { self[key] as? String }
    subscript(int key: String) -> Int? { (self[key] as? NSNumber)?.intValue }
    subscript(bool key: String) -> Bool? { self[key] as? Bool }
}
