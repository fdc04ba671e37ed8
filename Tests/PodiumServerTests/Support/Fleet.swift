import Foundation
import HTTPTypes

/// Several real `podium serve` processes sharing one new PostgreSQL database.
struct Fleet: Sendable {
    let instances: [ServerProcess]
    let databaseURL: String
    let arguments: [String]

    static let games = """
        {"defaultGame": "counter", "games": [
          {"id": "counter", "name": "Counter", "operator": "incr", "topN": 10},
          {"id": "arcade", "name": "Arcade", "operator": "best", "maxScore": 1000000, "topN": 5},
          {"id": "quests", "name": "Quests", "operator": "incr", "topN": 5,
           "actions": [{"id": "login", "points": 5}, {"id": "tutorial", "points": 50, "repeatable": false}]}
        ]}
        """

    /// Starts `count` instances on a new database, runs `body`, then stops every instance
    /// still running with SIGTERM.
    static func run(
        _ count: Int = 3, on server: String? = nil, extraArguments: [String] = [], _ body: (Fleet) async throws -> Void
    ) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let gamesFile = directory.url.appendingPathComponent("games.json")
        try Data(games.utf8).write(to: gamesFile)
        try await TestPostgres.withDatabase(on: server) { url in
            let arguments = [
                "--storage", url, "--games", gamesFile.path, "--jwt-secret", TestServer.jwtSecret, "--admin-users", "admin",
                "--admin-password", TestServer.adminPassword, "--bcrypt-cost", "10", "--log-level", "notice",
            ] + extraArguments
            var instances: [ServerProcess] = []
            do {
                // Started together: their schema migrations and admin accounts race.
                try await withThrowingTaskGroup(of: ServerProcess.self) { group in
                    for _ in 0..<count { group.addTask { try await ServerProcess.start(arguments: arguments) } }
                    for try await instance in group { instances.append(instance) }
                }
                try await body(Fleet(instances: instances, databaseURL: url, arguments: arguments))
            } catch {
                for instance in instances where instance.process.isRunning { _ = await instance.stop(signal: SIGTERM) }
                throw error
            }
            for instance in instances where instance.process.isRunning { _ = await instance.stop(signal: SIGTERM) }
        }
    }

    /// A new instance on the same database.
    func startAnother() async throws -> ServerProcess {
        try await ServerProcess.start(arguments: arguments)
    }

    /// The `/api/admin/boards` answer of each instance, once all report the same applied
    /// sequence (and at least `sequence`).
    func converged(atLeast sequence: Int64 = 0, among servers: [ServerProcess]? = nil) async throws -> [[String: Any]] {
        let servers = servers ?? instances
        var tokens: [String] = []
        for server in servers { tokens.append(try await server.signInAsAdmin()) }
        var last: [[String: Any]] = []
        for _ in 0..<200 {
            last = []
            for (server, token) in zip(servers, tokens) {
                let response = try await HTTP.request(
                    port: server.port, .get, "/api/admin/boards", headers: [.authorization: "Bearer \(token)"]
                )
                last.append(try JSON.object(response.body))
            }
            let positions = Set(last.compactMap { $0["appliedSequence"] as? Int })
            if positions.count == 1, let position = positions.first, Int64(position) >= sequence { return last }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("the instances did not converge: \(last.map { $0["appliedSequence"] ?? "?" })")
    }
}

extension ServerProcess {
    /// A request with `Authorization: Bearer token` (if any).
    func request(_ method: HTTPRequest.Method, _ path: String, json: String? = nil, token: String? = nil) async throws -> HTTP.Response {
        try await HTTP.request(port: port, method, path, json: json, headers: token.map { [.authorization: "Bearer \($0)"] } ?? [:])
    }

    func signInAsAdmin() async throws -> String {
        let response = try await request(.post, "/api/auth/login", json: #"{"username":"admin","password":"\#(TestServer.adminPassword)"}"#)
        guard response.status == .ok, let token = try JSON.object(response.body)[string: "accessToken"] else {
            throw TestFailure("login answered \(response.status): \(response.body)")
        }
        return token
    }

    func register(_ username: String) async throws -> String {
        let body = #"{"username":"\#(username)","password":"correct horse battery","displayName":"\#(username.capitalized)","countryCode":"GB"}"#
        let response = try await request(.post, "/api/auth/register", json: body)
        guard response.status == .created, let token = try JSON.object(response.body)[string: "accessToken"] else {
            throw TestFailure("register answered \(response.status): \(response.body)")
        }
        return token
    }

    /// `POST /score` from a trusted game server (loopback, no secret).
    func ingest(game: String = "counter", user: String, score: Int64) async throws -> HTTP.Response {
        try await request(
            .post, "/score",
            json: #"{"gameId":"\#(game)","userId":"\#(user)","displayName":"\#(user)","countryCode":"GB","score":\#(score),"achievedAt":"2026-11-23T10:00:00Z"}"#
        )
    }
}
