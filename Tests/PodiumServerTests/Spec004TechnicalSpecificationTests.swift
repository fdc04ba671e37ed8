import Foundation
import NIOWebSocket
import Testing

/// Spec 004's client, played over real sockets with only what the spec says: `POST
/// /api/action/complete` with action ids like `quiz_123`, `GET /api/leaderboard`, and
/// `WS /api/leaderboard/live` with the JWT in the connection params or the first frame.
@Suite("Spec 004 (technical specification): its client works unchanged", .timeLimit(.minutes(2)))
struct Spec004TechnicalSpecificationTests {
    static func complete(_ server: TestServer, _ actionId: String, token: String?) async throws -> (status: Int, body: [String: Any]) {
        let answer = try await server.call(.post, "/api/action/complete", json: #"{"actionId":"\#(actionId)","data":{"score":7}}"#, token: token)
        return (answer.status.code, answer.body)
    }

    @Test func completeAnActionAndSeeTheLeaderboardLive() async throws {
        try await ContractServer.run { server in
            let ann = try await server.player("ann")
            // No token in the URL: the first frame carries it.
            let live = try await LiveClient.open(port: server.port, path: "/api/leaderboard/live")
            defer { live.close() }
            live.send(#"{"type":"AUTH","token":"\#(ann.token)"}"#)
            let initial = try await live.nextMessage()
            #expect(initial[string: "type"] == "LEADERBOARD_UPDATE")
            #expect(initial[object: "data"]?[array: "users"]?.isEmpty == true && initial[object: "data"]?[string: "updatedAt"] != nil)

            let quiz = try await Self.complete(server, "quiz_123", token: ann.token)
            #expect(quiz.status == 200, "\(quiz.body)")
            #expect(quiz.body["success"] as? Bool == true && quiz.body[int: "pointsEarned"] == 10)
            #expect(quiz.body[int: "newScore"] == 10 && quiz.body[int: "rank"] == 1)
            let level = try await Self.complete(server, "level_5", token: ann.token)
            #expect(level.body[int: "newScore"] == 60)

            let update = try await live.nextMessage { Standing.of($0[object: "data"]?[array: "users"]) == [Standing(ann.userId, 60)] }
            #expect(update[string: "type"] == "LEADERBOARD_UPDATE")
            #expect(update[object: "data"]?[array: "users"]?.first?[int: "rank"] == 1)
            #expect(update[object: "data"]?[array: "users"]?.first?[string: "username"] == "Ann")

            let read = try JSON.object(try await server.request(.get, "/api/leaderboard").body)
            #expect(Standing.of(read[array: "users"]) == [Standing(ann.userId, 60)])
            #expect(read[string: "updatedAt"] != nil)
            #expect(try await server.podiumTop() == [Standing(ann.userId, 60)])

            live.send(#"{"type":"PING"}"#)
            #expect(try await live.nextMessage()[string: "type"] == "PONG")

            // A reconnect gets the full leaderboard at once (the token in the connection params).
            let again = try await LiveClient.open(port: server.port, path: "/api/leaderboard/live", query: "?token=\(ann.token)")
            defer { again.close() }
            #expect(Standing.of(try await again.nextMessage()[object: "data"]?[array: "users"]) == [Standing(ann.userId, 60)])
        }
    }

    @Test func theSpecsErrorCodes() async throws {
        try await ContractServer.run(configure: { $0.scoreSubmissionsPerMinute = 4 }) { server in
            let ann = try await server.player("ann")
            #expect(try await Self.complete(server, "quiz_123", token: ann.token).status == 200)
            let repeated = try await Self.complete(server, "quiz_123", token: ann.token)
            #expect(repeated.status == 400 && repeated.body[object: "error"]?[string: "code"] == "ALREADY_COMPLETED")
            let invalid = try await Self.complete(server, "quiz_999", token: ann.token)
            #expect(invalid.status == 400 && invalid.body[object: "error"]?[string: "code"] == "INVALID_ACTION")
            let anonymous = try await Self.complete(server, "quiz_123", token: nil)
            #expect(anonymous.status == 401 && anonymous.body[object: "error"]?[string: "code"] == "UNAUTHORIZED")
            #expect(try await Self.complete(server, "level_5", token: ann.token).status == 200)
            let limited = try await Self.complete(server, "daily_login", token: ann.token)
            #expect(limited.status == 429 && limited.body[object: "error"]?[string: "code"] == "RATE_LIMIT_EXCEEDED")
            #expect(limited.body[object: "error"]?[int: "retryAfter"] != nil)
            // Podium's own route keeps 409 for a repeat.
            let bob = try await server.player("bob")
            #expect(try await server.call(.post, "/api/actions/complete", json: #"{"actionId":"tutorial"}"#, token: bob.token).status == .ok)
            let ownRepeat = try await server.call(.post, "/api/actions/complete", json: #"{"actionId":"tutorial"}"#, token: bob.token)
            #expect(ownRepeat.status == .conflict && ownRepeat.body[object: "error"]?[string: "code"] == "ALREADY_COMPLETED")
        }
    }

    @Test func theSocketNeedsAValidTokenAndKeepsTwoConnectionsPerUser() async throws {
        try await ContractServer.run { server in
            let silent = try RawWebSocket(port: server.port, path: "/api/leaderboard/live")
            defer { silent.close() }
            try silent.send(#"{"type":"HELLO"}"#)
            let refused = try await silent.framesUntilClosed()
            #expect(refused.first.map { try? JSON.object($0.text)[string: "code"] } == "UNAUTHORIZED")
            #expect(refused.last?.closeCode == 1008)
            let forged = try RawWebSocket(port: server.port, path: "/api/leaderboard/live", query: "?token=nope")
            defer { forged.close() }
            #expect(try await forged.framesUntilClosed().last?.closeCode == 1008)

            // The oldest on a plain socket, which shows everything up to the server's close
            // (swift-websocket's client can miss a close that follows a message at once).
            let ann = try await server.player("ann")
            let first = try RawWebSocket(port: server.port, path: "/api/leaderboard/live", query: "?token=\(ann.token)")
            defer { first.close() }
            while server.podium.hub.connectionCount < 1 { try await Task.sleep(for: .milliseconds(10)) }
            let second = try await LiveClient.open(port: server.port, path: "/api/leaderboard/live", query: "?token=\(ann.token)")
            defer { second.close() }
            _ = try await second.nextMessage()
            let third = try await LiveClient.open(port: server.port, path: "/api/leaderboard/live", query: "?token=\(ann.token)")
            defer { third.close() }
            _ = try await third.nextMessage()
            let frames = try await first.framesUntilClosed()
            #expect(frames.first.map { try? JSON.object($0.text)[string: "type"] } == "LEADERBOARD_UPDATE")
            #expect(frames.last?.closeCode == 1008, "the oldest connection is dropped")
        }
    }

    @Test func theServerPingsInText() async throws {
        try await ContractServer.run(configure: {
            $0.live.pingInterval = .milliseconds(400)
            $0.live.pongTimeout = .milliseconds(200)
        }) { server in
            let ann = try await server.player("ann")
            let live = try await LiveClient.open(port: server.port, path: "/api/leaderboard/live", query: "?token=\(ann.token)")
            defer { live.close() }
            _ = try await live.nextMessage()
            #expect(try await live.nextMessage()[string: "type"] == "PING")
            live.send(#"{"type":"PONG"}"#)
        }
    }
}
