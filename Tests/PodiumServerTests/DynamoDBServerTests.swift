import DynamoDB
import Foundation
import Testing

@testable import PodiumServer

@Suite("Boards in DynamoDB: flush, restore over the memory store, an unreachable DynamoDB, start-up errors", .timeLimit(.minutes(4)))
struct DynamoDBServerTests {
    static let countries = ["GB", "FR", "DE", nil]

    @Test func memoryServerFlushesSpecItemsAndARestartRestoresEveryPlayer() async throws {
        let endpoint = try TestDynamoDB.endpoint()
        let client = try TestDynamoDB.client(endpoint: endpoint)
        let table = try await TestDynamoDB.newTable(client)
        let store = DynamoDBSnapshotStore(client: client, table: table)
        func configure(_ configuration: inout ServerConfiguration) {
            configuration.storage = .memory
            configuration.dynamoDB = TestDynamoDB.settings(endpoint: endpoint, table: table, chunkSize: 2_000)
            configuration.follower.replicaFlushInterval = .milliseconds(200)
        }
        let players = 150
        var standings: [String: [String: Any]] = [:]
        try await TestServer.run(configure: configure) { server in
            for index in 0..<players {
                try await server.ingest(user: "p\(index)", name: "Plåyer \(index)", country: Self.countries[index % 4], score: Int64(index * 37 % 1000))
            }
            let top = try JSON.object(try await server.request(.get, "/api/leaderboards/arcade?limit=3").body)[array: "entries"] ?? []
            let globalKey: Item = ["PK": .string("GAME#arcade#SCOPE#GLOBAL"), "SK": .string("SNAPSHOT")]
            let item = try await Self.waitForItem(client, table, globalKey) { item in
                item["entries"]?.list?.compactMap { $0.map?["userId"]?.string } == top.compactMap { $0[string: "userId"] }
            }
            // Spec 000's item model: the top N as LeaderboardEntry maps, and updatedAt.
            #expect(Set(item.keys) == ["PK", "SK", "entries", "updatedAt"])
            #expect(item["updatedAt"]?.string.flatMap(Timestamp.parse) != nil)
            let first = try #require(item["entries"]?.list?.first?.map)
            let leader = try #require(top.first)
            #expect(first["rank"] == .number(1))
            #expect(first["userId"] == .string(leader[string: "userId"]!))
            #expect(first["displayName"] == .string(leader[string: "displayName"]!))
            #expect(first["score"] == .number(Int64(leader[int: "score"]!)))
            #expect(first["achievedAt"] == .string("2026-11-23T10:00:00.000Z"))
            #expect(first["countryCode"] == leader[string: "countryCode"].map { .string($0) })
            let localTop = try JSON.object(try await server.request(.get, "/api/leaderboards/arcade?scope=local&country=GB&limit=3").body)[array: "entries"] ?? []
            let local = try await Self.waitForItem(client, table, ["PK": .string("GAME#arcade#SCOPE#COUNTRY#GB"), "SK": .string("SNAPSHOT")]) { item in
                item["entries"]?.list?.compactMap { $0.map?["userId"]?.string } == localTop.compactMap { $0[string: "userId"] }
            }
            #expect(local["entries"]?.list?.compactMap { $0.map?["countryCode"]?.string } == Array(repeating: "GB", count: localTop.count))

            for index in 0..<players {
                standings["p\(index)"] = try JSON.object(try await server.request(.get, "/api/leaderboards/arcade/players/p\(index)").body)
            }
        }
        let arcade = try #require(try await store.manifests()["arcade"])
        #expect(arcade.chunks > 1, "a board larger than one item")

        try await TestServer.run(configure: configure) { server in
            // Ready means restored: every player with the same ranks, from DynamoDB alone.
            for index in 0..<players {
                let standing = try JSON.object(try await server.request(.get, "/api/leaderboards/arcade/players/p\(index)").body)
                let before = try #require(standings["p\(index)"])
                #expect(standing[object: "entry"]?[int: "rank"] == before[object: "entry"]?[int: "rank"], "p\(index)")
                #expect(standing[object: "entry"]?[int: "score"] == before[object: "entry"]?[int: "score"], "p\(index)")
                #expect(standing[object: "entry"]?[string: "displayName"] == "Plåyer \(index)")
                #expect(standing[int: "localRank"] == before[int: "localRank"], "p\(index)")
            }
            // Only a changed board is written again: sprint changes, arcade does not.
            try await server.ingest(game: "sprint", user: "runner", score: 4_200)
            _ = try await Self.waitForItem(client, table, ["PK": .string("GAME#sprint#SCOPE#GLOBAL"), "SK": .string("SNAPSHOT")]) { _ in true }
            let metrics = try await server.request(.get, "/metrics").body
            #expect(OperationsTests.metric(metrics, "podium_dynamodb_boards_written_total ") == 1)
            #expect(try await store.manifests()["arcade"]?.snapshotId == arcade.snapshotId)
        }
        #expect(try await store.manifests()["arcade"]?.snapshotId == arcade.snapshotId, "an unchanged board is not rewritten at shutdown")
    }

    /// A fresh table, and the configuration of memory servers on it that keep `runner`'s
    /// period boards (``PeriodBoardTests/gamesJSON``) and flush every 200 ms.
    static func withPeriodBoardsOnAFreshTable(
        _ body: (DynamoDBSnapshotStore, _ configure: @escaping (inout ServerConfiguration) -> Void) async throws -> Void
    ) async throws {
        let endpoint = try TestDynamoDB.endpoint()
        let client = try TestDynamoDB.client(endpoint: endpoint)
        let table = try await TestDynamoDB.newTable(client)
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let games = scratch.url.appendingPathComponent("periods.json")
        try Data(PeriodBoardTests.gamesJSON.utf8).write(to: games)
        try await body(DynamoDBSnapshotStore(client: client, table: table)) { configuration in
            configuration.storage = .memory
            configuration.gamesFile = games.path
            configuration.dynamoDB = TestDynamoDB.settings(endpoint: endpoint, table: table)
            configuration.follower.replicaFlushInterval = .milliseconds(200)
        }
    }

    @Test func periodBoardsComeBackFromDynamoDBToo() async throws {
        try await Self.withPeriodBoardsOnAFreshTable { store, configure in
            var daily: [String] = []
            try await TestServer.run(configure: configure) { server in
                try await server.ingest(game: "runner", user: "ann", score: 100)
                try await server.ingest(game: "runner", user: "bob", score: 50)
                daily = try await PeriodBoardTests.entries(server, "period=daily")
                for _ in 0..<1_200 {
                    if try await Self.periodManifests(store).count == 2 { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            #expect(daily == ["ann=100", "bob=50"])
            #expect(try await Self.periodManifests(store).count == 2, "the daily and the weekly board")
            let restored = daily
            try await TestServer.run(configure: configure) { server in
                let dailyAfter = try await PeriodBoardTests.entries(server, "period=daily")
                let weeklyAfter = try await PeriodBoardTests.entries(server, "period=weekly")
                #expect(dailyAfter == restored && weeklyAfter == restored)
            }
        }
    }

    /// An archive dropped past `keepArchives` (2 for `runner`) loses its copy in DynamoDB
    /// too, so the table keeps no more boards than the server.
    @Test func droppedArchivesAreDeletedFromDynamoDB() async throws {
        let clock = ManualClock("2026-12-01T12:00:00Z")
        try await Self.withPeriodBoardsOnAFreshTable { store, configure in
            try await TestServer.run(configure: {
                configure(&$0)
                $0.clock = clock.wallClock
            }) { server in
                try await server.ingest(game: "runner", user: "ann", score: 100)
                func waitForDailyBoards(_ expected: [String]) async throws {
                    for _ in 0..<1_200 {
                        if try await Self.periodManifests(store).filter({ !$0.contains("-W") }).sorted() == expected { return }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    Issue.record("DynamoDB holds \(try await Self.periodManifests(store).sorted()), not \(expected)")
                }
                try await waitForDailyBoards(["runner@2026-12-01"])
                clock.set("2026-12-02T12:00:00Z")
                try await waitForDailyBoards(["runner@2026-12-01", "runner@2026-12-02"])
                clock.set("2026-12-03T12:00:00Z")
                try await waitForDailyBoards(["runner@2026-12-01", "runner@2026-12-02", "runner@2026-12-03"])
                clock.set("2026-12-04T12:00:00Z")
                try await waitForDailyBoards(["runner@2026-12-02", "runner@2026-12-03", "runner@2026-12-04"])
                let dropped = try await server.request(.get, "/api/leaderboards/runner?period=2026-12-01")
                #expect(dropped.status == .notFound, "the server dropped it too")
            }
        }
    }

    @Test func everyAcceptedScoreIsInTheHistoryTableAndReadBackAfterARestart() async throws {
        let endpoint = try TestDynamoDB.endpoint()
        let client = try TestDynamoDB.client(endpoint: endpoint)
        let boards = try await TestDynamoDB.newTable(client)
        let scores = try await TestDynamoDB.newTable(client, prefix: "scores")
        func configure(_ configuration: inout ServerConfiguration) {
            configuration.storage = .memory
            configuration.dynamoDB = TestDynamoDB.settings(endpoint: endpoint, table: boards)
            configuration.dynamoDB?.scoreTable = scores
            configuration.follower.replicaFlushInterval = .milliseconds(200)
        }
        let expected = [("2026-11-23T10:00:03.000Z", 150), ("2026-11-23T10:00:02.000Z", 300), ("2026-11-23T10:00:01.000Z", 200)]
        try await TestServer.run(configure: configure) { server in
            for (time, score) in expected.reversed() { try await server.ingest(user: "ann", country: "GB", score: Int64(score), at: time) }
            try await server.ingest(user: "bob", score: 50)
            for _ in 0..<1_200 {
                let items = try await client.queryAll(table: scores, keyName: "PK", keyValue: .string("GAME#arcade#USER#ann"))
                if items.count == 3 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        try await TestServer.run(configure: configure) { server in
            let response = try await server.request(.get, "/api/leaderboards/arcade/players/ann/history")
            #expect(response.status == .ok)
            let body = try JSON.object(response.body)
            let entries = body[array: "entries"] ?? []
            #expect(entries.compactMap { $0[string: "achievedAt"] } == expected.map(\.0), "newest first, one per accepted score")
            #expect(entries.compactMap { $0[int: "score"] } == expected.map(\.1), "a score that did not improve the best is history too")
            #expect(entries.first?[string: "countryCode"] == "GB" && entries.first?[string: "source"] == "ingest")
            #expect(try JSON.object(try await server.request(.get, "/api/leaderboards/arcade/players/ann/history?limit=1").body)[array: "entries"]?.count == 1)
            #expect(try await server.request(.get, "/api/leaderboards/arcade/players/ann/history?limit=0").status == .badRequest)
            #expect(try await server.request(.get, "/api/leaderboards/nope/players/ann/history").status == .notFound)
            #expect(try JSON.object(try await server.request(.get, "/api/leaderboards/arcade/players/zed/history").body)[array: "entries"]?.isEmpty == true)
        }
        let items = try await client.queryAll(table: scores, keyName: "PK", keyValue: .string("GAME#arcade#USER#ann"))
        #expect(items.count == 3, "each accepted score once")
    }

    @Test func theDurableStoresAnswerHistoryFromTheirLog() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestServer.run(in: directory) { server in
            try await server.ingest(user: "ann", score: 10, at: "2026-11-23T10:00:01Z")
            try await server.ingest(user: "ann", score: 5, at: "2026-11-23T10:00:02Z")
        }
        try await TestServer.run(in: directory) { server in
            let entries = try JSON.object(try await server.request(.get, "/api/leaderboards/arcade/players/ann/history").body)[array: "entries"] ?? []
            #expect(entries.compactMap { $0[int: "score"] } == [5, 10])
        }
    }

    @Test func scoresAreAcceptedWhileDynamoDBIsDownAndTheFlushCatchesUp() async throws {
        let moto = try PrivateMoto()
        defer { moto.stop() }
        var client = try TestDynamoDB.client(endpoint: moto.endpoint)
        let table = try await TestDynamoDB.newTable(client)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let games = directory.url.appendingPathComponent("games.json")
        try Data(TestServer.gamesJSON.utf8).write(to: games)
        let server = try await ServerProcess.start(
            arguments: ["--data-directory", directory.url.path, "--games", games.path, "--dynamodb-flush-interval", "1"],
            environment: TestDynamoDB.environment(endpoint: moto.endpoint, table: table)
        )
        defer { _ = Task { await server.stop(signal: SIGKILL) } }
        let globalKey: Item = ["PK": .string("GAME#arcade#SCOPE#GLOBAL"), "SK": .string("SNAPSHOT")]
        try await Self.ingest(port: server.port, user: "first", score: 10)
        _ = try await Self.waitForItem(client, table, globalKey) { _ in true }

        moto.stop()
        for (index, score) in [500, 400, 300, 200].enumerated() {
            try await Self.ingest(port: server.port, user: "down\(index)", score: Int64(score))
        }
        try await Self.waitForMetric(port: server.port, "podium_dynamodb_write_errors_total ") { $0 >= 1 }
        #expect(await server.output(contains: "cannot write boards to DynamoDB"))
        #expect(try await HTTP.request(port: server.port, .get, "/ready").status == .ok)

        // Back, empty (a new moto): the pending boards are written at the next flush.
        try moto.start()
        client = try TestDynamoDB.client(endpoint: moto.endpoint)
        try await client.createTable(table, partitionKey: "PK", sortKey: "SK")
        let item = try await Self.waitForItem(client, table, globalKey) { item in
            item["entries"]?.list?.compactMap { $0.map?["userId"]?.string } == ["down0", "down1", "down2"]
        }
        #expect(item["entries"]?.list?.count == 3)
        try await Self.waitForMetric(port: server.port, "podium_dynamodb_pending_boards ") { $0 == 0 }
        #expect(await server.stop(signal: SIGTERM) == 0)
        // The durable store kept every score, whatever DynamoDB did.
        let restarted = try await ServerProcess.start(arguments: ["--data-directory", directory.url.path, "--games", games.path])
        let page = try JSON.object(try await HTTP.request(port: restarted.port, .get, "/api/leaderboards/arcade?limit=10").body)
        #expect(page[array: "entries"]?.compactMap { $0[string: "userId"] } == ["down0", "down1", "down2", "down3", "first"])
        #expect(await restarted.stop(signal: SIGTERM) == 0)
    }

    @Test func aMisconfiguredDynamoDBStopsTheStartWithAClearError() async throws {
        let missing = try await ScriptRun.run(
            ServerProcess.binary.path, ["serve", "--port", "0", "--storage", "memory"],
            environment: ["DDB_TABLE_LEADERBOARD_SNAPSHOTS": "boards", "AWS_REGION": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""]
        )
        #expect(missing.status != 0)
        #expect(missing.standardError.contains("DynamoDB needs AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY"))

        let badEndpoint = try await ScriptRun.run(
            ServerProcess.binary.path, ["serve", "--port", "0", "--storage", "memory"],
            environment: TestDynamoDB.environment(endpoint: "localhost:8000", table: "boards")
        )
        #expect(badEndpoint.status != 0)
        #expect(badEndpoint.standardError.contains("DDB_ENDPOINT must be an http:// or https:// URL"))

        var configuration = ServerConfiguration()
        configuration.storage = .memory
        configuration.dynamoDB = TestDynamoDB.settings(endpoint: try TestDynamoDB.endpoint(), table: "no-such-table")
        await #expect {
            _ = try await PodiumApplication(configuration: configuration, logger: .init(label: "test"))
        } throws: { error in
            "\(error)".contains("cannot use DynamoDB table 'no-such-table'") && "\(error)".contains("ResourceNotFoundException")
        }
    }

    /// The snapshot manifests of the runner game's period boards.
    static func periodManifests(_ store: DynamoDBSnapshotStore) async throws -> [String] {
        try await store.manifests().keys.filter { $0.hasPrefix("runner@") }
    }

    /// Waits until the item with `key` exists and satisfies `condition`.
    static func waitForItem(
        _ client: DynamoDBClient, _ table: String, _ key: Item, _ condition: (Item) -> Bool
    ) async throws -> Item {
        for _ in 0..<1_200 {
            if let item = try? await client.getItem(table: table, key: key), condition(item) { return item }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("the item \(key) never came as expected")
    }

    static func waitForMetric(port: Int, _ name: String, _ condition: (Double) -> Bool) async throws {
        for _ in 0..<1_200 {
            let body = try await HTTP.request(port: port, .get, "/metrics").body
            if let value = OperationsTests.metric(body, name), condition(value) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("\(name) never came as expected")
    }

    static func ingest(port: Int, user: String, score: Int64) async throws {
        let response = try await HTTP.request(
            port: port, .post, "/score",
            json: #"{"gameId":"arcade","userId":"\#(user)","displayName":"\#(user)","score":\#(score),"achievedAt":"2026-11-23T10:00:00Z"}"#
        )
        guard response.status == .ok else { throw TestFailure("ingest answered \(response.status): \(response.body)") }
    }
}
