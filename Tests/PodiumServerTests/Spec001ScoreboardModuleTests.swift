import Foundation
import HTTPTypes
import NIOWebSocket
import Testing

/// Spec 001's client, played over real sockets with only what the spec says: `POST
/// /auth/login`, the action lifecycle, `GET /top-scores`, and a WebSocket that takes the
/// JWT in `Sec-WebSocket-Protocol` and pushes `top_scores_update`.
@Suite("Spec 001 (scoreboard module): its client works unchanged", .timeLimit(.minutes(2)))
struct Spec001ScoreboardModuleTests {
    static func login(_ server: TestServer, _ username: String) async throws -> String {
        let answer = try await server.call(.post, "/auth/login", json: #"{"username":"\#(username)","password":"correct horse battery"}"#)
        #expect(answer.status == .ok)
        #expect(answer.body[int: "expiresIn"] != nil)
        return try #require(answer.body[string: "accessToken"])
    }

    static func socket(_ server: TestServer, token: String) async throws -> LiveClient {
        try await LiveClient.open(port: server.port, path: "/ws/top-scores", headers: [HTTPField.Name("Sec-WebSocket-Protocol")!: token])
    }

    @Test func signInActAndSeeTheTopTenChangeLive() async throws {
        try await ContractServer.run { server in
            let alice = try await server.player("alice")
            let token = try await Self.login(server, "alice")
            let live = try await Self.socket(server, token: token)
            defer { live.close() }
            let first = try await live.nextMessage()
            #expect(first[string: "type"] == "top_scores_update" && (first["payload"] as? [Any])?.isEmpty == true)
            // Podium's own hub sees the same board.
            let podium = try await LiveClient.connect(port: server.port)
            defer { podium.close() }
            podium.send(#"{"type":"subscribe","gameId":"quest","scopes":["global"]}"#)
            _ = try await podium.nextMessage()

            let started = try await server.call(
                .post, "/users/\(alice.userId)/actions", json: #"{"status":"started","metadata":{"level":1}}"#, token: token
            )
            #expect(started.status == .created)
            #expect(started.body[string: "status"] == "started")
            let actionId = try #require(started.body[string: "actionId"])
            let completed = try await server.call(.put, "/users/\(alice.userId)/actions/\(actionId)", json: #"{"started":"completed"}"#, token: token)
            #expect(completed.status == .ok, "\(completed.body)")
            #expect(completed.body[string: "status"] == "completed")

            let update = try await live.nextMessage()
            #expect(update[string: "type"] == "top_scores_update")
            #expect(update[string: "timestamp"] != nil)
            let payload = try #require(update["payload"] as? [[String: Any]])
            #expect(Standing.of(payload) == [Standing(alice.userId, 5)])
            #expect(payload.first?[string: "username"] == "Alice")

            let top = try JSON.array(try await server.request(.get, "/top-scores").body)
            #expect(Standing.of(top) == [Standing(alice.userId, 5)])
            #expect(try await server.podiumTop() == [Standing(alice.userId, 5)])
            let pushed = try await podium.nextMessage()
            #expect(pushed[string: "type"] == "leaderboard:update")
            #expect(Standing.of(pushed[object: "payload"]?[array: "entries"]) == [Standing(alice.userId, 5)])
        }
    }

    @Test func theSpecsStatusCodes() async throws {
        try await ContractServer.run(configure: { $0.contracts.actionStartsPerMinute = 4 }) { server in
            let alice = try await server.player("alice")
            let bob = try await server.player("bob")
            let start = try await server.call(.post, "/users/\(alice.userId)/actions", json: #"{"status":"started"}"#, token: alice.token)
            let actionId = try #require(start.body[string: "actionId"])
            let path = "/users/\(alice.userId)/actions/\(actionId)"

            #expect(try await server.call(.post, "/users/\(alice.userId)/actions", json: #"{"status":"started"}"#).status == .unauthorized)
            // Another user's action, by its path or by its id under one's own path.
            #expect(try await server.call(.put, path, json: #"{"status":"completed"}"#, token: bob.token).status == .forbidden)
            let stolen = try await server.call(.put, "/users/\(bob.userId)/actions/\(actionId)", json: #"{"status":"completed"}"#, token: bob.token)
            #expect(stolen.status == .forbidden && stolen.body[object: "error"]?[string: "code"] == "FORBIDDEN")
            #expect(try await server.call(.post, "/users/\(alice.userId)/actions", json: "{}", token: bob.token).status == .forbidden)
            // Unknown action or user.
            let unknown = try await server.call(.put, "/users/\(alice.userId)/actions/daily-login.00ff", json: "{}", token: alice.token)
            #expect(unknown.status == .notFound && unknown.body[object: "error"]?[string: "code"] == "NOT_FOUND")
            let forged = actionId.replacingOccurrences(of: "daily-login.", with: "tutorial.")
            #expect(try await server.call(.put, "/users/\(alice.userId)/actions/\(forged)", json: "{}", token: alice.token).status == .notFound)
            #expect(try await server.call(.post, "/users/nobody/actions", json: "{}", token: alice.token).status == .notFound)
            // Malformed bodies.
            #expect(try await server.call(.post, "/users/\(alice.userId)/actions", json: #"{"status":"done"}"#, token: alice.token).status == .badRequest)
            #expect(try await server.call(.put, path, json: #"{"status":1"#, token: alice.token).status == .badRequest)
            #expect(try await server.call(.post, "/users/\(alice.userId)/actions", json: #"{"type":"nope"}"#, token: alice.token).status == .badRequest)

            #expect(try await server.call(.put, path, json: #"{"status":"completed"}"#, token: alice.token).status == .ok)
            let again = try await server.call(.put, path, json: #"{"status":"completed"}"#, token: alice.token)
            #expect(again.status == .conflict && again.body[object: "error"]?[string: "code"] == "ALREADY_COMPLETED")
            #expect(Standing.of(try JSON.array(try await server.request(.get, "/top-scores").body)) == [Standing(alice.userId, 5)])

            // Four starts a minute here (the spec's 10 by default; three were made above):
            // the fifth is refused.
            #expect(try await server.call(.post, "/users/\(alice.userId)/actions", json: "{}", token: alice.token).status == .created)
            let limited = try await server.call(.post, "/users/\(alice.userId)/actions", json: "{}", token: alice.token)
            #expect(limited.status == .tooManyRequests && limited.headers[.retryAfter] != nil)
        }
    }

    @Test func theSocketRefusesUnauthorizedConnectionsAndEchoesTheProtocol() async throws {
        try await ContractServer.run { server in
            _ = try await server.player("alice")
            let token = try await Self.login(server, "alice")
            let anonymous = try RawWebSocket(port: server.port, path: "/ws/top-scores")
            defer { anonymous.close() }
            let refused = try await anonymous.answerUntilClosed()
            #expect(refused.hasPrefix("HTTP/1.1 401") && refused.contains("UNAUTHORIZED"), "\(refused)")
            let forged = try RawWebSocket(port: server.port, path: "/ws/top-scores", headers: "Sec-WebSocket-Protocol: \(token)x\r\n")
            defer { forged.close() }
            #expect(try await forged.answerUntilClosed().hasPrefix("HTTP/1.1 401"))

            // The browser way: the token as the offered subprotocol, which must come back.
            let browser = try RawWebSocket(port: server.port, path: "/ws/top-scores", headers: "Sec-WebSocket-Protocol: \(token)\r\n")
            defer { browser.close() }
            try browser.send(frame: [0x03, 0xE8], opcode: 0x8)
            let (head, frames) = try await browser.upgradeUntilClosed()
            #expect(head.contains("Sec-WebSocket-Protocol: \(token)\r\n"), "\(head)")
            #expect(frames.first.map { try? JSON.object($0.text)[string: "type"] } == "top_scores_update")
            let named = try RawWebSocket(port: server.port, path: "/ws/top-scores", headers: "Sec-WebSocket-Protocol: bearer, \(token)\r\n")
            defer { named.close() }
            try named.send(frame: [0x03, 0xE8], opcode: 0x8)
            #expect(try await named.upgradeUntilClosed().head.contains("Sec-WebSocket-Protocol: bearer\r\n"))

            // Or the token as a query parameter.
            let query = try await LiveClient.open(port: server.port, path: "/ws/top-scores", query: "?token=\(token)")
            defer { query.close() }
            #expect(try await query.nextMessage()[string: "type"] == "top_scores_update")
        }
    }

    @Test func onlyChangesOfTheTopTenArePushed() async throws {
        // The board pushes its top 50, the spec's socket only its top 10.
        try await ContractServer.run(configure: { configuration in
            let file = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("top-50.json")
            try? Data(ContractServer.gamesJSON.replacingOccurrences(of: #""topN": 10"#, with: #""topN": 50"#).utf8).write(to: file)
            configuration.gamesFile = file.path
        }) { server in
            for rank in 1...10 {
                try await server.ingest(game: ContractServer.game, user: "top\(rank)", score: Int64(1000 - rank))
            }
            let alice = try await server.player("alice")
            let live = try await Self.socket(server, token: alice.token)
            defer { live.close() }
            #expect((try await live.nextMessage()["payload"] as? [Any])?.count == 10)
            // Eleventh: the top 10 does not change, so nothing is pushed for it...
            try await server.ingest(game: ContractServer.game, user: "eleventh", score: 5)
            // ...and the next message is this change of the top 10.
            try await server.ingest(game: ContractServer.game, user: "top10", score: 500)
            let update = try await live.nextMessage()
            let payload = try #require(update["payload"] as? [[String: Any]])
            #expect(payload.first.map { Standing.of([$0]) } == [Standing("top10", 1490)])
            #expect(!payload.contains { $0[string: "userId"] == "eleventh" })
        }
    }
}
