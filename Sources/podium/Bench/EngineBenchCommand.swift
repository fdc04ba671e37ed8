import ArgumentParser
import Foundation
import PodiumEngine

/// `podium bench engine`: the ranking engine alone, on one core, no I/O.
struct EngineBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Applies, rank lookups, top-10 and around-me reads per second, and bytes per player."
    )

    @Option(help: "Players on the board.")
    var players = 1_000_000

    @Option(help: "Operations per measured figure.")
    var operations = 1_000_000

    @Option(help: "Seed of the random workload.")
    var seed: UInt64 = 42

    func run() throws {
        var random = BenchRandom(seed: seed)
        let letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ".map { String($0) }
        let countries: [CountryCode] = (0..<60).map { index in CountryCode(letters[index / 26] + letters[index % 26])! }
        let userIds = (0..<players).map { "player-\($0)" }
        let events = userIds.map { userId in
            ScoreEvent(
                userId: userId, displayName: "P \(userId.dropFirst(7))", countryCode: countries[random.below(countries.count)],
                score: Int64(random.below(1_000_000_000)), achievedAt: 1_700_000_000_000 + Int64(random.below(86_400_000))
            )
        }
        let memoryBefore = residentBytes()
        let board = Board(configuration: BoardConfiguration(scoreOperator: .best, topN: 10))
        let buildSeconds = try time { for event in events { try board.apply(event) } }
        let bytesPerPlayer = Double(residentBytes() - memoryBefore) / Double(players)
        print("players: \(players)")
        print("build (new players) per second: \(rate(players, buildSeconds))")

        let pickIndices = (0..<operations).map { _ in random.below(players) }
        let picks = pickIndices.map { userIds[$0] }
        let raises = pickIndices.map { index in
            ScoreEvent(
                userId: userIds[index], displayName: "", score: events[index].score + Int64(1 + random.below(1_000_000)),
                achievedAt: 1_800_000_000_000
            )
        }
        let bestSeconds = try time { for event in raises { try board.apply(event) } }
        print("best applies per second (initial score + random 1...1M): \(rate(operations, bestSeconds))")

        let incrBoard = try Board(configuration: BoardConfiguration(scoreOperator: .incr), snapshot: board.snapshot())
        let increments = picks.enumerated().map { index, userId in
            ScoreEvent(userId: userId, displayName: "", score: Int64(1 + index % 50), achievedAt: 1_800_000_000_000 + Int64(index))
        }
        let incrSeconds = try time { for event in increments { try incrBoard.apply(event) } }
        print("incr applies per second: \(rate(operations, incrSeconds))")

        var checksum = 0
        let rankSeconds = try time { for userId in picks { checksum &+= board.entry(of: userId, in: .global)?.rank ?? 0 } }
        print("rank lookups per second: \(rate(operations, rankSeconds))")

        let reads = operations / 10
        let topSeconds = try time { for _ in 0..<reads { checksum &+= board.top(.global, limit: 10).count } }
        print("top-10 reads per second: \(rate(reads, topSeconds))")

        let aroundSeconds = try time {
            for userId in picks.prefix(reads) { checksum &+= board.around(userId, in: .global, radius: 5)?.count ?? 0 }
        }
        print("around-me (radius 5) reads per second: \(rate(reads, aroundSeconds))")
        print("bytes per player (resident memory): \(Int(bytesPerPlayer))")
        let snapshot = board.snapshot()
        let restoreSeconds = try time { _ = try Board(configuration: board.configuration, snapshot: snapshot) }
        print("snapshot restore seconds: \(String(format: "%.2f", restoreSeconds)) (\(snapshot.count) bytes)")
        if checksum == 42 { print("") }
    }

    private func time(_ body: () throws -> Void) throws -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    private func rate(_ count: Int, _ seconds: Double) -> Int { Int(Double(count) / seconds) }

    /// The process's resident set size, from /proc/self/statm.
    private func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// A deterministic workload: SplitMix64 numbers below a bound.
struct BenchRandom {
    private var generator: SeededGenerator

    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    mutating func below(_ bound: Int) -> Int { Int(generator.next() % UInt64(bound)) }
}
