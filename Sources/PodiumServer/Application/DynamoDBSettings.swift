import DynamoDB

/// Where the boards' copy in DynamoDB lives, from spec 000's environment: `AWS_REGION`,
/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optional `AWS_SESSION_TOKEN`, optional
/// `DDB_ENDPOINT`, `DDB_TABLE_LEADERBOARD_SNAPSHOTS` and optional `DDB_TABLE_SCORES`.
public struct DynamoDBSettings: Sendable {
    public var client: DynamoDBClient.Configuration
    /// The table of spec 000's snapshot items and of the full snapshots.
    public var snapshotTable: String
    /// The score history table (`DDB_TABLE_SCORES`), if set.
    public var scoreTable: String?
    /// Bytes of board per snapshot chunk item.
    public var snapshotChunkSize = DynamoDBSnapshotStore.defaultChunkSize

    public init(client: DynamoDBClient.Configuration, snapshotTable: String, scoreTable: String? = nil) {
        self.client = client
        self.snapshotTable = snapshotTable
        self.scoreTable = scoreTable
    }

    /// The settings the environment gives; nil when no `DDB_*` variable is set (DynamoDB
    /// is off).
    /// - Throws: ``ConfigurationError`` naming what is missing or wrong.
    public init?(environment: [String: String]) throws(ConfigurationError) {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let tables = ["DDB_TABLE_LEADERBOARD_SNAPSHOTS", "DDB_TABLE_SCORES", "DDB_ENDPOINT"]
        guard tables.contains(where: { value($0) != nil }) else { return nil }
        let required = ["DDB_TABLE_LEADERBOARD_SNAPSHOTS", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
        let missing = required.filter { value($0) == nil }
        guard missing.isEmpty else {
            throw ConfigurationError("DynamoDB needs \(missing.joined(separator: ", ")) (set with \(tables.filter { value($0) != nil }.joined(separator: ", ")))")
        }
        if let endpoint = value("DDB_ENDPOINT"), !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
            throw ConfigurationError("DDB_ENDPOINT must be an http:// or https:// URL, not '\(endpoint)'")
        }
        self.init(
            client: .init(
                endpoint: value("DDB_ENDPOINT"), region: value("AWS_REGION")!,
                credentials: AWSCredentials(
                    accessKeyId: value("AWS_ACCESS_KEY_ID")!, secretAccessKey: value("AWS_SECRET_ACCESS_KEY")!,
                    sessionToken: value("AWS_SESSION_TOKEN")
                ),
                timeout: .seconds(10)
            ),
            snapshotTable: value("DDB_TABLE_LEADERBOARD_SNAPSHOTS")!, scoreTable: value("DDB_TABLE_SCORES")
        )
    }
}
