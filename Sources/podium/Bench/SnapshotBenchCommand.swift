import ArgumentParser
import DynamoDB
import Foundation
import PodiumEngine
import PodiumServer

/// `podium bench snapshots`: one large board's snapshot flushed to DynamoDB (moto, or any
/// endpoint) and restored from it, beside the same snapshot saved into and restored from
/// a SQLite file as the anchor (docs/benchmarks.md, "DynamoDB").
struct SnapshotBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots",
        abstract: "Flush and restore one board's snapshot through DynamoDB, and through SQLite as the anchor."
    )

    @Option(help: "DynamoDB endpoint (a moto server: scripts/moto-server start).")
    var endpoint: String

    @Option(help: "Players on the board.")
    var players = 1_000_000

    @Option(help: "Folder for the anchor's SQLite file (a new temporary folder by default).")
    var dataDirectory: String?

    func run() async throws {
        let configuration = BoardConfiguration(topN: 50)
        let board = Board(configuration: configuration)
        var random = BenchRandom(seed: 11)
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        for player in 0..<players {
            let country = CountryCode(String([letters[player % 26], letters[player / 26 % 26]]))
            _ = try board.apply(
                ScoreEvent(userId: "player-\(player)", displayName: "P\(player)", countryCode: country, score: Int64(random.below(1_000_000)), achievedAt: 1_790_000_000_000 + Int64(player))
            )
        }
        let snapshot = BoardSnapshot(gameId: "bench", sequence: 1, rules: "bench", data: board.snapshot())
        print("board: \(players) players, snapshot \(snapshot.data.count) bytes")

        let directory = dataDirectory ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("podium-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { if dataDirectory == nil { try? FileManager.default.removeItem(atPath: directory) } }
        let sqlite = try SQLiteStore(path: (directory as NSString).appendingPathComponent("podium.sqlite"))
        let sqliteSave = try await seconds { try await sqlite.saveSnapshots([snapshot]) }
        let sqliteRestore = try await seconds { try await Self.restore(from: sqlite, configuration, expected: snapshot) }
        print("sqlite (anchor): save \(Self.format(sqliteSave)) s, restore \(Self.format(sqliteRestore)) s (read and decode)")

        let client = try DynamoDBClient(
            configuration: .init(
                endpoint: endpoint, region: "eu-west-1", credentials: AWSCredentials(accessKeyId: "bench", secretAccessKey: "bench"), timeout: .seconds(120)
            )
        )
        let table = "podium-bench-\(UUID().uuidString.prefix(8).lowercased())"
        try await client.createTable(table, partitionKey: "PK", sortKey: "SK")
        let dynamoDB = DynamoDBSnapshotStore(client: client, table: table)
        let chunks = (snapshot.data.count + dynamoDB.chunkSize - 1) / dynamoDB.chunkSize
        let flush = try await seconds { try await dynamoDB.saveSnapshots([snapshot]) }
        let restore = try await seconds { try await Self.restore(from: dynamoDB, configuration, expected: snapshot) }
        print("dynamodb: flush \(Self.format(flush)) s, restore \(Self.format(restore)) s (read and decode); \(chunks) chunk items + 1 manifest, \(snapshot.data.count) bytes")
        print("dynamodb / sqlite: flush \(Self.format(flush / sqliteSave))x, restore \(Self.format(restore / sqliteRestore))x")
    }

    /// Reads the snapshots back and decodes the board, checking it is the one saved.
    static func restore(from store: some SnapshotStore, _ configuration: BoardConfiguration, expected: BoardSnapshot) async throws {
        guard let read = try await store.snapshots().first, read == expected else { throw ValidationError("the snapshot read back differs") }
        _ = try Board(configuration: configuration, snapshot: read.data)
    }

    private func seconds(_ body: () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    static func format(_ value: Double) -> String { String(format: "%.2f", value) }
}
