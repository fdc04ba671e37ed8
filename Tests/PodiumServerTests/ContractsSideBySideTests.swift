import Foundation
import HTTPTypes
import Testing

/// The five clients on one server at once: each acts through its own spec's path, and
/// every one of them, on its socket and its reads, sees the same board.
@Suite("Specs 000-004 side by side: one board for every client", .timeLimit(.minutes(2)))
struct ContractsSideBySideTests {
    @Test func everyClientSeesEveryOthersScores() async throws {
        try await ContractServer.run { server in
            let one = try await server.player("one")
            let two = try await server.player("two")
            let three = try await server.player("three")
            let four = try await server.player("four")

            let podium = try await LiveClient.connect(port: server.port)
            podium.send(#"{"type":"subscribe","gameId":"quest","scopes":["global"]}"#)
            let sockets = [
                podium,
                try await LiveClient.open(port: server.port, path: "/ws/top-scores", headers: [HTTPField.Name("Sec-WebSocket-Protocol")!: one.token]),
                try await LiveClient.open(port: server.port, path: "/ws/leaderboard", query: "?token=\(two.token)"),
                try await LiveClient.open(port: server.port, path: "/api/v1/scores/live", query: "?token=\(three.token)"),
                try await LiveClient.open(port: server.port, path: "/api/leaderboard/live", query: "?token=\(four.token)"),
            ]
            defer { sockets.forEach { $0.close() } }
            for socket in sockets { _ = try await socket.nextMessage() }

            // Spec 000: a trusted game server's score.
            try await server.ingest(game: ContractServer.game, user: "server-side", score: 1)
            // Spec 001: an action's lifecycle (daily-login, 5).
            let started = try await server.call(.post, "/users/\(one.userId)/actions", json: #"{"status":"started"}"#, token: one.token)
            let actionId = try #require(started.body[string: "actionId"])
            #expect(try await server.call(.put, "/users/\(one.userId)/actions/\(actionId)", json: "{}", token: one.token).status == .ok)
            // Spec 002: an authoritative increment (100).
            let increment = #"{"action_type":"level_complete","score_increment":100}"#
            #expect(try await server.call(.post, "/api/v1/scores/update", json: increment, token: two.token).status == .ok)
            // Spec 003: a score token, redeemed (task_finish, 50).
            let issued = try await server.call(.post, "/api/v1/actions/complete", json: #"{"actionType":"task_finish"}"#, token: three.token)
            let scoreToken = try #require(issued.body[string: "scoreToken"])
            #expect(try await server.call(.post, "/api/v1/scores/update", json: #"{"scoreToken":"\#(scoreToken)"}"#, token: three.token).status == .ok)
            // Spec 004: a catalogue action (quiz_123, 10).
            #expect(try await server.call(.post, "/api/action/complete", json: #"{"actionId":"quiz_123"}"#, token: four.token).status == .ok)

            let expected = [
                Standing(two.userId, 100), Standing(three.userId, 50), Standing(four.userId, 10), Standing(one.userId, 5),
                Standing("server-side", 1),
            ]
            #expect(try await server.podiumTop() == expected)
            #expect(Standing.of(try JSON.array(try await server.request(.get, "/top-scores").body)) == expected)
            let top10 = try JSON.object(try await server.request(.get, "/api/v1/leaderboard/top10").body)
            #expect(Standing.of(top10[object: "data"]?[array: "leaderboard"], id: "user_id") == expected)
            let scores = try JSON.object(try await server.request(.get, "/api/v1/scores/leaderboard").body)
            #expect(Standing.of(scores[object: "data"]?[array: "leaderboard"]) == expected)
            #expect(Standing.of(try JSON.object(try await server.request(.get, "/api/leaderboard").body)[array: "users"]) == expected)

            // Each socket, in its own messages, arrives at the same board.
            let entriesOf: [([String: Any]) -> [Standing]] = [
                { Standing.of($0[object: "payload"]?[array: "entries"]) },
                { Standing.of($0["payload"] as? [[String: Any]]) },
                { Standing.of($0[object: "data"]?[array: "leaderboard"], id: "user_id") },
                { Standing.of($0[object: "data"]?[array: "leaderboard"]) },
                { Standing.of($0[object: "data"]?[array: "users"]) },
            ]
            for (socket, entries) in zip(sockets, entriesOf) {
                _ = try await socket.nextMessage { entries($0) == expected }
            }
        }
    }
}
