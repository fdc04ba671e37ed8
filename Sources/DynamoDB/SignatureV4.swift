import Crypto
import Foundation

/// The keys a request is signed with (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and,
/// for temporary credentials, `AWS_SESSION_TOKEN`).
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// AWS Signature Version 4 in the `Authorization` header, for one service in one region.
public struct SignatureV4: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The headers that sign a request: `X-Amz-Date`, `X-Amz-Security-Token` (with a
    /// session token) and `Authorization`. Every header of `headers` is signed, `Host`
    /// among them (the caller sends it as given here).
    /// - Parameters:
    ///   - path: the request's path, not yet percent-encoded.
    ///   - query: the query's names and values, not yet percent-encoded.
    public func signingHeaders(
        method: String, path: String, query: [(String, String)] = [], headers: [(String, String)], body: [UInt8], date: Date
    ) -> [(String, String)] {
        let timestamp = Self.timestamp(date)
        var added = [("X-Amz-Date", timestamp)]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        let canonical = canonicalRequest(method: method, path: path, query: query, headers: headers + added, body: body)
        let day = String(timestamp.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", timestamp, scope, Self.hex(SHA256.hash(data: Array(canonical.request.utf8)))]
            .joined(separator: "\n")
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope), SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
        return added + [("Authorization", authorization)]
    }

    /// The canonical request of the specification and its list of signed headers.
    func canonicalRequest(
        method: String, path: String, query: [(String, String)], headers: [(String, String)], body: [UInt8]
    ) -> (request: String, signedHeaders: String) {
        var values: [String: [String]] = [:]
        for (name, value) in headers {
            values[name.lowercased(), default: []].append(value.split(whereSeparator: \.isWhitespace).joined(separator: " "))
        }
        let names = values.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        // Services other than S3 sign the path encoded twice: once as sent, once more.
        let canonicalPath = path.isEmpty ? "/" : Self.percentEncode(Self.percentEncode(path, keeping: "/"), keeping: "/")
        let encodedQuery: [(name: String, value: String)] = query.map { (Self.percentEncode($0.0), Self.percentEncode($0.1)) }
        let sortedQuery = encodedQuery.sorted { (first, second) -> Bool in
            first.name != second.name ? first.name < second.name : first.value < second.value
        }
        let canonicalQuery = sortedQuery.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        let request = [
            method, canonicalPath, canonicalQuery, canonicalHeaders, signedHeaders, Self.hex(SHA256.hash(data: body)),
        ].joined(separator: "\n")
        return (request, signedHeaders)
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    static func timestamp(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04d%02d%02dT%02d%02d%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec)
        )
    }

    /// RFC 3986 encoding: unreserved characters (and `extra`) kept, every other byte as %XX.
    static func percentEncode(_ text: String, keeping extra: Character? = nil) -> String {
        var encoded = ""
        for byte in text.utf8 {
            let character = Character(Unicode.Scalar(byte))
            if byte < 0x80, character.isLetter || character.isNumber || "-_.~".contains(character) || character == extra {
                encoded.append(character)
            } else {
                encoded += String(format: "%%%02X", byte)
            }
        }
        return encoded
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
