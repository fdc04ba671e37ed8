import HTTPTypes
import HummingbirdTesting
import NIOCore

/// One HTTP/1.1 request per connection to a server on 127.0.0.1, over SwiftNIO.
///
/// Not URLSession: cancelling a task that awaits `URLSession.data(for:)` can deadlock
/// swift-corelibs-foundation on Linux, and the crash tests cancel their load mid-request.
enum HTTP {
    struct Response: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: String
    }

    static func request(
        port: Int, _ method: HTTPRequest.Method, _ path: String, json: String? = nil, headers: HTTPFields = [:]
    ) async throws -> Response {
        var headers = headers
        if json != nil { headers[.contentType] = "application/json" }
        let request = TestClient.Request(path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
        let response = try await TestClient.withClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(10))) {
            try await $0.execute(request)
        }
        return Response(status: response.status, headers: response.headers, body: String(buffer: response.body ?? ByteBuffer()))
    }
}
