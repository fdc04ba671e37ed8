import Crypto
import DynamoDB
import PodiumEngine

/// Boards in DynamoDB (spec 000's `DDB_TABLE_LEADERBOARD_SNAPSHOTS`), in one table keyed
/// by the strings `PK` and `SK`:
///
/// - spec 000's items, for any tool that reads the table: `PK = GAME#<gameId>#SCOPE#GLOBAL`
///   or `GAME#<gameId>#SCOPE#COUNTRY#<cc>`, `SK = SNAPSHOT`, `entries` (the top N as
///   `LeaderboardEntry` maps) and `updatedAt`;
/// - each board's full snapshot, which a restore loads: its bytes in chunks of at most
///   ``chunkSize`` bytes under `PK = BOARD#<gameId>#<snapshotId>`, `SK = CHUNK#<n>`, and a
///   manifest under `PK = BOARDS`, `SK = GAME#<gameId>` written after every chunk. A
///   restore reads only the chunks its manifest names, so a write that stopped half-way
///   leaves the previous snapshot whole; the previous chunks are deleted once the new
///   manifest is written.
public struct DynamoDBSnapshotStore: SnapshotStore {
    public let client: DynamoDBClient
    public let table: String
    /// Bytes of board per chunk item.
    public let chunkSize: Int

    /// Below DynamoDB's 400 KB item limit, with room for the keys.
    public static let defaultChunkSize = 350_000
    static let manifestPartition = "BOARDS"

    public init(client: DynamoDBClient, table: String, chunkSize: Int = defaultChunkSize) {
        self.client = client
        self.table = table
        self.chunkSize = chunkSize
    }

    /// One partition's top N as spec 000's snapshot item holds it.
    public struct TopList: Sendable, Equatable {
        public var gameId: String
        /// Global, or a country.
        public var partition: Partition
        public var entries: [RankedEntry]
        /// When the board last changed (milliseconds since 1970).
        public var updatedAt: Int64
    }

    /// A manifest: which snapshot of a game is the complete one.
    struct Manifest: Equatable {
        var gameId: String
        var snapshotId: String
        var sequence: Int64
        var rules: String
        var chunks: Int
        var bytes: Int
        var sha256: String
    }

    // MARK: SnapshotStore

    /// The snapshot each manifest names, its chunks checked against the manifest's length
    /// and digest.
    /// - Throws: ``StoreError/unavailable(_:)`` if DynamoDB cannot be read, or a manifest's
    ///   chunks are missing or damaged.
    public func snapshots() async throws -> [BoardSnapshot] {
        var snapshots: [BoardSnapshot] = []
        for manifest in try await manifests().values {
            let chunks = try await storeCall {
                try await client.queryAll(table: table, keyName: "PK", keyValue: .string(Self.chunkPartition(manifest)))
            }
            var data: [UInt8] = []
            data.reserveCapacity(manifest.bytes)
            for chunk in chunks { data += chunk["data"]?.bytes ?? [] }
            guard chunks.count == manifest.chunks, data.count == manifest.bytes, Self.digest(data) == manifest.sha256 else {
                throw StoreError.unavailable(
                    "the DynamoDB snapshot \(manifest.snapshotId) of \(manifest.gameId) is incomplete: \(chunks.count) of \(manifest.chunks) chunks, \(data.count) of \(manifest.bytes) bytes"
                )
            }
            snapshots.append(BoardSnapshot(gameId: manifest.gameId, sequence: manifest.sequence, rules: manifest.rules, data: data))
        }
        return snapshots
    }

    /// Writes each snapshot's chunks, then its manifest (unless a newer snapshot of the
    /// game is stored), then deletes the chunks of the snapshot it replaced.
    public func saveSnapshots(_ snapshots: [BoardSnapshot]) async throws {
        let previous = try await manifests()
        for snapshot in snapshots {
            if let stored = previous[snapshot.gameId], stored.sequence > snapshot.sequence { continue }
            let manifest = try await writeChunks(of: snapshot)
            let replaced = try await writeManifest(manifest)
            if let old = replaced ?? previous[snapshot.gameId], old.snapshotId != manifest.snapshotId {
                try await deleteChunks(of: old)
            }
        }
    }

    /// Deletes each board's manifest, then its chunks.
    public func deleteSnapshots(_ boardIds: [String]) async throws {
        let stored = try await manifests()
        for id in boardIds {
            guard let manifest = stored[id] else { continue }
            let key: Item = ["PK": .string(Self.manifestPartition), "SK": .string("GAME#\(id)")]
            try await storeCall { try await client.batchWriteAll(table: table, [.delete(key)]) }
            try await deleteChunks(of: manifest)
        }
    }

    /// Writes spec 000's top-N items.
    public func saveTops(_ tops: [TopList]) async throws {
        try await storeCall { try await client.batchWriteAll(table: table, tops.map { .put(Self.item(of: $0)) }) }
    }

    // MARK: Steps of a snapshot write

    /// Every manifest, by game.
    func manifests() async throws -> [String: Manifest] {
        let items = try await storeCall {
            try await client.queryAll(table: table, keyName: "PK", keyValue: .string(Self.manifestPartition))
        }
        var manifests: [String: Manifest] = [:]
        for item in items {
            guard let manifest = Self.manifest(from: item) else { continue }
            manifests[manifest.gameId] = manifest
        }
        return manifests
    }

    /// Writes the chunks of `snapshot` under a new snapshot id; returns the manifest that
    /// makes them the game's snapshot.
    func writeChunks(of snapshot: BoardSnapshot) async throws -> Manifest {
        let manifest = Manifest(
            gameId: snapshot.gameId, snapshotId: "\(snapshot.sequence)-\(Hex.random(bytes: 4))", sequence: snapshot.sequence,
            rules: snapshot.rules, chunks: max(1, (snapshot.data.count + chunkSize - 1) / chunkSize), bytes: snapshot.data.count,
            sha256: Self.digest(snapshot.data)
        )
        let partition = Self.chunkPartition(manifest)
        let writes: [DynamoDBClient.WriteRequest] = (0..<manifest.chunks).map { index in
            let start = index * chunkSize
            let bytes = Array(snapshot.data[start..<min(snapshot.data.count, start + chunkSize)])
            return .put(["PK": .string(partition), "SK": .string(Self.chunkKey(index)), "data": .binary(bytes)])
        }
        try await storeCall { try await client.batchWriteAll(table: table, writes) }
        return manifest
    }

    /// Makes `manifest` its game's snapshot unless one at a higher sequence is stored;
    /// returns the manifest it replaced. If a newer one is stored, deletes the chunks of
    /// `manifest` instead.
    func writeManifest(_ manifest: Manifest) async throws -> Manifest? {
        let key: Item = ["PK": .string(Self.manifestPartition), "SK": .string("GAME#\(manifest.gameId)")]
        let replaced = try await storeCall { try await client.getItem(table: table, key: key) }.flatMap(Self.manifest(from:))
        do {
            try await client.putItem(
                table: table, item: Self.item(of: manifest),
                condition: .init(
                    "attribute_not_exists(PK) OR #sequence <= :sequence", names: ["#sequence": "sequence"],
                    values: [":sequence": .number(manifest.sequence)]
                )
            )
        } catch let error where error.isConditionalCheckFailure {
            try await deleteChunks(of: manifest)
            return nil
        } catch {
            throw StoreError.unavailable("\(error)")
        }
        return replaced
    }

    func deleteChunks(of manifest: Manifest) async throws {
        let partition = Self.chunkPartition(manifest)
        let deletes: [DynamoDBClient.WriteRequest] = (0..<manifest.chunks).map {
            .delete(["PK": .string(partition), "SK": .string(Self.chunkKey($0))])
        }
        try await storeCall { try await client.batchWriteAll(table: table, deletes) }
    }

    // MARK: Items

    static func chunkPartition(_ manifest: Manifest) -> String { "BOARD#\(manifest.gameId)#\(manifest.snapshotId)" }

    /// `CHUNK#000042`: chunk keys sort in chunk order.
    static func chunkKey(_ index: Int) -> String {
        let digits = String(index)
        return "CHUNK#" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// Spec 000's partition key of a top list.
    public static func topKey(gameId: String, partition: Partition) -> String {
        switch partition {
        case .global: "GAME#\(gameId)#SCOPE#GLOBAL"
        case .local(let country): "GAME#\(gameId)#SCOPE#COUNTRY#\(country)"
        }
    }

    static func item(of top: TopList) -> Item {
        let entries: [AttributeValue] = top.entries.map { entry in
            var fields: Item = [
                "rank": .number(entry.rank), "userId": .string(entry.userId), "displayName": .string(entry.displayName),
                "score": .number(entry.score), "achievedAt": .string(Timestamp.format(entry.achievedAt)),
            ]
            if let country = entry.countryCode { fields["countryCode"] = .string(country.description) }
            return .map(fields)
        }
        return [
            "PK": .string(topKey(gameId: top.gameId, partition: top.partition)), "SK": .string("SNAPSHOT"), "entries": .list(entries),
            "updatedAt": .string(Timestamp.format(top.updatedAt)),
        ]
    }

    static func item(of manifest: Manifest) -> Item {
        [
            "PK": .string(manifestPartition), "SK": .string("GAME#\(manifest.gameId)"), "gameId": .string(manifest.gameId),
            "snapshotId": .string(manifest.snapshotId), "sequence": .number(manifest.sequence), "rules": .string(manifest.rules),
            "chunks": .number(manifest.chunks), "bytes": .number(manifest.bytes), "sha256": .string(manifest.sha256),
        ]
    }

    static func manifest(from item: Item) -> Manifest? {
        guard let gameId = item["gameId"]?.string, let snapshotId = item["snapshotId"]?.string, let sequence = item["sequence"]?.integer,
            let rules = item["rules"]?.string, let chunks = item["chunks"]?.integer, let bytes = item["bytes"]?.integer,
            let sha256 = item["sha256"]?.string
        else { return nil }
        return Manifest(gameId: gameId, snapshotId: snapshotId, sequence: sequence, rules: rules, chunks: Int(chunks), bytes: Int(bytes), sha256: sha256)
    }

    static func digest(_ bytes: [UInt8]) -> String {
        Hex.encode(SHA256.hash(data: bytes))
    }

    /// Runs a DynamoDB call, its errors as the store's.
    private func storeCall<Result>(_ body: () async throws -> Result) async throws(StoreError) -> Result {
        do { return try await body() } catch { throw .unavailable("\(error)") }
    }
}
