import ArgumentParser
import Foundation
import PodiumEngine
import PodiumServer

/// `podium bench fill-log`: writes a large score log straight into a SQLite file, for the
/// restart benchmark (start the server on it and time `/ready`).
struct LogBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fill-log",
        abstract: "Fill a data directory's podium.sqlite with a score log of many players and events."
    )

    @Option(help: "Data directory (its podium.sqlite is created or extended).")
    var dataDirectory: String

    @Option(help: "Game id of the events.")
    var game = "space-runner"

    @Option(help: "Distinct players.")
    var players = 1_000_000

    @Option(help: "Events in all.")
    var events = 5_000_000

    @Option(help: "Largest score.")
    var maxScore = 1_000_000

    func run() async throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: (dataDirectory as NSString).appendingPathComponent("podium.sqlite"))
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
                    score: Int64(random.below(maxScore)), achievedAt: 1_790_000_000_000 + Int64(index), source: .ingest
                )
            }
            _ = try await store.append(batch)
            written += batch.count
            if written % 1_000_000 == 0 { print("events written: \(written)") }
        }
        print("filled \(events) events for \(players) players in \(ContinuousClock.now - start)")
    }
}
