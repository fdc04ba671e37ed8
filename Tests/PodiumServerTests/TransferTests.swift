import Foundation
import Testing

/// `podium export` and `podium import` against running servers: boards out as CSV or
/// JSON, and into an empty game through the log (durable, replayed, pushed live).
@Suite("Export and import of boards through a running server", .timeLimit(.minutes(3)))
struct TransferTests {
    static let games = """
        {"games": [{"id": "arcade", "name": "Arcade", "operator": "best", "maxScore": 1000000, "topN": 5},
                   {"id": "copy", "name": "Copy", "operator": "best", "maxScore": 1000000, "topN": 5},
                   {"id": "space-runner", "name": "Space Runner", "operator": "best", "topN": 5}]}
        """

    /// A real server with its SQLite data in `directory`, and the admin environment for
    /// the commands that talk to it.
    static func start(in directory: TemporaryDirectory) async throws -> (ServerProcess, [String: String]) {
        let server = try await ServerProcess.start(arguments: BackupTests.arguments(data: directory.url.appendingPathComponent("data"), games: Self.games))
        let environment = [
            "PODIUM_URL": "http://127.0.0.1:\(server.port)", "PODIUM_ADMIN_USER": "admin", "PODIUM_ADMIN_PASSWORD": TestServer.adminPassword,
        ]
        return (server, environment)
    }

    /// Every entry of a board, read back page by page through the public API.
    static func board(_ game: String, of server: ServerProcess) async throws -> [[String: Any]] {
        var entries: [[String: Any]] = []
        var cursor: String?
        repeat {
            let path = "/api/leaderboards/\(game)?limit=7" + (cursor.map { "&cursor=\($0)" } ?? "")
            let page = try JSON.object(try await server.request(.get, path).body)
            entries += page[array: "entries"] ?? []
            cursor = page[string: "nextCursor"]
        } while cursor != nil
        return entries
    }

    static func rows(_ entries: [[String: Any]]) -> [String] {
        entries.map { entry in
            ["rank", "userId", "displayName", "countryCode", "score", "achievedAt"].map { "\(entry[$0] ?? "-")" }.joined(separator: "|")
        }
    }

    @Test(arguments: ["csv", "json"])
    func anExportImportedIntoAnEmptyGameReadsBackTheSame(format: String) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (server, environment) = try await Self.start(in: directory)
        defer { Task { _ = await server.stop(signal: SIGTERM) } }
        let names = ["Ann", "Bo, the \"Quick\"", "Çelik", "D\nE", "Eve"]
        for index in 0..<23 {
            let name = names[index % names.count].replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\"", with: "\\\"")
            let country = index % 3 == 0 ? #","countryCode":"FR""# : (index % 3 == 1 ? #","countryCode":"GB""# : "")
            let body = #"{"gameId":"arcade","userId":"u\#(index)","displayName":"\#(name)"\#(country),"score":\#(index * 7919 % 1000),"achievedAt":"2026-11-23T10:00:\#(10 + index).250Z"}"#
            #expect(try await server.request(.post, "/score", json: body).status == .ok)
        }
        let original = try await Self.board("arcade", of: server)
        #expect(original.count == 23)

        let file = directory.url.appendingPathComponent("arcade.\(format)")
        let export = try await PodiumRun.run(["export", "--game", "arcade", "--format", format, "--to", file.path], environment: environment)
        #expect(export.status == 0, "\(export.output)")
        let text = try String(contentsOf: file, encoding: .utf8)
        if format == "csv" {
            #expect(text.hasPrefix("rank,userId,displayName,countryCode,score,achievedAt\n"))
            #expect(text.contains(#""Bo, the ""Quick""""#), "quoted as RFC 4180 asks:\n\(text)")
        } else {
            let object = try JSON.object(text)
            #expect(object[string: "period"] == "all-time" && object[int: "players"] == 23)
        }

        // A live subscriber of the empty game sees the import arrive.
        let live = try await LiveClient.connect(port: server.port)
        defer { live.close() }
        live.send(#"{"type":"subscribe","gameId":"copy","scopes":["global"]}"#)
        let state = try await live.nextMessage()
        #expect(state[object: "payload"]?[array: "entries"]?.isEmpty == true)

        let imported = try await PodiumRun.run(["import", "--game", "copy", file.path], environment: environment)
        #expect(imported.status == 0, "\(imported.output)")
        #expect(imported.standardOutput.contains("imported 23 players into copy"), "\(imported.output)")
        #expect(Self.rows(try await Self.board("copy", of: server)) == Self.rows(original))
        var update: [String: Any] = [:]
        while update[string: "type"] != "leaderboard:update" || update[object: "payload"]?[array: "entries"]?.count != 5 {
            update = try await live.nextMessage()
        }

        // Through the log: the import is there after a restart that replays it.
        #expect(await server.stop(signal: SIGTERM) == 0)
        let restarted = try await ServerProcess.start(arguments: BackupTests.arguments(data: directory.url.appendingPathComponent("data"), games: Self.games))
        defer { Task { _ = await restarted.stop(signal: SIGTERM) } }
        #expect(Self.rows(try await Self.board("copy", of: restarted)) == Self.rows(original))
    }

    @Test func badRowsAreRefusedWithTheirLinesAndNothingIsImported() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (server, environment) = try await Self.start(in: directory)
        defer { Task { _ = await server.stop(signal: SIGTERM) } }
        let csv = """
            userId,displayName,score,countryCode
            ok1,Fine,10,GB
            ,Nobody,5,GB
            ok2,"Two
            lines",20,FR
            bad,Bad,12.5,GB
            ok1,Again,3,GB
            big,Big,2000000,XX

            """
        let file = directory.url.appendingPathComponent("bad.csv")
        try Data(csv.utf8).write(to: file)
        let run = try await PodiumRun.run(["import", "--game", "copy", file.path], environment: environment)
        #expect(run.status == 1, "\(run.output)")
        for expected in [
            "4 row(s) refused, nothing imported", "line 3: userId must be 1-128 bytes", "line 6: score '12.5' is not an integer",
            "line 7: userId 'ok1' is on line 2 already", "line 8: countryCode 'XX' is not an ISO 3166-1 alpha-2 code",
        ] {
            #expect(run.output.contains(expected), "missing '\(expected)' in \(run.output)")
        }
        #expect(try await Self.board("copy", of: server).isEmpty)

        let json = """
            {"entries": [
            {"userId": "a", "score": 1},
            {"userId": "b", "score": -4},
            {"userId": "c", "score": 3, "achievedAt": "yesterday"}
            ]}
            """
        let jsonFile = directory.url.appendingPathComponent("bad.json")
        try Data(json.utf8).write(to: jsonFile)
        let refused = try await PodiumRun.run(["import", "--game", "copy", jsonFile.path], environment: environment)
        #expect(refused.status == 1, "\(refused.output)")
        #expect(refused.output.contains("line 3: score must not be negative"), "\(refused.output)")
        #expect(refused.output.contains("line 4: achievedAt 'yesterday' is not an RFC 3339 time"), "\(refused.output)")
        #expect(try await Self.board("copy", of: server).isEmpty)
    }

    @Test func aGameWithPlayersIsRefused() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (server, environment) = try await Self.start(in: directory)
        defer { Task { _ = await server.stop(signal: SIGTERM) } }
        #expect(try await server.ingest(game: "copy", user: "there", score: 5).status == .ok)
        let file = directory.url.appendingPathComponent("one.csv")
        try Data("userId,score\nnew,7\n".utf8).write(to: file)
        let run = try await PodiumRun.run(["import", "--game", "copy", file.path], environment: environment)
        #expect(run.status == 1, "\(run.output)")
        #expect(run.output.contains("GAME_NOT_EMPTY"), "\(run.output)")
        #expect(Self.rows(try await Self.board("copy", of: server)).count == 1)
        let missing = try await PodiumRun.run(["import", "--game", "nope", file.path], environment: environment)
        #expect(missing.output.contains("GAME_NOT_FOUND"), "\(missing.output)")
        let period = try await PodiumRun.run(["export", "--game", "copy", "--period", "2026-W47"], environment: environment)
        #expect(period.status == 1 && period.output.contains("PERIOD_NOT_FOUND"), "\(period.output)")
    }

    /// `--max-import-size` (MiB) bounds an import: a larger file is refused 413 and imports
    /// nothing; one under it goes in.
    @Test func anImportOverTheLimitIsRefused() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess.start(
            arguments: BackupTests.arguments(data: directory.url.appendingPathComponent("data"), games: Self.games) + ["--max-import-size", "1"]
        )
        defer { Task { _ = await server.stop(signal: SIGTERM) } }
        let environment = [
            "PODIUM_URL": "http://127.0.0.1:\(server.port)", "PODIUM_ADMIN_USER": "admin", "PODIUM_ADMIN_PASSWORD": TestServer.adminPassword,
        ]
        func rows(_ count: Int) -> String { "userId,score\n" + (0..<count).map { "player-\($0),\($0)\n" }.joined() }
        let large = directory.url.appendingPathComponent("large.csv")
        try Data(rows(80_000).utf8).write(to: large)
        #expect(try FileManager.default.attributesOfItem(atPath: large.path)[.size] as? Int ?? 0 > 1024 * 1024)
        let refused = try await PodiumRun.run(["import", "--game", "copy", large.path], environment: environment)
        #expect(refused.status == 1, "\(refused.output)")
        #expect(refused.output.contains("(HTTP 413): PAYLOAD_TOO_LARGE"), "\(refused.output)")
        #expect(try await Self.board("copy", of: server).isEmpty)

        let small = directory.url.appendingPathComponent("small.csv")
        try Data(rows(1_000).utf8).write(to: small)
        let imported = try await PodiumRun.run(["import", "--game", "copy", small.path], environment: environment)
        #expect(imported.status == 0, "\(imported.output)")
        #expect(try await Self.board("copy", of: server).count == 1_000)
    }

    /// docs/configuration.md's recipe, run as written (`redis-cli … | paste`, then
    /// `podium import`) against a real Redis server holding a sorted set.
    @Test func theRedisRecipeImportsARealSortedSet() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let redis = try await RedisServer.start(in: directory)
        defer { redis.stop() }
        for (score, member) in [("4200", "alice"), ("1200", "bob"), ("950", "carol"), ("1e3", "dave"), ("950", "erin")] {
            _ = try await redis.command(["ZADD", "leaderboard:space-runner", score, member])
        }
        let (server, environment) = try await Self.start(in: directory)
        defer { Task { _ = await server.stop(signal: SIGTERM) } }

        // `redis-cli` and `podium` of the recipe are this Redis and this build.
        let tools = directory.url.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: tools, withIntermediateDirectories: true)
        let cli = tools.appendingPathComponent("redis-cli")
        try Data("#!/bin/sh\nexec \(RedisServer.cli) -s \(redis.socket) \"$@\"\n".utf8).write(to: cli)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: cli.path)
        try FileManager.default.createSymbolicLink(at: tools.appendingPathComponent("podium"), withDestinationURL: ServerProcess.binary)
        let path = tools.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let run = try await ScriptRun.run(
            "/bin/bash", ["-euo", "pipefail", "-c", try Self.redisRecipe()], environment: environment.merging(["PATH": path]) { $1 },
            directory: directory.url.path, timeout: .seconds(60)
        )
        #expect(run.status == 0, "\(run.output)")
        #expect(run.standardOutput.contains("imported 5 players into space-runner"), "\(run.output)")
        let board = try await Self.board("space-runner", of: server)
        #expect(
            board.map { "\($0[string: "userId"] ?? "")=\($0[int: "score"] ?? -1)" }
                == ["alice=4200", "bob=1200", "dave=1000", "carol=950", "erin=950"]
        )
        #expect(board.first?[string: "displayName"] == "alice")
    }

    /// The shell lines of docs/configuration.md's "Moving from Redis sorted sets".
    static func redisRecipe() throws -> String {
        let text = try String(contentsOf: InstallTests.repositoryRoot.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        let section = try #require(text.range(of: "### Moving from Redis sorted sets"), "the recipe's section is gone")
        let block = try #require(text[section.upperBound...].firstMatch(of: /```sh\n((?:.|\n)*?)```/), "the recipe has no sh block")
        return String(block.1)
    }
}
