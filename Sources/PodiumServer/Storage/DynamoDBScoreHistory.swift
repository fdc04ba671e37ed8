import DynamoDB
import PodiumEngine

/// Every accepted score in DynamoDB (spec 000's `DDB_TABLE_SCORES`), one item each, keyed
/// by the strings `PK = GAME#<gameId>#USER#<userId>` and `SK = <achievedAt>#<id>`, where
/// `achievedAt` is 13 digits of milliseconds (so a player's items sort by time) and `id` is
/// the score's run or event reference, else its log sequence. Each item is put only if
/// its key is not stored yet, so a retried write never stores a score twice.
public struct DynamoDBScoreHistory: ScoreHistorySource {
    public let client: DynamoDBClient
    public let table: String

    public init(client: DynamoDBClient, table: String) {
        self.client = client
        self.table = table
    }

    /// Stores `event` unless it is stored already; true if this call stored it.
    /// - Throws: ``StoreError/unavailable(_:)`` if DynamoDB refused or could not be reached.
    @discardableResult
    public func record(_ event: LoggedEvent) async throws -> Bool {
        do {
            try await client.putItem(table: table, item: Self.item(of: event), condition: .init("attribute_not_exists(SK)"))
            return true
        } catch let error where error.isConditionalCheckFailure {
            return false
        } catch {
            throw StoreError.unavailable("\(error)")
        }
    }

    public func scoreHistory(gameId: String, userId: String, limit: Int) async throws -> [LoggedEvent] {
        do {
            let page = try await client.query(
                table: table, keyName: "PK", keyValue: .string(Self.partition(gameId: gameId, userId: userId)), ascending: false, limit: limit
            )
            return page.items.compactMap(Self.event(from:))
        } catch {
            throw StoreError.unavailable("\(error)")
        }
    }

    static func partition(gameId: String, userId: String) -> String { "GAME#\(gameId)#USER#\(userId)" }

    static func sortKey(of event: LoggedEvent) -> String {
        let time = String(max(0, event.achievedAt))
        return String(repeating: "0", count: max(0, 13 - time.count)) + time + "#" + (event.reference ?? "seq:\(event.sequence)")
    }

    static func item(of event: LoggedEvent) -> Item {
        var item: Item = [
            "PK": .string(partition(gameId: event.gameId, userId: event.userId)), "SK": .string(sortKey(of: event)),
            "gameId": .string(event.gameId), "userId": .string(event.userId), "displayName": .string(event.displayName),
            "score": .number(event.score), "achievedAt": .string(Timestamp.format(event.achievedAt)), "sequence": .number(event.sequence),
            "source": .string(event.source.rawValue),
        ]
        if let country = event.countryCode { item["countryCode"] = .string(country.description) }
        if let reference = event.reference { item["reference"] = .string(reference) }
        return item
    }

    static func event(from item: Item) -> LoggedEvent? {
        guard let gameId = item["gameId"]?.string, let userId = item["userId"]?.string, let score = item["score"]?.integer,
            let achievedAt = item["achievedAt"]?.string.flatMap(Timestamp.parse), let sequence = item["sequence"]?.integer
        else { return nil }
        return LoggedEvent(
            sequence: sequence, gameId: gameId, userId: userId, displayName: item["displayName"]?.string ?? userId,
            countryCode: item["countryCode"]?.string.flatMap { CountryCode($0) }, score: score, achievedAt: achievedAt,
            source: item["source"]?.string.flatMap(EventSource.init(rawValue:)) ?? .ingest, reference: item["reference"]?.string
        )
    }
}
