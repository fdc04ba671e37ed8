import Foundation
import HTTPTypes
import NIOWebSocket
import Testing

/// Spec 003's client, played over real sockets with only what the spec says: complete an
/// action for a server-signed score token, redeem it once, read the leaderboard, and
/// follow `/api/v1/scores/live`, with `X-Correlation-ID` carried through.
@Suite("Spec 003 (score tokens): its client works unchanged", .timeLimit(.minutes(2)))
struct Spec003ScoreTokensTests {
    static let quiz = #"{"actionType":"quiz_complete","actionData":{"answers":[1,2]},"clientTimestamp":"2026-01-11T10:00:00Z"}"#

    static func scoreToken(_ server: TestServer, _ player: Player, body: String = quiz) async throws -> String {
        let answer = try await server.call(.post, "/api/v1/actions/complete", json: body, token: player.token)
        #expect(answer.status == .ok, "\(answer.body)")
        return try #require(answer.body[string: "scoreToken"])
    }

    /// An RFC 3339 time with milliseconds.
    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    static func redeem(_ server: TestServer, _ token: String, as player: Player) async throws -> (status: HTTPResponse.Status, body: [String: Any]) {
        let answer = try await server.call(.post, "/api/v1/scores/update", json: #"{"scoreToken":"\#(token)"}"#, token: player.token)
        return (answer.status, answer.body)
    }

    @Test func completeRedeemAndSeeTheBoardLive() async throws {
        try await ContractServer.run { server in
            let ann = try await server.player("ann")
            let live = try await LiveClient.open(port: server.port, path: "/api/v1/scores/live", query: "?token=\(ann.token)")
            defer { live.close() }
            let initial = try await live.nextMessage()
            #expect(initial[string: "event"] == "leaderboard:initial" && initial[string: "timestamp"] != nil)
            #expect(initial[object: "data"]?[array: "leaderboard"]?.isEmpty == true)

            let completed = try await server.call(
                .post, "/api/v1/actions/complete", json: Self.quiz, token: ann.token,
                headers: [HTTPField.Name("X-Correlation-ID")!: "trace-0042"]
            )
            #expect(completed.status == .ok)
            #expect(completed.headers[HTTPField.Name("X-Correlation-ID")!] == "trace-0042")
            #expect(completed.body[int: "pointsEarned"] == 100 && completed.body[string: "actionId"] != nil)
            let expiresAt = try #require(completed.body[string: "tokenExpiresAt"])
            #expect(Self.date(expiresAt).map { $0.timeIntervalSinceNow <= 60 && $0.timeIntervalSinceNow > 0 } == true, "\(expiresAt)")
            let token = try #require(completed.body[string: "scoreToken"])

            let redeemed = try await Self.redeem(server, token, as: ann)
            #expect(redeemed.status == .ok, "\(redeemed.body)")
            #expect(redeemed.body[int: "previousScore"] == 0 && redeemed.body[int: "pointsAwarded"] == 100)
            #expect(redeemed.body[int: "newScore"] == 100 && redeemed.body[int: "newRank"] == 1)

            var events: [String: [String: Any]] = [:]
            while events.count < 2 {
                let message = try await live.nextMessage()
                events[message[string: "event"] ?? "?"] = message
            }
            let board = try #require(events["leaderboard:update"]?[object: "data"]?[array: "leaderboard"])
            #expect(Standing.of(board) == [Standing(ann.userId, 100)])
            #expect(board.first?[int: "rank"] == 1 && board.first?[string: "username"] == "Ann")
            let personal = try #require(events["score:personal"]?[object: "data"])
            #expect(personal[string: "userId"] == ann.userId && personal[int: "newScore"] == 100 && personal[int: "newRank"] == 1)

            live.send(#"{"action":"ping"}"#)
            #expect(try await live.nextMessage()[string: "action"] == "pong")

            let read = try await server.call(.get, "/api/v1/scores/leaderboard")
            #expect(Standing.of(read.body[object: "data"]?[array: "leaderboard"]) == [Standing(ann.userId, 100)])
            #expect(try await server.podiumTop() == [Standing(ann.userId, 100)])

            // The same socket under the router's own mount.
            let short = try await LiveClient.open(port: server.port, path: "/scores/live", query: "?token=\(ann.token)")
            defer { short.close() }
            #expect(Standing.of(try await short.nextMessage()[object: "data"]?[array: "leaderboard"]) == [Standing(ann.userId, 100)])
        }
    }

    @Test func tokensAreSingleUseBoundToTheUserAndSigned() async throws {
        try await ContractServer.run { server in
            let ann = try await server.player("ann")
            let bob = try await server.player("bob")
            let token = try await Self.scoreToken(server, ann)

            let stolen = try await Self.redeem(server, token, as: bob)
            #expect(stolen.status == .forbidden && stolen.body[object: "error"]?[string: "code"] == "TOKEN_USER_MISMATCH")
            var tampered = Array(token)
            tampered[tampered.count - 2] = tampered[tampered.count - 2] == "A" ? "B" : "A"
            let forged = try await Self.redeem(server, String(tampered), as: ann)
            #expect(forged.status == .badRequest && forged.body[object: "error"]?[string: "code"] == "INVALID_TOKEN")
            let garbage = try await Self.redeem(server, "not-a-token", as: ann)
            #expect(garbage.body[object: "error"]?[string: "code"] == "INVALID_TOKEN")

            #expect(try await Self.redeem(server, token, as: ann).status == .ok)
            let replayed = try await Self.redeem(server, token, as: ann)
            #expect(replayed.status == .conflict && replayed.body[object: "error"]?[string: "code"] == "TOKEN_ALREADY_USED")

            let unknown = try await server.call(.post, "/api/v1/actions/complete", json: #"{"actionType":"cheat"}"#, token: ann.token)
            #expect(unknown.status == .badRequest && unknown.body[object: "error"]?[string: "code"] == "INVALID_ACTION")
            #expect(try await server.call(.post, "/api/v1/actions/complete", json: Self.quiz).status == .unauthorized)
            #expect(try await server.podiumTop() == [Standing(ann.userId, 100)], "one redemption counted")
        }
    }

    @Test func expiredTokensAreRefused() async throws {
        try await ContractServer.run(configure: { $0.contracts.scoreTokenLifetime = 1 }) { server in
            let ann = try await server.player("ann")
            let token = try await Self.scoreToken(server, ann)
            try await Task.sleep(for: .seconds(2))
            let expired = try await Self.redeem(server, token, as: ann)
            #expect(expired.status == .unauthorized && expired.body[object: "error"]?[string: "code"] == "TOKEN_EXPIRED", "\(expired.body)")
            #expect(try await server.podiumTop().isEmpty)
        }
    }

    @Test func theLiveSocketNeedsAToken() async throws {
        try await ContractServer.run { server in
            for path in ["/api/v1/scores/live", "/scores/live"] {
                let anonymous = try RawWebSocket(port: server.port, path: path)
                defer { anonymous.close() }
                #expect(try await anonymous.answerUntilClosed().hasPrefix("HTTP/1.1 401"), "\(path)")
            }
            let ann = try await server.player("ann")
            let live = try await LiveClient.open(port: server.port, path: "/api/v1/scores/live", query: "?token=\(ann.token)")
            defer { live.close() }
            _ = try await live.nextMessage()
            live.send(#"{"action":"dance"}"#)
            let error = try await live.nextMessage()
            #expect(error[string: "event"] == "error" && error[object: "data"]?[string: "code"] == "UNKNOWN_TYPE")
        }
    }
}
