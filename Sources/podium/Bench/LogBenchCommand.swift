import ArgumentParser
import Foundation
import Logging
import PodiumEngine
import PodiumServer

/// `podium bench fill-log`: writes a large score log straight into a SQLite file (or a
/// PostgreSQL database), for the restart and catch-up benchmarks (start a server on it and
/// time `/ready`).
struct LogBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fill-log",
        abstract: "Fill a data directory's podium.sqlite (or a PostgreSQL database) with a score log of many players and events."
    )

    @Option(help: "Data directory (its podium.sqlite is created or extended); needed with --storage sqlite.")
    var dataDirectory: String?

    @Option(help: "Where the log lives: sqlite (podium.sqlite in --data-directory) or postgres://user@host:port/database (its schema is created if missing).")
    var storage = "sqlite"

    @Option(help: "Game id of the events (`bench` of scripts/bench/games.json by default).")
    var game = "bench"

    @Option(help: "Distinct players.")
    var players = 1_000_000

    @Option(help: "Events in all.")
    var events = 5_000_000

    @Option(help: "Largest score.")
    var maxScore = 1_000_000

    func validate() throws {
        if storage == "sqlite" {
            guard dataDirectory != nil else { throw ValidationError("--storage sqlite needs --data-directory.") }
        } else if !storage.hasPrefix("postgres://") && !storage.hasPrefix("postgresql://") {
            throw ValidationError("storage must be sqlite or a postgres:// URL, not '\(storage)'.")
        }
    }

    func run() async throws {
        let append: ([LoggedEvent]) async throws -> Void
        if let dataDirectory, storage == "sqlite" {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            let store = try SQLiteStore(path: (dataDirectory as NSString).appendingPathComponent("podium.sqlite"))
            append = { _ = try await store.append($0) }
        } else {
            var logger = Logger(label: "podium")
            logger.logLevel = .warning
            // A batch of 50,000 rows is one INSERT … FROM UNNEST; give it more than the server's 5 s.
            let store = try await PostgresStore.open(url: storage, operationTimeout: .seconds(300), logger: logger)
            append = { _ = try await store.append($0) }
        }
        var random = BenchRandom(seed: 7)
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        let start = ContinuousClock.now
        var written = 0
        while written < events {
            let batch = (0..<min(50_000, events - written)).map { offset -> LoggedEvent in
                let index = written + offset
                let player = index < players ? index : random.below(players)
                let country = CountryCode(String([letters[player % 26], letters[player / 26 % 26]]))
                return LoggedEvent(
                    gameId: game, userId: "player-\(player)", displayName: "P\(player)", countryCode: country,
                    score: Int64(random.below(maxScore)), achievedAt: 1_790_000_000_000 + Int64(index), source: .ingest,
                    acceptedAt: 1_790_000_000_000 + Int64(index)
                )
            }
            try await append(batch)
            written += batch.count
            if written % 1_000_000 == 0 { print("events written: \(written)") }
        }
        print("filled \(events) events for \(players) players in \(ContinuousClock.now - start)")
    }
}
