import Foundation
import HTTPTypes
import Testing

/// Spec 002's client, played over real sockets with only what the spec says: `POST
/// /api/v1/scores/update {action_type, score_increment}`, `GET /api/v1/leaderboard/top10`,
/// the `{success, …}` envelopes, and `leaderboard_update` on `/ws/leaderboard`.
@Suite("Spec 002 (live scoreboard API): its client works unchanged", .timeLimit(.minutes(2)))
struct Spec002LiveScoreboardAPITests {
    static let levelComplete = #"{"action_type":"level_complete","score_increment":100}"#

    @Test func updateAScoreAndSeeTheTopTenChangeLive() async throws {
        try await ContractServer.run { server in
            let ann = try await server.player("ann")
            let live = try await LiveClient.open(port: server.port, path: "/ws/leaderboard", query: "?token=\(ann.token)")
            defer { live.close() }
            let subscribed = try await live.nextMessage()
            #expect(subscribed[string: "type"] == "leaderboard_update")
            #expect(subscribed[object: "data"]?[array: "leaderboard"]?.isEmpty == true)

            let first = try await server.call(.post, "/api/v1/scores/update", json: Self.levelComplete, token: ann.token)
            #expect(first.status == .ok, "\(first.body)")
            #expect(first.body["success"] as? Bool == true && first.body[int: "timestamp"] != nil)
            let data = try #require(first.body[object: "data"])
            #expect(data[string: "user_id"] == ann.userId)
            #expect(data[int: "previous_score"] == 0 && data[int: "new_score"] == 100)
            #expect(data[int: "rank_change"] == 0 && data[int: "current_rank"] == 1)

            let update = try await live.nextMessage()
            #expect(update[string: "type"] == "leaderboard_update" && update[int: "timestamp"] != nil)
            let board = try #require(update[object: "data"]?[array: "leaderboard"])
            #expect(Standing.of(board, id: "user_id") == [Standing(ann.userId, 100)])
            #expect(board.first?[int: "rank"] == 1 && board.first?[string: "username"] == "Ann")
            #expect(board.first?.keys.contains("avatar_url") == true)
            let changes = try #require(update[object: "data"]?[array: "changes"])
            #expect(changes.count == 1 && changes.first?[string: "user_id"] == ann.userId && changes.first?[int: "current_rank"] == 1)
            #expect(changes.first?["previous_rank"] is NSNull)

            // Bob overtakes Ann: both moves are in the changes.
            let bob = try await server.player("bob")
            _ = try await server.call(.post, "/api/v1/scores/update", json: Self.levelComplete, token: bob.token)
            let second = try await server.call(.post, "/api/v1/scores/update", json: Self.levelComplete, token: bob.token)
            #expect(second.body[object: "data"]?[int: "previous_score"] == 100 && second.body[object: "data"]?[int: "new_score"] == 200)
            #expect(second.body[object: "data"]?[int: "rank_change"] == 1 && second.body[object: "data"]?[int: "current_rank"] == 1)
            let overtaken = try await live.nextMessage { message in
                Standing.of(message[object: "data"]?[array: "leaderboard"], id: "user_id").first == Standing(bob.userId, 200)
            }
            let moved = Set((overtaken[object: "data"]?[array: "changes"] ?? []).compactMap { $0[string: "user_id"] })
            #expect(moved.contains(ann.userId) && moved.contains(bob.userId))

            let top = try await server.call(.get, "/api/v1/leaderboard/top10")
            #expect(top.status == .ok && top.body["success"] as? Bool == true)
            let read = try #require(top.body[object: "data"])
            #expect(Standing.of(read[array: "leaderboard"], id: "user_id") == [Standing(bob.userId, 200), Standing(ann.userId, 100)])
            #expect(read[int: "last_updated"] != nil && read[int: "cache_ttl"] == 0)
            #expect(read[array: "leaderboard"]?.first?["avatar_url"] is NSNull)
            #expect(try await server.podiumTop() == [Standing(bob.userId, 200), Standing(ann.userId, 100)])
        }
    }

    @Test func theServerStaysAuthoritativeAndErrorsHaveTheSpecsEnvelope() async throws {
        try await ContractServer.run { server in
            let ann = try await server.player("ann")
            for (body, status, code) in [
                (#"{"action_type":"level_complete","score_increment":1000}"#, HTTPResponse.Status.badRequest, "VALIDATION_ERROR"),
                (#"{"action_type":"level_complete"}"#, .badRequest, "VALIDATION_ERROR"),
                (#"{"action_type":"cheat","score_increment":100}"#, .badRequest, "INVALID_ACTION"),
                (#"{"action_type":"boss","score_increment":100}"#, .badRequest, "VALIDATION_ERROR"),
                (#"{"score_increment":100}"#, .badRequest, "VALIDATION_ERROR"),
                (#"{"action_type":"#, .badRequest, "VALIDATION_ERROR"),
            ] {
                let answer = try await server.call(.post, "/api/v1/scores/update", json: body, token: ann.token)
                #expect(answer.status == status, "\(body): \(answer.body)")
                #expect(answer.body["success"] as? Bool == false && answer.body[object: "error"]?[string: "code"] == code, "\(body): \(answer.body)")
                #expect(answer.body[object: "error"]?[string: "message"] != nil)
            }
            let anonymous = try await server.call(.post, "/api/v1/scores/update", json: Self.levelComplete)
            #expect(anonymous.status == .unauthorized && anonymous.body["success"] as? Bool == false)
            #expect(anonymous.body[object: "error"]?[string: "code"] == "UNAUTHORIZED")
            let forged = try await server.call(.post, "/api/v1/scores/update", json: Self.levelComplete, token: ann.token + "x")
            #expect(forged.status == .unauthorized && forged.body["success"] as? Bool == false)
            // Nothing was credited.
            #expect(try await server.call(.get, "/api/v1/leaderboard/top10").body[object: "data"]?[array: "leaderboard"]?.isEmpty == true)
        }
    }

    @Test func theSocketNeedsAJWTInTheQueryOrAHeader() async throws {
        try await ContractServer.run { server in
            let ann = try await server.player("ann")
            let anonymous = try RawWebSocket(port: server.port, path: "/ws/leaderboard")
            defer { anonymous.close() }
            #expect(try await anonymous.answerUntilClosed().hasPrefix("HTTP/1.1 401"))
            let forged = try RawWebSocket(port: server.port, path: "/ws/leaderboard", query: "?token=nope")
            defer { forged.close() }
            #expect(try await forged.answerUntilClosed().hasPrefix("HTTP/1.1 401"))
            let header = try await LiveClient.open(port: server.port, path: "/ws/leaderboard", headers: [.authorization: "Bearer \(ann.token)"])
            defer { header.close() }
            #expect(try await header.nextMessage()[string: "type"] == "leaderboard_update")
            header.send(#"{"type":"ping"}"#)
            #expect(try await header.nextMessage()[string: "type"] == "pong")
        }
    }
}
