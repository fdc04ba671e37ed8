import AsyncHTTPClient
import Foundation
import NIOCore

/// DynamoDB's JSON protocol over HTTP (AsyncHTTPClient), signed with Signature Version 4:
/// the few operations Podium calls (``DynamoDBClient+Operations``), each retried by its
/// ``RetryPolicy`` when it fails for a passing reason.
public final class DynamoDBClient: Sendable {
    public struct Configuration: Sendable {
        /// `https://dynamodb.<region>.amazonaws.com`, or another server speaking the same
        /// protocol (`DDB_ENDPOINT`: DynamoDB Local, moto).
        public var endpoint: String
        public var region: String
        public var credentials: AWSCredentials
        /// The deadline of one attempt.
        public var timeout: Duration
        public var retry: RetryPolicy

        public init(
            endpoint: String? = nil, region: String, credentials: AWSCredentials, timeout: Duration = .seconds(30),
            retry: RetryPolicy = .init()
        ) {
            self.endpoint = endpoint ?? "https://dynamodb.\(region).amazonaws.com"
            self.region = region
            self.credentials = credentials
            self.timeout = timeout
            self.retry = retry
        }
    }

    public let configuration: Configuration
    let signer: SignatureV4
    let url: String
    /// The `Host` header: the endpoint's host, and its port unless it is the scheme's own.
    let host: String
    let path: String
    let http: HTTPClient

    /// The process's HTTP client for DynamoDB: a connection that cannot be made fails the
    /// attempt within 3 s (AsyncHTTPClient's default would retry it until the attempt's
    /// deadline), so the ``RetryPolicy`` alone decides how an unreachable DynamoDB is retried.
    public static let sharedHTTP: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(3)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// - Throws: ``DynamoDBError/transport(_:)`` if the endpoint is not an http(s) URL.
    public init(configuration: Configuration, http: HTTPClient = sharedHTTP) throws {
        guard let components = URLComponents(string: configuration.endpoint), let scheme = components.scheme?.lowercased(),
            ["http", "https"].contains(scheme), let hostName = components.host, !hostName.isEmpty
        else { throw DynamoDBError.transport("the endpoint '\(configuration.endpoint)' is not an http:// or https:// URL") }
        self.configuration = configuration
        self.signer = SignatureV4(credentials: configuration.credentials, region: configuration.region, service: "dynamodb")
        self.url = configuration.endpoint
        let defaultPort = scheme == "https" ? 443 : 80
        self.host = components.port.map { $0 == defaultPort ? hostName : "\(hostName):\($0)" } ?? hostName
        self.path = components.path.isEmpty ? "/" : components.path
        self.http = http
    }

    /// Calls `operation` (`PutItem`, `Query`, …) with `request`, trying again as the
    /// retry policy says, and decodes its answer.
    public func call<Response: Decodable>(_ operation: String, _ request: some Encodable, as: Response.Type = Response.self) async throws(DynamoDBError) -> Response {
        let body: [UInt8]
        do { body = Array(try JSONEncoder().encode(request)) } catch { throw .malformedResponse("cannot encode the request: \(error)") }
        var attempt = 1
        while true {
            let failure: DynamoDBError
            do {
                let answer = try await send(operation, body)
                do {
                    return try JSONDecoder().decode(Response.self, from: answer)
                } catch {
                    throw DynamoDBError.malformedResponse("\(operation): \(error)")
                }
            } catch let error as DynamoDBError {
                failure = error
            } catch {
                failure = .transport("\(error)")
            }
            guard let delay = configuration.retry.delay(after: attempt, failure: failure, random: Double.random(in: 0..<1)) else { throw failure }
            do { try await Task.sleep(for: delay) } catch { throw failure }
            attempt += 1
        }
    }

    /// One signed attempt; the answer's body if it succeeded.
    private func send(_ operation: String, _ body: [UInt8]) async throws -> Data {
        let headers = [
            ("Host", host), ("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDB_20120810.\(operation)"),
        ]
        let signing = signer.signingHeaders(method: "POST", path: path, headers: headers, body: body, date: Date())
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers + signing { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        let answer: ByteBuffer
        do {
            response = try await http.execute(request, timeout: .nanoseconds(configuration.timeout.components.seconds * 1_000_000_000 + configuration.timeout.components.attoseconds / 1_000_000_000))
            answer = try await response.body.collect(upTo: 64 * 1024 * 1024)
        } catch {
            throw DynamoDBError.transport("\(error)")
        }
        let data = Data(answer.readableBytesView)
        guard response.status == .ok else { throw Self.serviceError(status: Int(response.status.code), body: data) }
        return data
    }

    /// The error of a refused request: its `__type` (without the namespace) and message.
    static func serviceError(status: Int, body: Data) -> DynamoDBError {
        struct Refusal: Decodable {
            var type: String?
            var message: String?
            var upperMessage: String?
            enum CodingKeys: String, CodingKey {
                case type = "__type", message, upperMessage = "Message"
            }
        }
        let refusal = try? JSONDecoder().decode(Refusal.self, from: body)
        let type = refusal?.type.map { String($0.split(separator: "#").last ?? Substring($0)) } ?? "HTTP\(status)"
        let message = refusal?.message ?? refusal?.upperMessage ?? String(decoding: body.prefix(500), as: UTF8.self)
        return .service(type: type, message: message, status: status)
    }
}
