import Foundation
import GRDB
import HTTPTypes
import PodiumEngine
import Testing

@testable import PodiumServer

@Suite("Durable storage: the SQLite log, snapshots, restart and store failure", .timeLimit(.minutes(2)))
struct StorageTests {
    @Test func scoresSurviveRestartsWithAndWithoutSnapshots() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestServer.run(in: directory) { server in
            try await server.ingest(user: "ann", country: "GB", score: 300)
            try await server.ingest(game: "quests", user: "ann", score: 5)
            try await server.ingest(game: "quests", user: "ann", score: 5)
        }
        // The graceful shutdown wrote a snapshot; these events land after it.
        try await TestServer.run(in: directory) { server in
            let standing = try JSON.object(try await server.request(.get, "/api/leaderboards/arcade/players/ann").body)
            #expect(standing[object: "entry"]?[int: "score"] == 300)
            #expect(standing[int: "localRank"] == 1)
            try await server.ingest(user: "bob", score: 400)
            try await server.ingest(game: "quests", user: "ann", score: 5)
        }
        let store = try SQLiteStore(path: directory.url.appendingPathComponent("podium.sqlite").path)
        let games = try JSONDecoder().decode(GameRegistry.self, from: Data(TestServer.gamesJSON.utf8)).games
        #expect(try await store.snapshots().count == games.count, "one snapshot per game")
        try await TestServer.run(in: directory) { server in
            let page = try JSON.object(try await server.request(.get, "/api/leaderboards/arcade").body)
            #expect(page[array: "entries"]?.compactMap { $0[string: "userId"] } == ["bob", "ann"])
            let quests = try JSON.object(try await server.request(.get, "/api/leaderboards/quests/players/ann").body)
            #expect(quests[object: "entry"]?[int: "score"] == 15, "incr events applied exactly once across restarts")
        }
    }

    @Test func replayWithoutSnapshotsFoldsTheWholeLog() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestServer.run(in: directory) { server in
            for index in 0..<30 { try await server.ingest(game: "quests", user: "p\(index % 7)", score: Int64(index)) }
        }
        let store = try SQLiteStore(path: directory.url.appendingPathComponent("podium.sqlite").path)
        try await store.pool.write { try $0.execute(sql: "DELETE FROM board_snapshots") }
        try await TestServer.run(in: directory) { server in
            let page = try JSON.object(try await server.request(.get, "/api/leaderboards/quests?limit=10").body)
            let expected = Board(configuration: BoardConfiguration(scoreOperator: .incr))
            for index in 0..<30 {
                try expected.apply(ScoreEvent(userId: "p\(index % 7)", displayName: "x", score: Int64(index), achievedAt: 0))
            }
            #expect(page[array: "entries"]?.compactMap { $0[int: "score"] } == expected.top(.global, limit: 10).map { Int($0.score) })
        }
    }

    @Test func aFullDiskAnswers503ThenRecovers() async throws {
        try await TestServer.run { server in
            try await server.ingest(user: "ann", score: 10)
            let store = try #require(server.podium.store as? SQLiteStore)
            // Cap the file at its current size: SQLite then fails writes with SQLITE_FULL,
            // exactly as on a full disk.
            try await store.pool.writeWithoutTransaction { db in
                let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
                try db.execute(sql: "PRAGMA max_page_count = \(pages)")
            }
            var refused: (user: String, status: HTTPResponse.Status, headers: HTTPFields, body: String)?
            for index in 0..<200 where refused == nil {
                let response = try await server.request(.post, "/score", json: Self.body(user: "filler\(index)", score: 20))
                if response.status != .ok { refused = ("filler\(index)", response.status, response.headers, response.body) }
            }
            let failure = try #require(refused)
            #expect(failure.status == .serviceUnavailable)
            let error = try JSON.object(failure.body)[object: "error"]
            #expect(error?[string: "code"] == "STORAGE_UNAVAILABLE" && error?[int: "retryAfter"] == 1)
            #expect(failure.headers[.retryAfter] == "1")
            #expect(try await server.request(.get, "/api/leaderboards/arcade").status == .ok, "reads keep serving")
            let missing = try await server.request(.get, "/api/leaderboards/arcade/players/\(failure.user)")
            #expect(missing.status == .notFound, "the unsaved score was not applied")

            try await store.pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA max_page_count = 1073741823") }
            try await server.ingest(user: failure.user, score: 20)
            #expect(try await server.request(.get, "/api/leaderboards/arcade/players/\(failure.user)").status == .ok, "writes resumed")
        }
    }

    /// A store that cannot write or read answers 503 `STORAGE_UNAVAILABLE` on every route,
    /// not 500: here an account that cannot be saved, then failing reads.
    @Test func storeFailuresAnswer503OnEveryRoute() async throws {
        try await TestServer.run { server in
            let admin = try await server.signInAsAdmin()
            let store = try #require(server.podium.store as? SQLiteStore)
            try await store.pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA query_only = 1") }
            let registration = try await server.request(
                .post, "/api/auth/register",
                json: #"{"username":"latecomer","password":"correct horse battery","displayName":"Late","countryCode":"GB"}"#
            )
            #expect(registration.status == .serviceUnavailable)
            #expect(try JSON.object(registration.body)[object: "error"]?[string: "code"] == "STORAGE_UNAVAILABLE")
            try await store.pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA query_only = 0") }
            try await store.pool.write { try $0.execute(sql: "ALTER TABLE flagged_submissions RENAME TO hidden_flags") }
            let flags = try await server.request(.get, "/api/admin/flags", token: admin)
            #expect(flags.status == .serviceUnavailable)
            #expect(try JSON.object(flags.body)[object: "error"]?[string: "code"] == "STORAGE_UNAVAILABLE")
            try await store.pool.write { try $0.execute(sql: "ALTER TABLE users RENAME TO hidden_users") }
            let login = try await server.request(.post, "/api/auth/login", json: #"{"username":"admin","password":"x-x-x-x-x"}"#)
            #expect(login.status == .serviceUnavailable)
        }
    }

    /// `LogWriter.submitAll` (an import's batches): logged whole, beside single
    /// submissions in the same groups, or refused whole when one event does not fit.
    @Test func aBatchIsLoggedWholeOrRefusedWhole() async throws {
        try await TestServer.run { server in
            func event(_ user: String, _ score: Int64, game: String = "arcade") -> LoggedEvent {
                LoggedEvent(gameId: game, userId: user, displayName: user, countryCode: nil, score: score, achievedAt: 0, source: .admin)
            }
            let writer = server.podium.writer
            async let single = writer.submit(event("alone", 5))
            async let batch = writer.submitAll((0..<500).map { event("batch-\($0)", Int64($0)) })
            #expect(try await batch == 500)
            #expect(try await single.changedBoard)
            let page = try JSON.object(try await server.request(.get, "/api/leaderboards/arcade?limit=1").body)
            #expect(page[int: "total"] == 501)

            // One score above arcade's maxScore refuses its batch, and only its batch.
            await #expect(throws: BoardError.self) {
                try await writer.submitAll([event("refused-1", 1), event("refused-2", 2_000_000), event("refused-3", 3)])
            }
            #expect(try await writer.submitAll([event("after", 7)]) == 1)
            for user in ["refused-1", "refused-3"] {
                #expect(try await server.request(.get, "/api/leaderboards/arcade/players/\(user)").status == .notFound)
            }
            // An incr batch that would overflow a total is refused whole; the next batch
            // counts from the board.
            #expect(try await writer.submitAll([event("q", Int64.max - 1, game: "quests")]) == 1)
            await #expect(throws: BoardError.self) { try await writer.submitAll([event("q", 1, game: "quests"), event("q", 5, game: "quests")]) }
            #expect(try await writer.submitAll([event("q", 1, game: "quests")]) == 1)
            let standing = try JSON.object(try await server.request(.get, "/api/leaderboards/quests/players/q").body)
            #expect(standing[object: "entry"]?[int: "score"] == Int(Int64.max))
        }
    }

    @Test func concurrentSmallWritesCommitTogetherAndFailAlone() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.url.appendingPathComponent("podium.sqlite").path
        let store = try SQLiteStore(path: path)
        let user = UserRecord(id: "u1", username: "ann", passwordHash: nil, displayName: "Ann", countryCode: nil, role: .player, createdAt: 0)
        #expect(try await store.createUser(user))
        func session(_ index: Int) -> RunSession {
            RunSession(tokenHash: "token-\(index)", userId: "u1", gameId: "arcade", issuedAt: 0, expiresAt: 1)
        }
        // 200 concurrent run tokens, one of them a duplicate of another's primary key.
        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<200 {
                group.addTask {
                    do {
                        return try await store.createSession(session(index == 199 ? 0 : index)) ? 0 : 1
                    } catch {
                        return 1
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(failures == 1, "the duplicate fails alone")
        let reopened = try SQLiteStore(path: path)
        for index in 0..<199 {
            #expect(try await reopened.session(tokenHash: "token-\(index)") == session(index), "token \(index) is durable")
        }
        // A group that cannot commit fails every write in it; later groups commit again.
        try await store.pool.writeWithoutTransaction { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(pages)")
        }
        var refused = 0
        for index in 200..<400 {
            do { _ = try await store.createSession(session(index)) } catch StoreError.unavailable { refused += 1 }
        }
        #expect(refused > 0)
        try await store.pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA max_page_count = 1073741823") }
        #expect(try await store.createSession(session(400)))
        #expect(try await reopened.session(tokenHash: "token-400") == session(400))
    }

    @Test func memoryStorageServesWithoutAFile() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestServer.run(in: directory, configure: { $0.storage = .memory }) { server in
            try await server.ingest(user: "ann", score: 10)
            #expect(try JSON.object(try await server.request(.get, "/api/leaderboards/arcade").body)[int: "total"] == 1)
        }
        #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("podium.sqlite").path))
    }

    static func body(user: String, score: Int64) -> String {
        #"{"gameId":"arcade","userId":"\#(user)","displayName":"\#(user)","score":\#(score),"achievedAt":"2026-11-23T10:00:00Z"}"#
    }
}
