import Foundation
import HTTPTypes
import NIOCore
import Testing

@testable import PodiumServer

@Suite("HTTP reads, health and errors", .timeLimit(.minutes(2)))
struct ReadAPITests {
    @Test func healthAndReadiness() async throws {
        try await TestServer.run { server in
            #expect(try await server.request(.get, "/health").status == .ok)
            let ready = try await server.request(.get, "/ready")
            #expect(ready.status == .ok)
            #expect(try JSON.object(ready.body)[string: "status"] == "ready")
        }
    }

    @Test func gamesListTheRegistryWithLeaders() async throws {
        try await TestServer.run { server in
            try await server.ingest(user: "ann", score: 70)
            let games = try JSON.object(try await server.request(.get, "/api/games").body)[array: "games"] ?? []
            #expect(games.map { $0[string: "id"] } == ["arcade", "guarded", "quests", "sprint", "tally", "trial", "wide"])
            #expect(games.first?[object: "leader"]?[string: "userId"] == "ann")
            #expect(games.first { $0[string: "id"] == "quests" }?[array: "actions"]?.count == 2)
            let sprint = try JSON.object(try await server.request(.get, "/api/games/sprint").body)
            #expect(sprint[string: "sortOrder"] == "asc")
            let missing = try await server.request(.get, "/api/games/nope")
            #expect(missing.status == .notFound)
            #expect(try JSON.object(missing.body)[object: "error"]?[string: "code"] == "GAME_NOT_FOUND")
        }
    }

    @Test func pagesWalkWithCursorsInBothScopes() async throws {
        try await TestServer.run { server in
            for index in 0..<7 {
                try await server.ingest(user: "p\(index)", country: index % 2 == 0 ? "GB" : "US", score: Int64(100 + index))
            }
            var cursor: String?
            var seen: [String] = []
            repeat {
                let query = "/api/leaderboards/arcade?limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try JSON.object(try await server.request(.get, query).body)
                #expect(page[int: "total"] == 7)
                #expect(page[string: "scope"] == "global")
                seen += (page[array: "entries"] ?? []).compactMap { $0[string: "userId"] }
                cursor = page[string: "nextCursor"]
            } while cursor != nil
            #expect(seen == ["p6", "p5", "p4", "p3", "p2", "p1", "p0"])
            let local = try JSON.object(try await server.request(.get, "/api/leaderboards/arcade?scope=local&country=gb").body)
            #expect((local[array: "entries"] ?? []).map { $0[int: "rank"] } == [1, 2, 3, 4])
            #expect(local[string: "countryCode"] == "GB")
            let first = local[array: "entries"]?.first
            #expect(first?[string: "userId"] == "p6" && first?[int: "score"] == 106)
            #expect(first?[string: "achievedAt"] == "2026-11-23T10:00:00.000Z")
        }
    }

    /// HEAD is answered as GET would be, without the body: the same status and length, and
    /// the next request on the connection is read right after the head.
    @Test(arguments: ["/api/leaderboards/arcade?limit=2", "/api/leaderboards/ghost", "/health", "/", "/api/games"])
    func headIsAnsweredLikeGetWithoutTheBody(target: String) async throws {
        try await TestServer.run { server in
            try await server.ingest(user: "ann", score: 50)
            let get = try await server.request(.get, target)
            let answers = try await FirstPageFastPathTests.exchange("HEAD \(target) HTTP/1.1\r\nHost: podium\r\n\r\n", port: server.port, headOnly: true)
            #expect(answers.count == 2, "the head, then the health check's answer")
            #expect(answers.first?.status == Int(get.status.code))
            #expect(answers.first?.header("Content-Length") == String(get.body.utf8.count), "the GET's length")
            #expect(answers.first?.header("Content-Type") == get.headers[.contentType])
            #expect(answers.last?.head.hasPrefix("HTTP/1.1 200 OK\r\n") == true && answers.last?.body == #"{"status":"ok"}"#, "no body bytes before the next answer")
        }
    }

    @Test func repeatedReadsFollowEveryChangeOfTheBoard() async throws {
        try await TestServer.run { server in
            func page(_ query: String = "") async throws -> [String: Any] {
                try JSON.object(try await server.request(.get, "/api/leaderboards/arcade?limit=3" + query).body)
            }
            func leaders(_ page: [String: Any]) -> [String] { page[array: "entries"]?.compactMap { $0[string: "userId"] } ?? [] }
            try await server.ingest(user: "ann", country: "GB", score: 10)
            #expect(leaders(try await page()) == ["ann"])
            #expect(leaders(try await page()) == ["ann"], "a repeated read answers the same")
            try await server.ingest(user: "bob", country: "GB", score: 20)
            let afterBob = try await page()
            #expect(leaders(afterBob) == ["bob", "ann"] && afterBob[int: "total"] == 2)
            try await server.ingest(user: "ann", name: "Ann Renamed", country: "GB", score: 10)
            #expect(try await page()[array: "entries"]?.last?[string: "displayName"] == "Ann Renamed", "a rename is read at once")
            #expect(leaders(try await page("&scope=local&country=GB")) == ["bob", "ann"])
            try await server.ingest(user: "cid", country: "GB", score: 30)
            #expect(leaders(try await page("&scope=local&country=GB")) == ["cid", "bob", "ann"])
            #expect(leaders(try await page()) == ["cid", "bob", "ann"])
        }
    }

    @Test func playerStandingAndAroundMe() async throws {
        try await TestServer.run { server in
            for index in 0..<9 { try await server.ingest(user: "p\(index)", country: "FR", score: Int64(index * 10)) }
            let standing = try JSON.object(try await server.request(.get, "/api/leaderboards/arcade/players/p4").body)
            #expect(standing[int: "globalRank"] == 5 && standing[int: "localRank"] == 5)
            #expect(standing[object: "entry"]?[int: "score"] == 40)
            let around = try JSON.object(try await server.request(.get, "/api/leaderboards/arcade/around/p4?radius=2").body)
            #expect((around[array: "entries"] ?? []).compactMap { $0[string: "userId"] } == ["p6", "p5", "p4", "p3", "p2"])
            let edge = try JSON.object(try await server.request(.get, "/api/leaderboards/arcade/around/p8?radius=2&scope=local").body)
            #expect((edge[array: "entries"] ?? []).compactMap { $0[int: "rank"] } == [1, 2, 3])
            let unknown = try await server.request(.get, "/api/leaderboards/arcade/players/ghost")
            #expect(unknown.status == .notFound)
        }
    }

    @Test func seed004LeaderboardShape() async throws {
        try await TestServer.run { server in
            try await server.ingest(user: "u1", name: "Ada", score: 5)
            let body = try JSON.object(try await server.request(.get, "/api/leaderboard").body)
            let users = body[array: "users"] ?? []
            #expect(users.count == 1)
            #expect(users.first?[string: "username"] == "Ada" && users.first?[int: "rank"] == 1 && users.first?[int: "score"] == 5)
            #expect(body[string: "updatedAt"] != nil)
        }
    }

    /// Seed 004's top page is answered from the board's page cache, like first pages: the
    /// same bytes until the board changes, and the same body as through the router.
    @Test func seed004LeaderboardComesFromThePageCache() async throws {
        try await TestServer.run { server in
            try await server.ingest(user: "u1", name: "Ada", score: 5)
            let leaderboards = server.podium.leaderboards
            let cached = try leaderboards.encodedFirstPage(.defaultLeaderboard)
            #expect(try leaderboards.encodedFirstPage(.defaultLeaderboard).storageAddress == cached.storageAddress, "not encoded again")
            let fast = try await server.request(.get, "/api/leaderboard")
            let routed = try await server.request(.get, "/api/leaderboard?via=router")
            #expect(fast.status == .ok && fast.body == routed.body && fast.body == String(buffer: cached))
            try await server.ingest(user: "u2", name: "Bob", score: 9)
            let changed = try leaderboards.encodedFirstPage(.defaultLeaderboard)
            #expect(changed.storageAddress != cached.storageAddress && String(buffer: changed).contains("Bob"))
            let metrics = try await server.request(.get, "/metrics").body
            #expect(metrics.contains(#"podium_http_requests_total{method="GET",route="/api/leaderboard",status="200"} 2"#))
        }
    }

    @Test("bad query parameters answer 400 in the one error shape", arguments: [
        "/api/leaderboards/arcade?scope=galaxy",
        "/api/leaderboards/arcade?limit=0",
        "/api/leaderboards/arcade?limit=1000",
        "/api/leaderboards/arcade?limit=ten",
        "/api/leaderboards/arcade?scope=local",
        "/api/leaderboards/arcade?scope=local&country=XX",
        "/api/leaderboards/arcade?cursor=not-a-cursor",
        "/api/leaderboards/arcade/around/someone?radius=-1",
    ])
    func badQueries(path: String) async throws {
        try await TestServer.run { server in
            let response = try await server.request(.get, path)
            #expect(response.status == .badRequest)
            let error = try JSON.object(response.body)[object: "error"]
            #expect(error?[string: "code"] == "VALIDATION_ERROR")
            #expect((error?[string: "message"] ?? "").isEmpty == false)
        }
    }

    @Test func unknownRoutesAnswerJSON404() async throws {
        try await TestServer.run { server in
            let response = try await server.request(.get, "/api/nothing-here")
            #expect(response.status == .notFound)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(try JSON.object(response.body)[object: "error"]?[string: "code"] == "NOT_FOUND")
        }
    }
}

extension ByteBuffer {
    /// Where the readable bytes are: equal for two copies of one buffer.
    fileprivate var storageAddress: UInt {
        withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
    }
}
