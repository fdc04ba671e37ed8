import DynamoDB
import Foundation
import Logging
import PodiumEngine
import Testing

@testable import PodiumServer

@Suite("DynamoDB against moto: the client, the chunked snapshots and spec 000's items", .timeLimit(.minutes(3)))
struct DynamoDBTests {
    @Test func clientWritesReadsQueriesAndDeletesItems() async throws {
        let client = try TestDynamoDB.client(endpoint: try TestDynamoDB.endpoint())
        let table = try await TestDynamoDB.newTable(client)
        #expect(try await client.describeTable(table) == "ACTIVE")

        let item: Item = [
            "PK": .string("P#1"), "SK": .string("S#1"), "name": .string("Zoë 🎮 名前"), "score": .number(-42), "raw": .binary([0, 1, 255]),
            "flag": .bool(true), "nothing": .null, "list": .list([.number(1), .string("two")]), "map": .map(["inner": .string("x")]),
        ]
        try await client.putItem(table: table, item: item)
        #expect(try await client.getItem(table: table, key: ["PK": .string("P#1"), "SK": .string("S#1")]) == item)
        #expect(try await client.getItem(table: table, key: ["PK": .string("P#1"), "SK": .string("S#2")]) == nil)

        await #expect {
            try await client.putItem(table: table, item: item, condition: .init("attribute_not_exists(PK)"))
        } throws: { ($0 as? DynamoDBError)?.isConditionalCheckFailure == true }

        let many = (0..<60).map { index -> DynamoDBClient.WriteRequest in
            .put(["PK": .string("P#many"), "SK": .string(String(format: "S#%03d", index)), "n": .number(index)])
        }
        try await client.batchWriteAll(table: table, many)
        let all = try await client.queryAll(table: table, keyName: "PK", keyValue: .string("P#many"))
        #expect(all.compactMap { $0["n"]?.integer } == Array(0..<60))
        let page = try await client.query(table: table, keyName: "PK", keyValue: .string("P#many"), limit: 10)
        #expect(page.items.count == 10 && page.lastEvaluatedKey?["SK"] == .string("S#009"))

        try await client.batchWriteAll(table: table, all.map { .delete(["PK": $0["PK"]!, "SK": $0["SK"]!]) })
        try await client.deleteItem(table: table, key: ["PK": .string("P#1"), "SK": .string("S#1")])
        #expect(try await client.queryAll(table: table, keyName: "PK", keyValue: .string("P#many")).isEmpty)
        #expect(try await client.getItem(table: table, key: ["PK": .string("P#1"), "SK": .string("S#1")]) == nil)

        await #expect {
            _ = try await client.describeTable("no-such-table")
        } throws: { error in
            guard case .service(let type, _, 400) = error as? DynamoDBError else { return false }
            return type == "ResourceNotFoundException" && !(error as! DynamoDBError).isRetryable
        }
    }

    @Test func snapshotsAreChunkedAndANewerOneReplacesTheOlder() async throws {
        let client = try TestDynamoDB.client(endpoint: try TestDynamoDB.endpoint())
        let store = DynamoDBSnapshotStore(client: client, table: try await TestDynamoDB.newTable(client))
        let first = BoardSnapshot(gameId: "arcade", sequence: 10, rules: "r1", data: (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) })
        try await store.saveSnapshots([first])
        #expect(try await store.snapshots() == [first])
        let manifest = try #require(try await store.manifests()["arcade"])
        #expect(manifest.chunks == 3, "1,000,000 bytes in chunks of 350,000")
        #expect(try await chunks(of: manifest, in: store).count == 3)

        let second = BoardSnapshot(gameId: "arcade", sequence: 20, rules: "r1", data: Array(repeating: 9, count: 400_000))
        try await store.saveSnapshots([second])
        #expect(try await store.snapshots() == [second])
        #expect(try await chunks(of: manifest, in: store).isEmpty, "the replaced snapshot's chunks are deleted")

        try await store.saveSnapshots([BoardSnapshot(gameId: "arcade", sequence: 15, rules: "r1", data: [1, 2, 3])])
        #expect(try await store.snapshots() == [second], "an older snapshot does not replace a newer one")
    }

    @Test func aWriteThatStopsBeforeItsManifestLeavesThePreviousSnapshot() async throws {
        let client = try TestDynamoDB.client(endpoint: try TestDynamoDB.endpoint())
        let store = DynamoDBSnapshotStore(client: client, table: try await TestDynamoDB.newTable(client), chunkSize: 1000)
        let previous = BoardSnapshot(gameId: "arcade", sequence: 10, rules: "r1", data: Array(repeating: 1, count: 5_500))
        try await store.saveSnapshots([previous])
        // A crash after the new chunks, before the manifest that names them.
        let interrupted = try await store.writeChunks(of: BoardSnapshot(gameId: "arcade", sequence: 20, rules: "r1", data: Array(repeating: 2, count: 7_000)))
        #expect(try await chunks(of: interrupted, in: store).count == 7)
        #expect(try await store.snapshots() == [previous])

        // A chunk lost under a manifest is a damaged snapshot, never a shorter board.
        let manifest = try #require(try await store.manifests()["arcade"])
        try await client.deleteItem(table: store.table, key: ["PK": .string(DynamoDBSnapshotStore.chunkPartition(manifest)), "SK": .string("CHUNK#000003")])
        await #expect(throws: StoreError.self) { _ = try await store.snapshots() }
    }

    func chunks(of manifest: DynamoDBSnapshotStore.Manifest, in store: DynamoDBSnapshotStore) async throws -> [Item] {
        try await store.client.queryAll(table: store.table, keyName: "PK", keyValue: .string(DynamoDBSnapshotStore.chunkPartition(manifest)))
    }
}

@Suite("Score history in DynamoDB against moto", .timeLimit(.minutes(3)))
struct DynamoDBScoreHistoryTests {
    /// While nothing drains it (DynamoDB away), the queue stops at its capacity: later
    /// scores are left out and counted instead of filling the memory.
    @Test func theQueueStopsAtItsCapacity() throws {
        let client = try TestDynamoDB.client(endpoint: "http://127.0.0.1:9")
        let metrics = PodiumMetrics()
        let recorder = ScoreHistoryRecorder(
            history: DynamoDBScoreHistory(client: client, table: "scores"), retryInterval: .seconds(1), capacity: 3, metrics: metrics,
            logger: Logger(label: "test")
        )
        let scores = (1...5).map { LoggedEvent(sequence: Int64($0), gameId: "arcade", userId: "u\($0)", displayName: "U", score: 1, achievedAt: 1_000, source: .ingest) }
        recorder.offer(scores)
        recorder.offer([LoggedEvent(gameId: "arcade", kind: .removal, userId: "u1", achievedAt: 2_000, source: .admin)] + scores.prefix(1))
        let text = String(decoding: metrics.registry.emitToBuffer(), as: UTF8.self)
        #expect(OperationsTests.metric(text, "podium_dynamodb_history_pending ") == 3)
        #expect(OperationsTests.metric(text, "podium_dynamodb_history_left_out_total ") == 3, "two of the first five, then one more score")
    }

    @Test func eachScoreIsStoredOnceHoweverOftenItIsWritten() async throws {
        let client = try TestDynamoDB.client(endpoint: try TestDynamoDB.endpoint())
        let history = DynamoDBScoreHistory(client: client, table: try await TestDynamoDB.newTable(client, prefix: "scores"))
        let run = LoggedEvent(
            sequence: 7, gameId: "arcade", userId: "ann", displayName: "Ann", countryCode: CountryCode("GB"), score: 300,
            achievedAt: 1_796_000_000_000, source: .run, reference: "run-abc"
        )
        let ingest = LoggedEvent(sequence: 9, gameId: "arcade", userId: "ann", displayName: "Ann", score: 200, achievedAt: 1_796_000_001_000, source: .ingest)
        #expect(try await history.record(run))
        #expect(try await history.record(run) == false, "a retry finds the score stored")
        var retried = run
        retried.sequence = 8  // the same run logged again elsewhere: its reference decides
        #expect(try await history.record(retried) == false)
        #expect(try await history.record(ingest))
        #expect(try await history.record(ingest) == false)
        #expect(try await history.scoreHistory(gameId: "arcade", userId: "ann", limit: 10) == [ingest, run])
        #expect(try await history.scoreHistory(gameId: "arcade", userId: "ann", limit: 1) == [ingest])
        #expect(try await history.scoreHistory(gameId: "arcade", userId: "bob", limit: 10).isEmpty)
        let items = try await client.queryAll(table: history.table, keyName: "PK", keyValue: .string("GAME#arcade#USER#ann"))
        #expect(items.count == 2)
        #expect(items.first?["SK"] == .string("1796000000000#run-abc"))
    }
}
