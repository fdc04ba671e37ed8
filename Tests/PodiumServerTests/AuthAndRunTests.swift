import Crypto
import Foundation
import HTTPTypes
import JWTKit
import Testing

@testable import PodiumServer

@Suite("Accounts, tokens and the anti-cheat submission pipeline", .timeLimit(.minutes(2)))
struct AuthAndRunTests {
    static func submission(game: String = "arcade", score: String, runId: String, session: String) -> String {
        #"{"gameId":"\#(game)","score":\#(score),"runId":"\#(runId)","sessionToken":"\#(session)"}"#
    }

    static func errorCode(_ body: String) -> String? {
        (try? JSON.object(body))?[object: "error"]?[string: "code"]
    }

    @Test func registerLoginAndMe() async throws {
        try await TestServer.run { server in
            let token = try await server.register("alice", country: "fr")
            let me = try JSON.object(try await server.request(.get, "/api/me", token: token).body)
            #expect(me[string: "username"] == "alice" && me[string: "countryCode"] == "FR" && me[string: "role"] == "player")
            let login = try await server.request(.post, "/api/auth/login", json: #"{"username":"alice","password":"correct horse battery"}"#)
            #expect(login.status == .ok)
            #expect(try JSON.object(login.body)[int: "expiresIn"] == 900)
            let duplicate = try await server.request(
                .post, "/api/auth/register", json: #"{"username":"ALICE","password":"whatever-long","displayName":"A","countryCode":"GB"}"#
            )
            #expect(duplicate.status == .conflict)
            let badCountry = try await server.request(
                .post, "/api/auth/register", json: #"{"username":"bob","password":"whatever-long","displayName":"B","countryCode":"XX"}"#
            )
            #expect(badCountry.status == .badRequest && (Self.errorCode(badCountry.body)) == "VALIDATION_ERROR")
            #expect(try await server.request(.get, "/api/me").status == .unauthorized)
        }
    }

    @Test func wrongPasswordIsRefused() async throws {
        try await TestServer.run { server in
            _ = try await server.register("alice")
            for body in [#"{"username":"alice","password":"wrong password"}"#, #"{"username":"nobody","password":"wrong password"}"#] {
                let response = try await server.request(.post, "/api/auth/login", json: body)
                #expect(response.status == .unauthorized && (Self.errorCode(response.body)) == "UNAUTHORIZED")
            }
        }
    }

    @Test func forgedAndExpiredTokensAreRefused() async throws {
        try await TestServer.run { server in
            let valid = try await server.register("alice")
            #expect(try await server.request(.get, "/api/me", token: valid).status == .ok, "the valid token is verified (and remembered) first")
            let parts = valid.split(separator: ".").map(String.init)
            let wrongKey = try await TokenService(secret: "another-secret-that-is-32-bytes-long!!", lifetime: 900)
            let user = UserRecord(id: "x", username: "x", passwordHash: nil, displayName: "X", countryCode: nil, role: .admin, createdAt: 0)
            let forged = try await wrongKey.issue(for: user)
            let unsigned = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64URLEncoded + "." + parts[1] + "."
            // Signed with the server's secret and HS256, but labelled HS384.
            let relabelledInput = Data(#"{"alg":"HS384","typ":"JWT"}"#.utf8).base64URLEncoded + "." + parts[1]
            let relabelledSignature = HMAC<SHA256>.authenticationCode(
                for: Data(relabelledInput.utf8), using: SymmetricKey(data: Data(TestServer.jwtSecret.utf8))
            )
            let relabelled = relabelledInput + "." + Data(relabelledSignature).base64URLEncoded
            var payload = try JSON.object(String(decoding: Data(base64URL: parts[1])!, as: UTF8.self))
            payload["role"] = "admin"
            let tamperedPayload = try JSONSerialization.data(withJSONObject: payload).base64URLEncoded
            let tampered = parts[0] + "." + tamperedPayload + "." + parts[2]
            for token in [forged, unsigned, relabelled, tampered, "garbage", valid + "x"] {
                let response = try await server.request(.get, "/api/me", token: token)
                #expect(response.status == .unauthorized, "\(token)")
                #expect(Self.errorCode(response.body) == "UNAUTHORIZED")
            }
            let admin = try await server.request(.get, "/api/admin/flags", token: tampered)
            #expect(admin.status == .unauthorized)
            let expiredIssuer = try await TokenService(secret: TestServer.jwtSecret, lifetime: -60)
            let expired = try await expiredIssuer.issue(for: user)
            let response = try await server.request(.get, "/api/me", token: expired)
            #expect(response.status == .unauthorized && (Self.errorCode(response.body)) == "TOKEN_EXPIRED")
        }
    }

    @Test func aTokenOfAnAccountThatIsGoneStartsNoRun() async throws {
        var token = ""
        try await TestServer.run(configure: { $0.storage = .memory }) { server in token = try await server.register("alice") }
        // The same secret, a new empty store: the token is valid, its account is gone.
        try await TestServer.run(configure: { $0.storage = .memory }) { server in
            let response = try await server.request(.post, "/api/game-sessions", json: #"{"gameId":"arcade"}"#, token: token)
            #expect(response.status == .unauthorized && Self.errorCode(response.body) == "UNAUTHORIZED")
        }
    }

    @Test func aRememberedTokenStillExpires() async throws {
        try await TestServer.run { server in
            let valid = try await server.register("carol")
            let payload = try JSON.object(String(decoding: Data(base64URL: valid.split(separator: ".").map(String.init)[1])!, as: UTF8.self))
            let carol = UserRecord(
                id: try #require(payload[string: "sub"]), username: "carol", passwordHash: nil, displayName: "carol", countryCode: nil,
                role: .player, createdAt: 0
            )
            let shortLived = try await TokenService(secret: TestServer.jwtSecret, lifetime: 5).issue(for: carol)
            #expect(try await server.request(.get, "/api/me", token: shortLived).status == .ok)
            #expect(try await server.request(.get, "/api/me", token: shortLived).status == .ok, "a verified token is accepted again")
            try await Task.sleep(for: .seconds(6))
            let response = try await server.request(.get, "/api/me", token: shortLived)
            #expect(response.status == .unauthorized && Self.errorCode(response.body) == "TOKEN_EXPIRED")
        }
    }

    @Test func fullRunFlowRanksTheScore() async throws {
        try await TestServer.run { server in
            let token = try await server.register("alice", country: "FR")
            let session = try await server.startRun(token: token)
            let response = try await server.request(.post, "/api/scores/submit", json: Self.submission(score: "420", runId: "r1", session: session), token: token)
            #expect(response.status == .ok)
            let body = try JSON.object(response.body)
            #expect(body["applied"] as? Bool == true)
            #expect(body[object: "standing"]?[object: "entry"]?[int: "score"] == 420)
            #expect(body[object: "standing"]?[object: "entry"]?[string: "displayName"] == "Alice")
            #expect(body[object: "standing"]?[int: "localRank"] == 1)
        }
    }

    @Test func consumedTokenCannotBeReplayed() async throws {
        try await TestServer.run { server in
            let token = try await server.register("alice")
            let session = try await server.startRun(token: token)
            #expect(try await server.request(.post, "/api/scores/submit", json: Self.submission(score: "1", runId: "r1", session: session), token: token).status == .ok)
            let replay = try await server.request(.post, "/api/scores/submit", json: Self.submission(score: "900", runId: "r2", session: session), token: token)
            #expect(replay.status == .conflict && (Self.errorCode(replay.body)) == "SESSION_CONSUMED")
        }
    }

    @Test func tokenOfAnotherUserOrGameIsRefused() async throws {
        try await TestServer.run { server in
            let alice = try await server.register("alice")
            let mallory = try await server.register("mallory")
            let session = try await server.startRun(token: alice)
            let stolen = try await server.request(.post, "/api/scores/submit", json: Self.submission(score: "5", runId: "r", session: session), token: mallory)
            #expect(stolen.status == .forbidden && (Self.errorCode(stolen.body)) == "SESSION_MISMATCH")
            let otherGame = try await server.request(
                .post, "/api/scores/submit", json: Self.submission(game: "sprint", score: "5", runId: "r", session: session), token: alice
            )
            #expect(otherGame.status == .forbidden && (Self.errorCode(otherGame.body)) == "SESSION_MISMATCH")
            let unknown = try await server.request(.post, "/api/scores/submit", json: Self.submission(score: "5", runId: "r", session: "deadbeef"), token: alice)
            #expect(unknown.status == .forbidden)
            let anonymous = try await server.request(.post, "/api/scores/submit", json: Self.submission(score: "5", runId: "r", session: session))
            #expect(anonymous.status == .unauthorized)
            #expect(try await server.request(.post, "/api/scores/submit", json: Self.submission(score: "5", runId: "r", session: session), token: alice).status == .ok)
        }
    }

    @Test func expiredTokenAnswers410() async throws {
        try await TestServer.run(configure: { $0.runSessionLifetime = 1 }) { server in
            let token = try await server.register("alice")
            let session = try await server.startRun(token: token)
            try await Task.sleep(for: .milliseconds(1200))
            let response = try await server.request(.post, "/api/scores/submit", json: Self.submission(score: "5", runId: "r", session: session), token: token)
            #expect(response.status == .gone && (Self.errorCode(response.body)) == "SESSION_EXPIRED")
        }
    }

    @Test("invalid scores are refused", arguments: [
        ("1000001", "SCORE_OUT_OF_RANGE"), ("-1", "SCORE_OUT_OF_RANGE"), ("1.5", "VALIDATION_ERROR"), (#""10""#, "VALIDATION_ERROR"),
        ("9223372036854775808", "VALIDATION_ERROR"), ("null", "VALIDATION_ERROR"),
    ])
    func invalidScores(score: String, code: String) async throws {
        try await TestServer.run { server in
            let token = try await server.register("alice")
            let session = try await server.startRun(token: token)
            let response = try await server.request(.post, "/api/scores/submit", json: Self.submission(score: score, runId: "r", session: session), token: token)
            #expect(response.status == .badRequest)
            #expect(Self.errorCode(response.body) == code)
            let message = try JSON.object(response.body)[object: "error"]?[string: "message"] ?? ""
            #expect(message.contains("score"), "the message names the field: \(message)")
            let retry = try await server.request(.post, "/api/scores/submit", json: Self.submission(score: "7", runId: "r", session: session), token: token)
            #expect(retry.status == .ok, "a refused submission does not spend the token")
        }
    }

    @Test func fiftyParallelSubmissionsWithOneTokenApplyOnce() async throws {
        try await TestServer.run(configure: { $0.scoreSubmissionsPerMinute = 1000 }) { server in
            let token = try await server.register("alice")
            let session = try await server.startRun(token: token)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        try await server.request(
                            .post, "/api/scores/submit", json: Self.submission(score: "\(100 + index)", runId: "run-\(index)", session: session),
                            token: token
                        ).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1)
            #expect(statuses.filter { $0 == .conflict }.count == 49)
            let page = try JSON.object(try await server.request(.get, "/api/leaderboards/arcade").body)
            #expect(page[int: "total"] == 1)
        }
    }

    @Test func sameRunIdTwiceAppliesOnceAndConflictingDataIs409() async throws {
        try await TestServer.run(configure: { $0.storage = .sqlite }) { server in
            let token = try await server.register("alice")
            let session = try await server.startRun(game: "tally", token: token)
            let first = try await server.request(.post, "/api/scores/submit", json: Self.submission(game: "tally", score: "30", runId: "same", session: session), token: token)
            let again = try await server.request(.post, "/api/scores/submit", json: Self.submission(game: "tally", score: "30", runId: "same", session: session), token: token)
            #expect(first.status == .ok && again.status == .ok)
            #expect(try JSON.object(first.body)["duplicate"] == nil)
            #expect(try JSON.object(again.body)["applied"] as? Bool == false)
            #expect(try JSON.object(again.body)["duplicate"] as? Bool == true)
            #expect(try JSON.object(again.body)[object: "standing"]?[object: "entry"]?[int: "score"] == 30, "incr applied once")
            let conflict = try await server.request(.post, "/api/scores/submit", json: Self.submission(game: "tally", score: "31", runId: "same", session: session), token: token)
            #expect(conflict.status == .conflict && (Self.errorCode(conflict.body)) == "RUN_CONFLICT")
        }
    }

    @Test func catalogueGamesTakeNoClientScores() async throws {
        try await TestServer.run { server in
            let token = try await server.register("alice")
            let session = try await server.startRun(game: "quests", token: token)
            let response = try await server.request(
                .post, "/api/scores/submit", json: Self.submission(game: "quests", score: "9000000000000000000", runId: "r", session: session), token: token
            )
            #expect(response.status == .badRequest && Self.errorCode(response.body) == "VALIDATION_ERROR")
            #expect(try JSON.object(try await server.request(.get, "/api/leaderboards/quests").body)[int: "total"] == 0)
        }
    }

    @Test func actionsEarnCataloguePointsAndOnceOnlyActionsRefuseRepeats() async throws {
        try await TestServer.run { server in
            let token = try await server.register("alice")
            let login = try await server.request(.post, "/api/actions/complete", json: #"{"actionId":"login","data":{"points":9999}}"#, token: token)
            #expect(login.status == .ok)
            let body = try JSON.object(login.body)
            #expect(body["success"] as? Bool == true && body[int: "pointsEarned"] == 5 && body[int: "newScore"] == 5 && body[int: "rank"] == 1)
            let again = try JSON.object(try await server.request(.post, "/api/actions/complete", json: #"{"actionId":"login"}"#, token: token).body)
            #expect(again[int: "newScore"] == 10)
            #expect(try await server.request(.post, "/api/actions/complete", json: #"{"actionId":"tutorial"}"#, token: token).status == .ok)
            let repeated = try await server.request(.post, "/api/actions/complete", json: #"{"actionId":"tutorial"}"#, token: token)
            #expect(repeated.status == .conflict && (Self.errorCode(repeated.body)) == "ALREADY_COMPLETED")
            let unknown = try await server.request(.post, "/api/actions/complete", json: #"{"actionId":"teleport"}"#, token: token)
            #expect(unknown.status == .badRequest && (Self.errorCode(unknown.body)) == "INVALID_ACTION")
            let standing = try JSON.object(try await server.request(.get, "/api/leaderboards/quests/players/\(try JSON.object(try await server.request(.get, "/api/me", token: token).body)[string: "userId"] ?? "")").body)
            #expect(standing[object: "entry"]?[int: "score"] == 60)
        }
    }

    @Test func rateLimitAnswers429WithRetryAfter() async throws {
        try await TestServer.run(configure: { $0.scoreSubmissionsPerMinute = 3 }) { server in
            let token = try await server.register("alice")
            var last: HTTP.Response?
            for _ in 0..<4 { last = try await server.request(.post, "/api/actions/complete", json: #"{"actionId":"login"}"#, token: token) }
            let limited = try #require(last)
            #expect(limited.status == .tooManyRequests)
            #expect(Self.errorCode(limited.body) == "RATE_LIMIT_EXCEEDED")
            // Any 60 s window admits 3: the next is admitted when the first leaves the window.
            let retryAfter = Int(limited.headers[.retryAfter] ?? "") ?? 0
            #expect((50...60).contains(retryAfter))
            #expect(try JSON.object(limited.body)[object: "error"]?[int: "retryAfter"] == retryAfter)
        }
    }

    @Test func implausibleScoresAreFlaggedForAdmins() async throws {
        try await TestServer.run { server in
            let token = try await server.register("cheater")
            let session = try await server.startRun(game: "guarded", token: token)
            let response = try await server.request(.post, "/api/scores/submit", json: Self.submission(game: "guarded", score: "5000", runId: "r", session: session), token: token)
            #expect(response.status == .badRequest && (Self.errorCode(response.body)) == "IMPLAUSIBLE_SCORE")
            #expect(try await server.request(.get, "/api/admin/flags", token: token).status == .forbidden)
            let admin = try await server.signInAsAdmin()
            let flags = try JSON.object(try await server.request(.get, "/api/admin/flags", token: admin).body)[array: "flags"] ?? []
            #expect(flags.count == 1)
            #expect(flags.first?[string: "gameId"] == "guarded" && flags.first?[int: "score"] == 5000)
            #expect(flags.first?[string: "reason"]?.contains("points per second") == true)
        }
    }

    /// An ascending board (lower is better) has lower bounds: a score under `minScore`, and
    /// a run shorter than `minRunMilliseconds` by the server's clock, are refused and
    /// flagged; a client's `durationMs` can shorten the measure, never lengthen it.
    @Test func ascendingBoardsRefuseImplausiblyFastRuns() async throws {
        try await TestServer.run { server in
            let token = try await server.register("speedy")
            let userId = try #require(try JSON.object(try await server.request(.get, "/api/me", token: token).body)[string: "userId"])
            /// A run token issued `age` ago (a run that long, without waiting for it).
            func session(age: Int64) async throws -> String {
                guard age > 0 else { return try await server.startRun(game: "trial", token: token) }
                let run = Hex.random()
                let now = Timestamp.now()
                let stored = RunSession(
                    tokenHash: RunSession.hash(run), userId: userId, gameId: "trial", issuedAt: now - age, expiresAt: now + 600_000
                )
                #expect(try await server.podium.store.createSession(stored))
                return run
            }
            func submit(_ score: Int64, durationMs: Int64? = nil, age: Int64 = 0) async throws -> (HTTPResponse.Status, String?) {
                let duration = durationMs.map { #","durationMs":\#($0)"# } ?? ""
                let body = #"{"gameId":"trial","score":\#(score),"runId":"\#(UUID().uuidString)","sessionToken":"\#(try await session(age: age))"\#(duration)}"#
                let response = try await server.request(.post, "/api/scores/submit", json: body, token: token)
                return (response.status, Self.errorCode(response.body))
            }
            // The game's shortest plausible run is 60 s.
            #expect(try await submit(0) == (.badRequest, "SCORE_OUT_OF_RANGE"), "a zero time is below the minimum")
            #expect(try await submit(5_000) == (.badRequest, "IMPLAUSIBLE_SCORE"), "a token spent at once")
            #expect(try await submit(5_000, durationMs: 600_000) == (.badRequest, "IMPLAUSIBLE_SCORE"), "a long durationMs does not loosen")
            #expect(try await submit(5_000, durationMs: -1) == (.badRequest, "VALIDATION_ERROR"))
            #expect(try await submit(5_000, durationMs: 100, age: 120_000) == (.badRequest, "IMPLAUSIBLE_SCORE"), "a short one tightens")
            #expect(try await submit(5_000, age: 120_000) == (.ok, nil), "a run that lasted long enough")
            let admin = try await server.signInAsAdmin()
            let reasons = (try JSON.object(try await server.request(.get, "/api/admin/flags", token: admin).body)[array: "flags"] ?? [])
                .compactMap { $0[string: "reason"] }
            #expect(reasons.filter { $0.contains("shorter than the shortest plausible") }.count == 3)
            #expect(reasons.filter { $0.contains("below the minimum") }.count == 1)
        }
    }

    @Test func authenticatedSocketsFollowOnlyTheirOwnPersonalEntry() async throws {
        try await TestServer.run { server in
            let token = try await server.register("alice")
            let client = try await LiveClient.connect(port: server.port, query: "?token=\(token)")
            defer { client.close() }
            client.send(#"{"type":"subscribe","gameId":"arcade","scopes":["personal"],"userId":"someone-else"}"#)
            #expect(try await client.nextMessage()[string: "code"] == "FORBIDDEN")
            client.send(#"{"type":"subscribe","gameId":"arcade","scopes":["personal"]}"#)
            let state = try await client.nextMessage()
            #expect(state[string: "type"] == "leaderboard:state")
            #expect(state[object: "payload"]?[string: "userId"] != nil)
            let refused = try RawWebSocket(port: server.port, query: "?token=forged")
            defer { refused.close() }
            let frames = try await refused.framesUntilClosed()
            #expect(frames.count == 2)
            #expect(try JSON.object(try #require(frames.first).text)[string: "code"] == "UNAUTHORIZED")
            #expect(frames.last?.closeCode == 1008, "closed with policy violation")

            let userId = try JSON.object(try await server.request(.get, "/api/me", token: token).body)[string: "userId"]
            let byHeader = try RawWebSocket(port: server.port, headers: "Authorization: Bearer \(token)\r\n")
            defer { byHeader.close() }
            try byHeader.send(#"{"type":"subscribe","gameId":"arcade","scopes":["personal"]}"#)
            try await Task.sleep(for: .milliseconds(200))
            try byHeader.send(frame: [0x03, 0xE8], opcode: 0x8)
            let messages = try await byHeader.framesUntilClosed().filter { $0.opcode == 0x1 }.map { try JSON.object($0.text) }
            #expect(messages.map { $0[string: "type"] } == ["ready", "leaderboard:state"])
            #expect(messages.last?[object: "payload"]?[string: "userId"] == userId, "the header's user")
        }
    }

    @Test func runStartsSubmissionsAndSignInsAreLimited() async throws {
        try await TestServer.run(configure: { $0.scoreSubmissionsPerMinute = 2; $0.authAttemptsPerMinute = 3 }) { server in
            let token = try await server.register("alice")
            let sessions = [try await server.startRun(token: token), try await server.startRun(token: token)]
            let thirdStart = try await server.request(.post, "/api/game-sessions", json: #"{"gameId":"arcade"}"#, token: token)
            #expect(thirdStart.status == .tooManyRequests && thirdStart.headers[.retryAfter] != nil)
            var statuses: [HTTPResponse.Status] = []
            for (index, session) in (sessions + sessions).enumerated() {
                let body = Self.submission(score: "\(10 + index)", runId: "r\(index)", session: session)
                statuses.append(try await server.request(.post, "/api/scores/submit", json: body, token: token).status)
            }
            #expect(statuses == [.ok, .ok, .tooManyRequests, .tooManyRequests], "runs and actions share 2 a minute")

            // Registration above spent one attempt of this address; two logins remain.
            var logins: [HTTPResponse.Status] = []
            for _ in 0..<3 {
                logins.append(try await server.request(.post, "/api/auth/login", json: #"{"username":"alice","password":"wrong password"}"#).status)
            }
            #expect(logins == [.unauthorized, .unauthorized, .tooManyRequests])
            let limited = try await server.request(.post, "/api/auth/register", json: #"{"username":"bob","password":"correct horse battery","displayName":"Bob","countryCode":"GB"}"#)
            #expect(limited.status == .tooManyRequests && Self.errorCode(limited.body) == "RATE_LIMIT_EXCEEDED")
        }
    }
}
