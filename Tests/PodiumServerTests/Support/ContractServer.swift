import Foundation
import HTTPTypes
import PodiumServer

/// A server whose default game is the contract board of specs 001-004: an `incr` game
/// with the actions the specs name (`quiz_123`, `level_complete`, `quiz_complete`, …).
enum ContractServer {
    static let game = "quest"

    static let gamesJSON = """
        {
          "defaultGame": "quest",
          "games": [
            {"id": "quest", "name": "Quest", "operator": "incr", "topN": 10,
             "actions": [
               {"id": "daily-login", "points": 5},
               {"id": "tutorial", "points": 50, "repeatable": false},
               {"id": "boss", "points": 100, "requiresRun": true},
               {"id": "quiz_123", "points": 10, "repeatable": false},
               {"id": "level_5", "points": 50, "repeatable": false},
               {"id": "level_complete", "points": 100},
               {"id": "quiz_complete", "points": 100},
               {"id": "task_finish", "points": 50},
               {"id": "daily_login", "points": 10}
             ]},
            {"id": "arcade", "name": "Arcade", "operator": "best"}
          ]
        }
        """

    /// Runs `body` against a server with this registry and a short coalescing interval.
    static func run(configure: (inout ServerConfiguration) -> Void = { _ in }, _ body: (TestServer) async throws -> Void) async throws {
        try await TestServer.run(
            configure: { configuration in
                let file = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("contract-games.json")
                try? Data(gamesJSON.utf8).write(to: file)
                configuration.gamesFile = file.path
                configuration.live.coalescingInterval = .milliseconds(20)
                configure(&configuration)
            }, body)
    }
}

/// A signed-up player: their access token and user id.
struct Player {
    var token: String
    var userId: String
    var name: String
}

extension TestServer {
    /// Registers `username` through Podium (the specs have no sign-up) and returns the player.
    func player(_ username: String, country: String = "GB") async throws -> Player {
        let body = #"{"username":"\#(username)","password":"correct horse battery","displayName":"\#(username.capitalized)","countryCode":"\#(country)"}"#
        let response = try await request(.post, "/api/auth/register", json: body)
        let object = try JSON.object(response.body)
        guard response.status == .created, let token = object[string: "accessToken"], let userId = object[string: "userId"] else {
            throw TestFailure("register answered \(response.status): \(response.body)")
        }
        return Player(token: token, userId: userId, name: username.capitalized)
    }

    /// A request and its JSON object answer.
    func call(
        _ method: HTTPRequest.Method, _ path: String, json: String? = nil, token: String? = nil, headers: HTTPFields = [:]
    ) async throws -> (status: HTTPResponse.Status, body: [String: Any], headers: HTTPFields) {
        var headers = headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        let response = try await request(method, path, json: json, headers: headers)
        return (response.status, try JSON.object(response.body), response.headers)
    }

    /// The global top of the contract game through Podium's own API, as (userId, score).
    func podiumTop() async throws -> [Standing] {
        let page = try JSON.object(try await request(.get, "/api/leaderboards/\(ContractServer.game)?limit=10").body)
        return (page[array: "entries"] ?? []).map { Standing($0[string: "userId"] ?? "", $0[int: "score"] ?? -1) }
    }
}

/// One player's place as a test compares it across contracts.
struct Standing: Equatable, CustomStringConvertible {
    var userId: String
    var score: Int

    init(_ userId: String, _ score: Int) {
        self.userId = userId
        self.score = score
    }

    var description: String { "\(userId)=\(score)" }

    /// The standings of entries with the given id and score keys.
    static func of(_ entries: [[String: Any]]?, id: String = "userId", score: String = "score") -> [Standing] {
        (entries ?? []).map { Standing($0[string: id] ?? "", $0[int: score] ?? -1) }
    }
}

extension JSON {
    static func array(_ text: String) throws -> [[String: Any]] {
        guard let array = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] else {
            throw TestFailure("not a JSON array of objects: \(text)")
        }
        return array
    }
}
