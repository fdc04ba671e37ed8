/// The operations Podium calls, with the request and answer shapes of DynamoDB's API
/// (version 2012-08-10).
extension DynamoDBClient {
    /// A condition on the item a write finds (`ConditionExpression`).
    public struct Condition: Sendable {
        public var expression: String
        public var names: [String: String]?
        public var values: Item?

        public init(_ expression: String, names: [String: String]? = nil, values: Item? = nil) {
            self.expression = expression
            self.names = names
            self.values = values
        }
    }

    /// One put or delete of a `BatchWriteItem`.
    public enum WriteRequest: Sendable, Equatable, Codable {
        case put(Item)
        /// Deletes the item with this key.
        case delete(Item)

        private enum Key: String, CodingKey { case put = "PutRequest", delete = "DeleteRequest" }
        private enum Field: String, CodingKey { case item = "Item", key = "Key" }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            if container.contains(.put) {
                self = .put(try container.nestedContainer(keyedBy: Field.self, forKey: .put).decode(Item.self, forKey: .item))
            } else {
                self = .delete(try container.nestedContainer(keyedBy: Field.self, forKey: .delete).decode(Item.self, forKey: .key))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            switch self {
            case .put(let item):
                var nested = container.nestedContainer(keyedBy: Field.self, forKey: .put)
                try nested.encode(item, forKey: .item)
            case .delete(let key):
                var nested = container.nestedContainer(keyedBy: Field.self, forKey: .delete)
                try nested.encode(key, forKey: .key)
            }
        }
    }

    /// One page of a `Query`: its items and, if more follow, the key to go on from.
    public struct QueryPage: Sendable {
        public var items: [Item]
        public var lastEvaluatedKey: Item?
    }

    /// Writes `item`, replacing the item with its key, if `condition` holds.
    /// - Throws: a ``DynamoDBError`` whose ``DynamoDBError/isConditionalCheckFailure`` is
    ///   true when the condition did not hold.
    public func putItem(table: String, item: Item, condition: Condition? = nil) async throws(DynamoDBError) {
        struct Request: Encodable {
            var TableName: String
            var Item: Item
            var ConditionExpression: String?
            var ExpressionAttributeNames: [String: String]?
            var ExpressionAttributeValues: Item?
        }
        let _: Empty = try await call(
            "PutItem",
            Request(
                TableName: table, Item: item, ConditionExpression: condition?.expression, ExpressionAttributeNames: condition?.names,
                ExpressionAttributeValues: condition?.values
            )
        )
    }

    /// The item with `key`, read consistently; nil if there is none.
    public func getItem(table: String, key: Item) async throws(DynamoDBError) -> Item? {
        struct Request: Encodable {
            var TableName: String
            var Key: Item
            var ConsistentRead = true
        }
        struct Response: Decodable { var Item: Item? }
        let response: Response = try await call("GetItem", Request(TableName: table, Key: key))
        return response.Item
    }

    /// Deletes the item with `key` (nothing if there is none).
    public func deleteItem(table: String, key: Item) async throws(DynamoDBError) {
        struct Request: Encodable {
            var TableName: String
            var Key: Item
        }
        let _: Empty = try await call("DeleteItem", Request(TableName: table, Key: key))
    }

    /// One page of the items whose partition key `keyName` is `keyValue`, in sort key
    /// order (descending unless `ascending`), read consistently, from `startKey` on.
    public func query(
        table: String, keyName: String, keyValue: AttributeValue, ascending: Bool = true, startKey: Item? = nil, limit: Int? = nil
    ) async throws(DynamoDBError) -> QueryPage {
        struct Request: Encodable {
            var TableName: String
            var KeyConditionExpression = "#key = :key"
            var ExpressionAttributeNames: [String: String]
            var ExpressionAttributeValues: Item
            var ExclusiveStartKey: Item?
            var ScanIndexForward: Bool
            var Limit: Int?
            var ConsistentRead = true
        }
        struct Response: Decodable {
            var Items: [Item]?
            var LastEvaluatedKey: Item?
        }
        let response: Response = try await call(
            "Query",
            Request(
                TableName: table, ExpressionAttributeNames: ["#key": keyName], ExpressionAttributeValues: [":key": keyValue],
                ExclusiveStartKey: startKey, ScanIndexForward: ascending, Limit: limit
            )
        )
        return QueryPage(items: response.Items ?? [], lastEvaluatedKey: response.LastEvaluatedKey)
    }

    /// Every item of a partition, page after page.
    public func queryAll(table: String, keyName: String, keyValue: AttributeValue) async throws(DynamoDBError) -> [Item] {
        var items: [Item] = []
        var startKey: Item?
        repeat {
            let page = try await query(table: table, keyName: keyName, keyValue: keyValue, startKey: startKey)
            items += page.items
            startKey = page.lastEvaluatedKey
        } while startKey != nil
        return items
    }

    /// Up to 25 puts and deletes in one `BatchWriteItem`; returns those DynamoDB left
    /// unprocessed (throttled), to send again.
    public func batchWrite(table: String, _ requests: [WriteRequest]) async throws(DynamoDBError) -> [WriteRequest] {
        struct Request: Encodable { var RequestItems: [String: [WriteRequest]] }
        struct Response: Decodable { var UnprocessedItems: [String: [WriteRequest]]? }
        let response: Response = try await call("BatchWriteItem", Request(RequestItems: [table: requests]))
        return response.UnprocessedItems?[table] ?? []
    }

    /// Every one of `requests`, 25 per `BatchWriteItem`, sending what DynamoDB left
    /// unprocessed again after a backoff of the retry policy.
    /// - Throws: ``DynamoDBError`` if items are still unprocessed after the policy's attempts.
    public func batchWriteAll(table: String, _ requests: [WriteRequest]) async throws(DynamoDBError) {
        var start = 0
        while start < requests.count {
            var pending = Array(requests[start..<min(start + 25, requests.count)])
            var attempt = 1
            while !pending.isEmpty {
                pending = try await batchWrite(table: table, pending)
                guard !pending.isEmpty else { break }
                let throttled = DynamoDBError.service(
                    type: "ProvisionedThroughputExceededException", message: "\(pending.count) items left unprocessed", status: 400
                )
                guard let delay = configuration.retry.delay(after: attempt, failure: throttled, random: Double.random(in: 0..<1)) else {
                    throw throttled
                }
                do { try await Task.sleep(for: delay) } catch { throw throttled }
                attempt += 1
            }
            start += 25
        }
    }

    /// The table's status (`ACTIVE`, `CREATING`, …).
    /// - Throws: `ResourceNotFoundException` if there is no such table.
    public func describeTable(_ table: String) async throws(DynamoDBError) -> String {
        struct Request: Encodable { var TableName: String }
        struct Response: Decodable {
            struct Table: Decodable { var TableStatus: String? }
            var Table: Table
        }
        let response: Response = try await call("DescribeTable", Request(TableName: table))
        return response.Table.TableStatus ?? "UNKNOWN"
    }

    /// Creates an on-demand table keyed by the string attributes `partitionKey` and, if
    /// given, `sortKey`.
    public func createTable(_ table: String, partitionKey: String, sortKey: String? = nil) async throws(DynamoDBError) {
        struct Attribute: Encodable {
            var AttributeName: String
            var AttributeType = "S"
        }
        struct KeyElement: Encodable {
            var AttributeName: String
            var KeyType: String
        }
        struct Request: Encodable {
            var TableName: String
            var AttributeDefinitions: [Attribute]
            var KeySchema: [KeyElement]
            var BillingMode = "PAY_PER_REQUEST"
        }
        let keys = [KeyElement(AttributeName: partitionKey, KeyType: "HASH")] + (sortKey.map { [KeyElement(AttributeName: $0, KeyType: "RANGE")] } ?? [])
        let _: Empty = try await call(
            "CreateTable",
            Request(TableName: table, AttributeDefinitions: keys.map { Attribute(AttributeName: $0.AttributeName) }, KeySchema: keys)
        )
    }

    /// An answer whose content is not needed.
    struct Empty: Decodable {}
}
