import Foundation
import PodiumEngine
import Synchronization
import Testing

@testable import PodiumServer

@Suite("Crash safety of the real binary", .timeLimit(.minutes(2)))
struct CrashTests {
    static let games = #"{"games":[{"id":"counter","name":"Counter","operator":"incr","topN":10}]}"#

    /// `serve` arguments for a server whose games file and database live in `directory`.
    static func arguments(in directory: TemporaryDirectory) throws -> [String] {
        let gamesFile = directory.url.appendingPathComponent("games.json")
        try Data(games.utf8).write(to: gamesFile)
        return ["--games", gamesFile.path, "--data-directory", directory.url.path]
    }

    /// Concurrent submissions, SIGKILL mid-load, restart: every acknowledged submission is
    /// on the board exactly once, an unacknowledged one at most once, and the board equals
    /// a fresh fold of the log.
    @Test
    func acknowledgedScoresSurviveSIGKILL() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let arguments = try Self.arguments(in: directory)
        let server = try await ServerProcess.start(arguments: arguments)

        let writers = 16
        let acknowledged = Counters(writers)
        let attempted = Counters(writers)
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        while !Task.isCancelled {
                            attempted.increment(writer)
                            let body = #"{"gameId":"counter","userId":"w\#(writer)","displayName":"W\#(writer)","score":1,"achievedAt":"2026-11-23T10:00:00Z"}"#
                            guard let response = try? await HTTP.request(port: server.port, .post, "/score", json: body),
                                response.status == .ok
                            else { return }
                            acknowledged.increment(writer)
                        }
                    }
                }
            }
        }
        // Kill once the load is well under way (a busy machine takes longer to get there).
        let loadDeadline = ContinuousClock.now + .seconds(30)
        while acknowledged.values.reduce(0, +) < 100 && ContinuousClock.now < loadDeadline { try await Task.sleep(for: .milliseconds(50)) }
        _ = await server.stop(signal: SIGKILL)
        load.cancel()
        await load.value
        let acked = acknowledged.values
        let tried = attempted.values
        #expect(acked.reduce(0, +) > 50, "the load ran before the kill")

        let restarted = try await ServerProcess.start(arguments: arguments)
        defer { Task { _ = await restarted.stop(signal: SIGTERM) } }
        for writer in 0..<writers {
            let response = try await HTTP.request(port: restarted.port, .get, "/api/leaderboards/counter/players/w\(writer)")
            let total = response.status == .ok ? (try JSON.object(response.body)[object: "entry"]?[int: "score"] ?? 0) : 0
            #expect(total >= acked[writer], "writer \(writer): every acknowledged submission survived")
            #expect(total <= tried[writer], "writer \(writer): nothing was applied twice")
        }

        let store = try SQLiteStore(path: directory.url.appendingPathComponent("podium.sqlite").path)
        let fold = Board(configuration: BoardConfiguration(scoreOperator: .incr))
        for event in try await store.allEvents() { _ = event.apply(to: fold) }
        let expected = fold.top(.global, limit: 100).map { "\($0.userId)=\($0.score)" }
        let page = try JSON.object(try await HTTP.request(port: restarted.port, .get, "/api/leaderboards/counter?limit=100").body)
        let served = (page[array: "entries"] ?? []).map { "\($0[string: "userId"] ?? "")=\($0[int: "score"] ?? -1)" }
        #expect(served == expected, "the restored board is the fold of the log")
    }

    /// SIGTERM with open sockets, submissions in flight and a client stuck half-way through
    /// its request body: sockets close with 1001, the process exits 0 within 10 s, and
    /// every acknowledged submission is kept.
    @Test
    func sigtermClosesSocketsAndLosesNothingAcknowledged() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // A short grace, so the stuck client leaves the writer most of the 10 s on a busy machine.
        let arguments = try Self.arguments(in: directory) + ["--shutdown-grace", "2"]
        let server = try await ServerProcess.start(arguments: arguments)
        let socket = try await LiveClient.connect(port: server.port)
        socket.send(#"{"type":"subscribe","gameId":"counter","scopes":["global"]}"#)
        _ = try await socket.nextMessage()
        let acknowledged = Counters(4)
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        while !Task.isCancelled {
                            let body = #"{"gameId":"counter","userId":"t\#(writer)","displayName":"T","score":1,"achievedAt":"2026-11-23T10:00:00Z"}"#
                            guard let response = try? await HTTP.request(port: server.port, .post, "/score", json: body),
                                response.status == .ok
                            else { return }
                            acknowledged.increment(writer)
                        }
                    }
                }
            }
        }
        let stuck = try RawSocket(port: server.port)
        defer { stuck.close() }
        try stuck.write("POST /score HTTP/1.1\r\nHost: podium\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"gameId\":")
        try await Task.sleep(for: .milliseconds(800))
        let start = ContinuousClock.now
        let status = await server.stop(signal: SIGTERM)
        #expect(status == 0)
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(await server.output(contains: "boards snapshotted"), "log lines still queued at exit are written")
        #expect(try await socket.closeCode() == .goingAway)
        load.cancel()
        await load.value
        let acked = acknowledged.values
        let restarted = try await ServerProcess.start(arguments: arguments)
        defer { Task { _ = await restarted.stop(signal: SIGTERM) } }
        for writer in 0..<4 {
            let response = try await HTTP.request(port: restarted.port, .get, "/api/leaderboards/counter/players/t\(writer)")
            let total = response.status == .ok ? (try JSON.object(response.body)[object: "entry"]?[int: "score"] ?? 0) : 0
            #expect(total >= acked[writer], "writer \(writer): every acknowledged submission was kept")
        }
    }
}

/// Per-writer counts shared by concurrent tasks.
final class Counters: Sendable {
    private let counts: Mutex<[Int]>

    init(_ count: Int) { counts = Mutex([Int](repeating: 0, count: count)) }

    func increment(_ index: Int) { counts.withLock { $0[index] += 1 } }

    var values: [Int] { counts.withLock { $0 } }
}
