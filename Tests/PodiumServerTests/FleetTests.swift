import Crypto
import Foundation
import PodiumEngine
import Synchronization
import Testing

@testable import PodiumServer

/// Three real `podium serve` processes on one PostgreSQL database.
@Suite("A fleet on PostgreSQL: every instance folds the same log", .serialized, .timeLimit(.minutes(3)))
struct FleetTests {
    @Test func scoresAccountsAndLiveUpdatesCrossInstances() async throws {
        try await Fleet.run { fleet in
            let (a, b, c) = (fleet.instances[0], fleet.instances[1], fleet.instances[2])
            _ = try await a.register("alice")
            let login = try await b.request(.post, "/api/auth/login", json: #"{"username":"alice","password":"correct horse battery"}"#)
            #expect(login.status == .ok, "an account made on one instance signs in on another")
            let client = try await LiveClient.connect(port: c.port)
            defer { client.close() }
            client.send(#"{"type":"subscribe","gameId":"arcade","scopes":["global"]}"#)
            _ = try await client.nextMessage()
            #expect(try await a.ingest(game: "arcade", user: "ann", score: 420).status == .ok)
            let update = try await client.nextMessage()
            #expect(update[string: "type"] == "leaderboard:update")
            #expect(update[object: "payload"]?[array: "entries"]?.first?[string: "userId"] == "ann", "a score sent to A reaches C's subscriber")
            let boards = try await fleet.converged()
            var versions: Set<Int> = []
            for instance in fleet.instances {
                let page = try JSON.object(try await instance.request(.get, "/api/leaderboards/arcade").body)
                versions.insert(page[int: "version"] ?? -1)
            }
            #expect(versions.count == 1 && versions.first == update[object: "payload"]?[int: "version"], "one version everywhere")
            #expect(boards.count == 3)
        }
    }

    @Test func concurrentWritesThroughEveryInstanceEndInIdenticalBoards() async throws {
        try await Fleet.run { fleet in
            try await Self.load(fleet.instances, writesEach: 60)
            let boards = try await fleet.converged()
            let fingerprints = Set(boards.map { Self.fingerprints($0) })
            #expect(fingerprints.count == 1, "byte-identical boards on every instance")
            try await Self.expectBoardsAreTheFoldOfTheLog(boards[0], fleet: fleet)
        }
    }

    /// An import through one instance (three batches of the writer) is folded by every
    /// instance: the same board everywhere, and the import answers once it is applied there.
    @Test func anImportThroughOneInstanceReachesEveryInstance() async throws {
        try await Fleet.run(2) { fleet in
            let rows = "userId,score\n" + (0..<20_000).map { "player-\($0),\($0 * 7 % 100_000)\n" }.joined()
            let token = try await fleet.instances[0].signInAsAdmin()
            // `?format=csv` names the format (the helper sends its body as JSON).
            let answer = try await fleet.instances[0].request(.post, "/api/admin/games/arcade/import?format=csv", json: rows, token: token)
            #expect(answer.status == .ok, "\(answer.body.prefix(300))")
            #expect(try JSON.object(answer.body)[int: "players"] == 20_000, "applied on the importing instance when it answers")
            let boards = try await fleet.converged()
            #expect(Set(boards.map { Self.fingerprints($0) }).count == 1, "the same board on both instances")
            for instance in fleet.instances {
                let page = try JSON.object(try await instance.request(.get, "/api/leaderboards/arcade?limit=1").body)
                #expect(page[int: "total"] == 20_000 && page[array: "entries"]?.first?[int: "score"] == 99_995, "\(page)")
            }
        }
    }

    /// A commit held open while the instances write: the sequences after it wait for it,
    /// so no follower reads past it and every follower ends with it, once, in order.
    @Test func aCommitHeldOpenIsNotSkipped() async throws {
        try await Fleet.run { fleet in
            _ = try await fleet.instances[0].ingest(user: "before", score: 1)
            let holding = """
                BEGIN;
                UPDATE log_head SET sequence = sequence + 1;
                INSERT INTO log_events (sequence, game_id, kind, user_id, display_name, score, achieved_at, source, origin, recorded_at)
                    SELECT sequence, 'counter', 0, 'held', 'Held', 777, 0, 'ingest', 'psql', 0 FROM log_head;
                SELECT pg_sleep(2);
                COMMIT;
                """
            let held = try ChildProcess(
                "/usr/bin/psql", [fleet.databaseURL, "-v", "ON_ERROR_STOP=1", "-q", "-c", holding],
                environment: ProcessInfo.processInfo.environment, output: .null
            )
            try await Task.sleep(for: .milliseconds(300))
            try await Self.load(fleet.instances, writesEach: 15)
            #expect(await held.waitUntilExit(within: .seconds(30)), "psql holding the commit did not end")
            #expect(held.terminationStatus == 0)
            let boards = try await fleet.converged()
            #expect(Set(boards.map { Self.fingerprints($0) }).count == 1)
            for instance in fleet.instances {
                let standing = try JSON.object(try await instance.request(.get, "/api/leaderboards/counter/players/held").body)
                #expect(standing[object: "entry"]?[int: "score"] == 777, "the held commit was folded on instance \(instance.port)")
            }
            try await Self.expectBoardsAreTheFoldOfTheLog(boards[0], fleet: fleet)
        }
    }

    @Test func oneTimeThingsHappenOnceAcrossTheFleet() async throws {
        try await Fleet.run(extraArguments: ["--score-rate-limit", "1000"]) { fleet in
            let token = try await fleet.instances[0].register("racer")
            let session = try JSON.object(
                try await fleet.instances[1].request(.post, "/api/game-sessions", json: #"{"gameId":"arcade"}"#, token: token).body
            )[string: "token"] ?? ""
            let statuses = Collected<Int>()
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        let body = #"{"gameId":"arcade","score":\#(100 + index),"runId":"run-\#(index)","sessionToken":"\#(session)"}"#
                        let response = try? await fleet.instances[index % 3].request(.post, "/api/scores/submit", json: body, token: token)
                        statuses.append(Int(response?.status.code ?? 0))
                    }
                }
            }
            let counted = statuses.values
            #expect(counted.filter { $0 == 200 }.count == 1, "one run token, one score: \(counted)")
            #expect(counted.filter { $0 == 409 }.count == 49)
            let actions = Collected<Int>()
            let player = try await fleet.instances[2].register("quester")
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<9 {
                    group.addTask {
                        let response = try? await fleet.instances[index % 3].request(
                            .post, "/api/actions/complete", json: #"{"gameId":"quests","actionId":"tutorial"}"#, token: player
                        )
                        actions.append(Int(response?.status.code ?? 0))
                    }
                }
            }
            #expect(actions.values.filter { $0 == 200 }.count == 1, "a once-only action is credited once")
            let boards = try await fleet.converged()
            let me = try JSON.object(try await fleet.instances[0].request(.get, "/api/me", token: player).body)[string: "userId"] ?? ""
            for instance in fleet.instances {
                let standing = try JSON.object(try await instance.request(.get, "/api/leaderboards/quests/players/\(me)").body)
                #expect(standing[object: "entry"]?[int: "score"] == 50)
            }
            #expect(Set(boards.map { Self.fingerprints($0) }).count == 1)
        }
    }

    @Test func rateLimitsHoldForTheFleet() async throws {
        try await Fleet.run(extraArguments: ["--score-rate-limit", "6"]) { fleet in
            let token = try await fleet.instances[0].register("spammer")
            var statuses: [Int] = []
            for index in 0..<9 {
                let response = try await fleet.instances[index % 3].request(
                    .post, "/api/actions/complete", json: #"{"gameId":"quests","actionId":"login"}"#, token: token
                )
                statuses.append(Int(response.status.code))
            }
            #expect(statuses == Array(repeating: 200, count: 6) + Array(repeating: 429, count: 3), "6 per minute over all instances")
        }
    }

    /// kill -9 of one instance under load: nothing acknowledged is lost, the others go on
    /// serving and pushing, and a new instance catches up to the same boards.
    @Test func killingAnInstanceUnderLoadLosesNothing() async throws {
        try await Fleet.run { fleet in
            let (a, b, c) = (fleet.instances[0], fleet.instances[1], fleet.instances[2])
            let acknowledged = Collected<String>()
            let load = Task {
                await withTaskGroup(of: Void.self) { group in
                    for writer in 0..<6 {
                        group.addTask {
                            let instance = fleet.instances[writer % 3]
                            while !Task.isCancelled {
                                guard let response = try? await instance.ingest(user: "w\(writer)", score: 1) else {
                                    if instance.port == b.port { return }
                                    continue
                                }
                                if response.status == .ok { acknowledged.append("w\(writer)") }
                            }
                        }
                    }
                }
            }
            try await Task.sleep(for: .seconds(1))
            _ = await b.stop(signal: SIGKILL)
            let client = try await LiveClient.connect(port: c.port)
            defer { client.close() }
            client.send(#"{"type":"subscribe","gameId":"counter","scopes":["global"]}"#)
            _ = try await client.nextMessage()
            #expect(try await client.nextMessage()[string: "type"] == "leaderboard:update", "C keeps pushing A's writes")
            try await Task.sleep(for: .seconds(1))
            load.cancel()
            await load.value
            let restarted = try await fleet.startAnother()
            defer { Task { _ = await restarted.stop(signal: SIGTERM) } }
            let boards = try await fleet.converged(among: [a, c, restarted])
            #expect(Set(boards.map { Self.fingerprints($0) }).count == 1, "the new instance caught up")
            for (user, count) in Dictionary(acknowledged.values.map { ($0, 1) }, uniquingKeysWith: +) {
                let standing = try JSON.object(try await restarted.request(.get, "/api/leaderboards/counter/players/\(user)").body)
                #expect((standing[object: "entry"]?[int: "score"] ?? 0) >= count, "\(user): every acknowledged score is kept")
            }
            #expect(acknowledged.values.count > 30, "the load ran")
        }
    }

    /// Two live connections per user over the whole fleet: a third, on any instance, closes
    /// the oldest wherever it is.
    @Test func theConnectionCapHoldsAcrossInstances() async throws {
        try await Fleet.run { fleet in
            let (a, b, c) = (fleet.instances[0], fleet.instances[1], fleet.instances[2])
            let token = try await a.register("viewer")
            var clients: [LiveClient] = []
            defer { for client in clients { client.close() } }
            for instance in [a, b, c] {
                let client = try await LiveClient.connect(port: instance.port, query: "?token=\(token)")
                clients.append(client)
                client.send(#"{"type":"ping"}"#)
                #expect(try await client.nextMessage()[string: "type"] == "pong")
            }
            #expect(try await clients[0].closeCode(timeout: .seconds(10)) == .policyViolation, "the oldest, on A, is closed by C's open")
            for client in clients.dropFirst() {
                client.send(#"{"type":"ping"}"#)
                #expect(try await client.nextMessage()[string: "type"] == "pong", "the two newest stay open")
            }
            let again = try await LiveClient.connect(port: a.port, query: "?token=\(token)")
            clients.append(again)
            #expect(try await clients[1].closeCode(timeout: .seconds(10)) == .policyViolation, "now B's is the oldest")
        }
    }

    /// PostgreSQL stopped: submissions answer 503 and nothing is applied, reads and live
    /// states of what was applied go on; started again: writes resume and reach another
    /// instance's subscribers without a restart of Podium.
    @Test func aDatabaseThatGoesAwayAnswers503AndComesBack() async throws {
        try await TestPostgres.withPrivateServer { postgres in
            try await Fleet.run(2, on: postgres.url) { fleet in
                let (a, b) = (fleet.instances[0], fleet.instances[1])
                #expect(try await a.ingest(game: "arcade", user: "ann", score: 10).status == .ok)
                _ = try await fleet.converged()
                try await postgres.down()
                let refused = try await a.ingest(game: "arcade", user: "bob", score: 20)
                #expect(refused.status == .serviceUnavailable)
                #expect(try JSON.object(refused.body)[object: "error"]?[string: "code"] == "STORAGE_UNAVAILABLE")
                let page = try await b.request(.get, "/api/leaderboards/arcade")
                let entries = try JSON.object(page.body)[array: "entries"]
                #expect(page.status == .ok && entries?.count == 1, "reads go on")
                let client = try await LiveClient.connect(port: b.port)
                defer { client.close() }
                client.send(#"{"type":"subscribe","gameId":"arcade","scopes":["global"]}"#)
                #expect(try await client.nextMessage()[object: "payload"]?[array: "entries"]?.count == 1, "live states go on")
                try await postgres.up()
                var resumed = false
                for _ in 0..<150 where !resumed {
                    resumed = (try? await a.ingest(game: "arcade", user: "cid", score: 30))?.status == .ok
                    if !resumed { try await Task.sleep(for: .milliseconds(200)) }
                }
                #expect(resumed, "writes resume by themselves")
                let update = try await client.nextMessage(timeout: .seconds(15))
                #expect(update[object: "payload"]?[array: "entries"]?.first?[string: "userId"] == "cid", "B follows again")
                #expect(try await b.request(.get, "/api/leaderboards/arcade/players/bob").status == .notFound, "the refused score was not applied")
            }
        }
    }

    // MARK: Helpers

    /// `writesEach` ingests per instance, all at once: incr and best scores of 20 players.
    static func load(_ instances: [ServerProcess], writesEach: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, instance) in instances.enumerated() {
                group.addTask {
                    for write in 0..<writesEach {
                        let user = "p\((index * 7 + write) % 20)"
                        let response = try await instance.ingest(game: write % 2 == 0 ? "counter" : "arcade", user: user, score: Int64(write + index))
                        guard response.status == .ok else { throw TestFailure("ingest answered \(response.status): \(response.body)") }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    static func fingerprints(_ boards: [String: Any]) -> [String] {
        (boards[array: "boards"] ?? []).map { "\($0[string: "gameId"] ?? "")=\($0[string: "sha256"] ?? "")" }
    }

    /// Each board an instance reports is the SHA-256 of a fresh fold of the database's log.
    static func expectBoardsAreTheFoldOfTheLog(_ reported: [String: Any], fleet: Fleet) async throws {
        let store = try await PostgresStore.open(url: fleet.databaseURL, logger: TestPostgres.logger)
        let log = try await store.allEvents()
        await store.close()
        #expect(Int64(reported[int: "appliedSequence"] ?? 0) == log.last?.sequence)
        let games = try JSONDecoder().decode(GameRegistry.self, from: Data(Fleet.games.utf8)).games
        for game in games {
            let board = Board(configuration: game.boardConfiguration)
            for event in log where event.gameId == game.id { _ = event.apply(to: board) }
            let expected = Hex.encode(SHA256.hash(data: board.snapshot()))
            let served = reported[array: "boards"]?.first { $0[string: "gameId"] == game.id }?[string: "sha256"]
            #expect(served == expected, "\(game.id) is the fold of the log")
        }
    }
}

/// Values appended from concurrent tasks.
final class Collected<Value: Sendable>: Sendable {
    private let collected = Mutex<[Value]>([])

    func append(_ value: Value) { collected.withLock { $0.append(value) } }

    var values: [Value] { collected.withLock { $0 } }
}
