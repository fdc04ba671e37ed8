import Foundation
import Hummingbird
import NIOCore

extension Request {
    /// Decodes a JSON body of at most `limit` bytes, turning every failure into a 400 or
    /// 413 that names the field at fault.
    /// `whenEmpty`, if given, is the value of an empty body (for routes whose body a
    /// client may leave out).
    func decodeJSON<Value: Decodable>(as type: Value.Type, limit: Int, whenEmpty: Value? = nil) async throws -> Value {
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.payloadTooLarge(limit: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.payloadTooLarge(limit: limit)
        }
        guard buffer.readableBytes > 0 else {
            guard let whenEmpty else { throw APIError.validation("The request needs a JSON body.") }
            return whenEmpty
        }
        let data = Data(buffer: buffer)
        do {
            return try JSONDecoder().decode(Value.self, from: data)
        } catch let error as DecodingError {
            throw APIError.validation(Self.describe(error, of: data))
        }
    }

    private static func describe(_ error: DecodingError, of data: Data) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return "Missing field '\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)'."
        case .typeMismatch(let type, let context):
            return "Field '\(path(context.codingPath))' must be \(describe(type))."
        case .valueNotFound(let type, let context):
            return "Field '\(path(context.codingPath))' must be \(describe(type)), not null."
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return describeUndecodable(data) }
            return "Field '\(path(context.codingPath))' is not valid: \(context.debugDescription)"
        @unknown default:
            return "The body is not valid."
        }
    }

    /// Foundation reports a fractional or out-of-range integer as invalid JSON with no
    /// field; this finds the field when the body does parse.
    private static func describeUndecodable(_ data: Data) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: data) else { return "The body is not valid JSON." }
        guard let fields = object as? [String: Any] else { return "The body must be a JSON object." }
        let nonInteger = fields.keys.sorted().first { key in
            guard let number = fields[key] as? NSNumber, !(fields[key] is Bool) else { return false }
            return Int64(number.stringValue) == nil
        }
        guard let nonInteger else { return "The body is not valid." }
        return "Field '\(nonInteger)' must be a whole number from -2^63 to 2^63-1."
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int64.Type, is Int.Type: "an integer"
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        default: "of type \(type)"
        }
    }
}

extension HTTPFields {
    static let jsonContentType: HTTPFields = [.contentType: "application/json; charset=utf-8"]
}

extension Response {
    /// A 200 (or other) response with a JSON body written by ``JSONWriter``.
    static func json(_ buffer: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: .jsonContentType, body: .init(byteBuffer: buffer))
    }
}
