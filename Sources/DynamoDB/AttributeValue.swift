import Foundation

/// One attribute of an item in DynamoDB's JSON form (`{"S": "text"}`, `{"N": "12"}`, …).
public indirect enum AttributeValue: Sendable, Equatable, Codable {
    case string(String)
    /// A number, as DynamoDB carries it: decimal text.
    case number(String)
    case binary([UInt8])
    case bool(Bool)
    case null
    case list([AttributeValue])
    case map([String: AttributeValue])

    public static func number(_ value: some BinaryInteger) -> AttributeValue { .number(String(value)) }

    private enum Key: String, CodingKey {
        case string = "S", number = "N", binary = "B", bool = "BOOL", null = "NULL", list = "L", map = "M"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        guard let key = container.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "an attribute value without a type"))
        }
        switch key {
        case .string: self = .string(try container.decode(String.self, forKey: key))
        case .number: self = .number(try container.decode(String.self, forKey: key))
        case .binary:
            let text = try container.decode(String.self, forKey: key)
            guard let bytes = Base64.decode(text) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "binary value is not base64")
            }
            self = .binary(bytes)
        case .bool: self = .bool(try container.decode(Bool.self, forKey: key))
        case .null: self = .null
        case .list: self = .list(try container.decode([AttributeValue].self, forKey: key))
        case .map: self = .map(try container.decode([String: AttributeValue].self, forKey: key))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        switch self {
        case .string(let text): try container.encode(text, forKey: .string)
        case .number(let text): try container.encode(text, forKey: .number)
        case .binary(let bytes): try container.encode(Base64.encode(bytes), forKey: .binary)
        case .bool(let value): try container.encode(value, forKey: .bool)
        case .null: try container.encode(true, forKey: .null)
        case .list(let values): try container.encode(values, forKey: .list)
        case .map(let values): try container.encode(values, forKey: .map)
        }
    }

    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// A number that fits an `Int64`.
    public var integer: Int64? {
        if case .number(let text) = self { return Int64(text) }
        return nil
    }

    public var bytes: [UInt8]? {
        if case .binary(let bytes) = self { return bytes }
        return nil
    }

    public var list: [AttributeValue]? {
        if case .list(let values) = self { return values }
        return nil
    }

    public var map: [String: AttributeValue]? {
        if case .map(let values) = self { return values }
        return nil
    }
}

/// An item: its attributes by name.
public typealias Item = [String: AttributeValue]

/// Standard base64 with padding, as DynamoDB carries binary values.
enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        [UInt8](bytes).withUnsafeBufferPointer { Data(buffer: $0) }.base64EncodedString()
    }

    static func decode(_ text: String) -> [UInt8]? {
        Data(base64Encoded: text).map { [UInt8]($0) }
    }
}
