import Foundation
import Testing

/// `podium backup` of a running server and `podium restore` into a stopped one's data
/// directory, on the real binary.
@Suite("Backup and restore of a running server's SQLite store", .timeLimit(.minutes(3)))
struct BackupTests {
    static let games = """
        {"games": [{"id": "arcade", "name": "Arcade", "operator": "best", "topN": 5},
                   {"id": "counter", "name": "Counter", "operator": "incr", "topN": 5}]}
        """

    /// A server's arguments for the data directory `data`, with the registry `games`
    /// written beside it (`games.json` in the same folder).
    static func arguments(data: URL, games: String = games) throws -> [String] {
        let file = data.deletingLastPathComponent().appendingPathComponent("games.json")
        try Data(games.utf8).write(to: file)
        return [
            "--data-directory", data.path, "--games", file.path, "--jwt-secret", TestServer.jwtSecret, "--admin-users", "admin",
            "--admin-password", TestServer.adminPassword, "--bcrypt-cost", "10",
        ]
    }

    /// What a server answers about its boards: fingerprints and the first pages.
    static func answers(of server: ServerProcess) async throws -> [String] {
        let token = try await server.signInAsAdmin()
        var answers: [String] = []
        let boards = try JSON.object(try await server.request(.get, "/api/admin/boards", token: token).body)
        for board in boards[array: "boards"] ?? [] {
            answers.append("\(board[string: "gameId"] ?? "?") \(board[int: "players"] ?? -1) \(board[string: "sha256"] ?? "?")")
        }
        for path in [
            "/api/leaderboards/arcade?limit=100", "/api/leaderboards/counter?limit=100", "/api/leaderboards/arcade/players/p3",
            "/api/leaderboards/counter?scope=local&country=GB",
        ] {
            var body = try JSON.object(try await server.request(.get, path).body)
            body["updatedAt"] = nil
            answers.append(String(decoding: try JSONSerialization.data(withJSONObject: body, options: .sortedKeys), as: UTF8.self))
        }
        return answers
    }

    @Test func aBackupTakenWhileTheServerRunsRestoresToTheSameAnswers() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = directory.url.appendingPathComponent("data")
        let server = try await ServerProcess.start(arguments: Self.arguments(data: data))
        for player in 0..<20 {
            #expect(try await server.ingest(game: "arcade", user: "p\(player)", score: Int64(player * 37 % 11 * 100)).status == .ok)
            #expect(try await server.ingest(game: "counter", user: "p\(player % 7)", score: Int64(player)).status == .ok)
        }
        _ = try await server.register("walker")
        let before = try await Self.answers(of: server)

        let backup = directory.url.appendingPathComponent("podium-backup.sqlite")
        let run = try await PodiumRun.run(["backup", "--to", backup.path, "--data-directory", data.path])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.standardOutput.contains("40 log events"), "\(run.output)")
        #expect(!FileManager.default.fileExists(atPath: backup.path + "-wal"), "the backup is one file")
        // Written after the backup: not in it.
        #expect(try await server.ingest(game: "arcade", user: "late", score: 99_999).status == .ok)

        // While the server runs, a restore is refused.
        let refused = try await PodiumRun.run(["restore", "--from", backup.path, "--data-directory", data.path])
        #expect(refused.status == 64, "\(refused.output)")
        #expect(refused.output.contains("another podium process is using the data directory"), "\(refused.output)")
        #expect(!refused.output.contains("Usage:"), "a refusal is not a usage error: \(refused.output)")
        #expect(await server.stop(signal: SIGTERM) == 0)

        let restored = try await PodiumRun.run(["restore", "--from", backup.path, "--data-directory", data.path])
        #expect(restored.status == 0, "\(restored.output)")
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("podium.sqlite.before-restore").path))
        let again = try await ServerProcess.start(arguments: Self.arguments(data: data))
        defer { Task { _ = await again.stop(signal: SIGTERM) } }
        #expect(try await Self.answers(of: again) == before)
        #expect(try await again.request(.get, "/api/leaderboards/arcade/players/late").status == .notFound)
        // The accounts came back too: the name is taken.
        let taken = try await again.request(
            .post, "/api/auth/register", json: #"{"username":"walker","password":"correct horse battery","displayName":"W","countryCode":"GB"}"#
        )
        #expect(taken.status == .conflict, "\(taken.body)")
    }

    @Test func aBackupUnderLoadIsOneConsistentCommit() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = directory.url.appendingPathComponent("data")
        let server = try await ServerProcess.start(arguments: Self.arguments(data: data))
        let acknowledged = Counters(1)
        let attempted = Counters(1)
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        while !Task.isCancelled {
                            attempted.increment(0)
                            guard let response = try? await server.ingest(user: "w\(writer)", score: 1), response.status == .ok else { return }
                            acknowledged.increment(0)
                        }
                    }
                }
            }
        }
        while acknowledged.values[0] < 100 { try await Task.sleep(for: .milliseconds(20)) }
        let acknowledgedBefore = acknowledged.values[0]
        let backup = directory.url.appendingPathComponent("under-load.sqlite")
        let run = try await PodiumRun.run(["backup", "--to", backup.path, "--data-directory", data.path])
        let attemptedAfter = attempted.values[0]
        load.cancel()
        await load.value
        #expect(run.status == 0, "\(run.output)")
        _ = await server.stop(signal: SIGTERM)

        // Restored elsewhere: the counter holds every score acknowledged before the backup
        // began, none sent after it ended, and equals its own log.
        let elsewhere = directory.url.appendingPathComponent("elsewhere")
        let restored = try await PodiumRun.run(["restore", "--from", backup.path, "--data-directory", elsewhere.path])
        #expect(restored.status == 0, "\(restored.output)")
        let copy = try await ServerProcess.start(arguments: Self.arguments(data: elsewhere))
        defer { Task { _ = await copy.stop(signal: SIGTERM) } }
        let page = try JSON.object(try await copy.request(.get, "/api/leaderboards/counter?limit=100").body)
        let total = (page[array: "entries"] ?? []).reduce(0) { $0 + ($1[int: "score"] ?? 0) }
        #expect(total >= acknowledgedBefore && total <= attemptedAfter, "\(acknowledgedBefore) ≤ \(total) ≤ \(attemptedAfter)")
        let events = try #require(run.standardOutput.firstMatch(of: /(\d+) log events/)).1
        #expect(Int(events) == total, "the backup's log holds \(events) events, the board \(total) points")
    }

    /// `podium …` with the files it writes capped at `kilobytes` (`ulimit -f`; a write past
    /// the cap fails with EFBIG, as a write to a full disk fails with ENOSPC).
    static func runWithFileSizeLimit(kilobytes: Int, _ arguments: [String]) async throws -> ScriptRun {
        try await ScriptRun.run(
            "/bin/bash", ["-c", "trap '' XFSZ; ulimit -f \(kilobytes); exec \"$0\" \"$@\"", ServerProcess.binary.path] + arguments,
            timeout: .seconds(60)
        )
    }

    @Test func aBackupOrRestoreThatCannotWriteSaysSoAndLeavesNothingBehind() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = directory.url.appendingPathComponent("data")
        let server = try await ServerProcess.start(arguments: Self.arguments(data: data))
        for player in 0..<200 {
            #expect(try await server.ingest(game: "arcade", user: "player-\(player)", score: Int64(player)).status == .ok)
        }
        let backup = directory.url.appendingPathComponent("backup.sqlite")
        let full = try await Self.runWithFileSizeLimit(kilobytes: 16, ["backup", "--to", backup.path, "--data-directory", data.path])
        #expect(full.status == 64, "\(full.output)")
        #expect(full.standardError.contains("the backup to \(backup.path) failed: SQLite error"), "\(full.output)")
        #expect(full.standardError.contains("(is the disk full?); nothing was written"), "\(full.output)")
        #expect(!full.output.contains("Usage:"), "\(full.output)")
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted()
        #expect(left == ["data", "games.json"], "nothing of the backup is left: \(left)")

        let taken = try await PodiumRun.run(["backup", "--to", backup.path, "--data-directory", data.path])
        #expect(taken.status == 0, "\(taken.output)")
        #expect(try await server.ingest(game: "arcade", user: "after-the-backup", score: 1).status == .ok)
        let before = try await Self.answers(of: server)
        #expect(await server.stop(signal: SIGTERM) == 0)

        // A restore that cannot copy the backup in leaves the database it would replace.
        let refused = try await Self.runWithFileSizeLimit(kilobytes: 16, ["restore", "--from", backup.path, "--data-directory", data.path])
        #expect(refused.status == 64, "\(refused.output)")
        #expect(refused.standardError.contains("the restore of \(backup.path) failed: File too large"), "\(refused.output)")
        #expect(refused.standardError.contains("podium.sqlite is unchanged"), "\(refused.output)")
        // The database (with its -wal and -shm, which a server may leave) and nothing else.
        let kept = try FileManager.default.contentsOfDirectory(atPath: data.path).filter { $0.hasPrefix("podium.sqlite") }.sorted()
        #expect(kept.contains("podium.sqlite") && kept.allSatisfy { ["podium.sqlite", "podium.sqlite-wal", "podium.sqlite-shm"].contains($0) }, "\(kept)")
        let again = try await ServerProcess.start(arguments: Self.arguments(data: data))
        defer { Task { _ = await again.stop(signal: SIGTERM) } }
        #expect(try await Self.answers(of: again) == before)
        #expect(try await again.request(.get, "/api/leaderboards/arcade/players/after-the-backup").status == .ok)
    }

    @Test func otherStoragesAreToldWhatToDo() async throws {
        let postgres = try await PodiumRun.run(["backup", "--to", "/tmp/never", "--storage", "postgres://podium:secret@db.example:5432/podium"])
        #expect(postgres.status == 64, "\(postgres.output)")
        #expect(postgres.output.contains("pg_dump --format=custom --file=/tmp/never"), "\(postgres.output)")
        #expect(!postgres.output.contains("secret"), "the password is not printed")
        let memory = try await PodiumRun.run(["backup", "--to", "/tmp/never", "--storage", "memory"])
        #expect(memory.status == 64 && memory.output.contains("nothing to back up"), "\(memory.output)")
        let nothing = try await PodiumRun.run(["backup", "--to", "/tmp/never", "--data-directory", "/nonexistent/podium"])
        #expect(nothing.status == 64 && nothing.output.contains("there is no database"), "\(nothing.output)")
    }
}
