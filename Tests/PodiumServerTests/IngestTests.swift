import Foundation
import HTTPTypes
import Testing

@testable import PodiumServer

@Suite("Server-to-server ingest: POST /score", .timeLimit(.minutes(2)))
struct IngestTests {
    static let secretHeader = HTTPField.Name("x-realtime-secret")!
    static let valid = #"{"gameId":"arcade","userId":"u1","displayName":"Ann","countryCode":"GB","score":10,"achievedAt":"2026-11-23T10:00:00Z"}"#

    @Test func acceptedScoreReturnsEntryAndRanks() async throws {
        try await TestServer.run { server in
            let body = try await server.ingest(user: "u1", country: "GB", score: 10)
            #expect(body["ok"] as? Bool == true && body["applied"] as? Bool == true)
            #expect(body[object: "standing"]?[int: "globalRank"] == 1)
            #expect(body[object: "standing"]?[int: "localRank"] == 1)
            let worse = try await server.ingest(user: "u1", country: "GB", score: 5)
            #expect(worse["applied"] as? Bool == false)
            #expect(worse[object: "standing"]?[object: "entry"]?[int: "score"] == 10)
        }
    }

    @Test("invalid bodies answer 400 and change nothing", arguments: [
        ("{bad json", "VALIDATION_ERROR"),
        ("[]", "VALIDATION_ERROR"),
        (#"{"gameId":"arcade","userId":"u1","displayName":"Ann","score":10}"#, "VALIDATION_ERROR"),
        (#"{"gameId":"arcade","userId":"u1","displayName":"Ann","score":"10","achievedAt":"2026-11-23T10:00:00Z"}"#, "VALIDATION_ERROR"),
        (#"{"gameId":"arcade","userId":"u1","displayName":"Ann","score":1.5,"achievedAt":"2026-11-23T10:00:00Z"}"#, "VALIDATION_ERROR"),
        (#"{"gameId":"arcade","userId":"u1","displayName":"Ann","score":9223372036854775808,"achievedAt":"2026-11-23T10:00:00Z"}"#, "VALIDATION_ERROR"),
        (#"{"gameId":"arcade","userId":"u1","displayName":"Ann","score":-1,"achievedAt":"2026-11-23T10:00:00Z"}"#, "SCORE_OUT_OF_RANGE"),
        (#"{"gameId":"arcade","userId":"u1","displayName":"Ann","score":1000001,"achievedAt":"2026-11-23T10:00:00Z"}"#, "SCORE_OUT_OF_RANGE"),
        (#"{"gameId":"arcade","userId":"u1","displayName":"Ann","countryCode":"ZZ","score":1,"achievedAt":"2026-11-23T10:00:00Z"}"#, "VALIDATION_ERROR"),
        (#"{"gameId":"arcade","userId":"u1","displayName":"Ann","score":1,"achievedAt":"yesterday"}"#, "VALIDATION_ERROR"),
        (#"{"gameId":"arcade","userId":"","displayName":"Ann","score":1,"achievedAt":"2026-11-23T10:00:00Z"}"#, "VALIDATION_ERROR"),
        (#"{"gameId":"arcade","userId":"u1","displayName":"","score":1,"achievedAt":"2026-11-23T10:00:00Z"}"#, "VALIDATION_ERROR"),
    ])
    func invalidBodies(body: String, code: String) async throws {
        try await TestServer.run { server in
            let response = try await server.request(.post, "/score", json: body)
            #expect(response.status == .badRequest, "\(body)")
            #expect(try JSON.object(response.body)[object: "error"]?[string: "code"] == code, "\(response.body)")
            let board = try JSON.object(try await server.request(.get, "/api/leaderboards/arcade").body)
            #expect(board[int: "total"] == 0)
        }
    }

    @Test func unknownGameIs404() async throws {
        try await TestServer.run { server in
            let body = Self.valid.replacingOccurrences(of: "arcade", with: "missing-game")
            let response = try await server.request(.post, "/score", json: body)
            #expect(response.status == .notFound)
            #expect(try JSON.object(response.body)[object: "error"]?[string: "code"] == "GAME_NOT_FOUND")
        }
    }

    @Test func hugeBodyIs413() async throws {
        try await TestServer.run { server in
            let huge = #"{"gameId":"arcade","userId":"u1","displayName":""# + String(repeating: "x", count: 200_000) + #""}"#
            let response = try await server.request(.post, "/score", json: huge)
            #expect(response.status == .contentTooLarge)
            #expect(try JSON.object(response.body)[object: "error"]?[string: "code"] == "PAYLOAD_TOO_LARGE")
            #expect(try await server.request(.get, "/health").status == .ok)
        }
    }

    @Test func secretIsRequiredWhenConfigured() async throws {
        try await TestServer.run(configure: { $0.ingestSecret = "s3cret-value-for-tests" }) { server in
            let missing = try await server.request(.post, "/score", json: Self.valid)
            #expect(missing.status == .unauthorized)
            #expect(try JSON.object(missing.body)[object: "error"]?[string: "code"] == "UNAUTHORIZED")
            let wrong = try await server.request(.post, "/score", json: Self.valid, headers: [Self.secretHeader: "s3cret-value-for-tesTs"])
            #expect(wrong.status == .unauthorized)
            let right = try await server.request(.post, "/score", json: Self.valid, headers: [Self.secretHeader: "s3cret-value-for-tests"])
            #expect(right.status == .ok)
        }
    }

    @Test func constantTimeComparison() {
        #expect(ConstantTime.equals("abc", "abc"))
        #expect(!ConstantTime.equals("abc", "abd"))
        #expect(!ConstantTime.equals("abc", "abcd"))
        #expect(!ConstantTime.equals("", "a"))
    }

    @Test func timestampsRoundTrip() {
        #expect(Timestamp.parse("2026-11-23T10:00:00Z") == 1_795_428_000_000)
        #expect(Timestamp.parse("2026-11-23T11:00:00.5+01:00") == 1_795_428_000_500)
        #expect(Timestamp.format(1_795_428_000_500) == "2026-11-23T10:00:00.500Z")
        #expect(Timestamp.format(0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.format(-1) == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.parse("2026-02-30T10:00:00Z") == nil)
        #expect(Timestamp.parse("2026-11-23 10:00:00") == nil)
    }
}
