import DynamoDB
import Foundation
import Testing

@Suite("Signature Version 4: AWS's published vectors and botocore, byte for byte")
struct SignatureV4Tests {
    /// The credentials and time of AWS's Signature Version 4 test suite.
    static let suiteCredentials = AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let suiteTime = Date(timeIntervalSince1970: 1_440_938_160)  // 20150830T123600Z

    @Test(arguments: [
        ("get-vanilla", "GET", [(String, String)](), "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        ("post-vanilla", "POST", [], "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        (
            "get-vanilla-query-order-key-case", "GET", [("Param2", "value2"), ("Param1", "value1")],
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        ),
    ])
    func awsTestSuite(name: String, method: String, query: [(String, String)], signature: String) {
        let signer = SignatureV4(credentials: Self.suiteCredentials, region: "us-east-1", service: "service")
        let headers = signer.signingHeaders(
            method: method, path: "/", query: query, headers: [("Host", "example.amazonaws.com")], body: [], date: Self.suiteTime
        )
        #expect(headers.first { $0.0 == "X-Amz-Date" }?.1 == "20150830T123600Z", "\(name)")
        #expect(
            headers.first { $0.0 == "Authorization" }?.1
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=\(signature)",
            "\(name)"
        )
    }

    /// One request as both signers see it.
    struct SignedRequest {
        var method = "POST"
        var host = "127.0.0.1:8000"
        var path = "/"
        var query: [(String, String)] = []
        var headers: [(String, String)]
        var body: String
        var region: String
        var service = "dynamodb"
        var credentials: AWSCredentials
        var time: Date

        var botocoreInput: [String: Any] {
            let queryText = query.map { "\(SignatureV4Tests.encode($0.0))=\(SignatureV4Tests.encode($0.1))" }.joined(separator: "&")
            return [
                "method": method, "url": "http://\(host)\(SignatureV4Tests.encode(path, keepingSlash: true))\(queryText.isEmpty ? "" : "?" + queryText)",
                "headers": ([("Host", host)] + headers).map { [$0.0, $0.1] }, "body": body, "region": region, "service": service,
                "accessKeyId": credentials.accessKeyId, "secretAccessKey": credentials.secretAccessKey,
                "sessionToken": credentials.sessionToken as Any? ?? NSNull(), "time": time.timeIntervalSince1970,
            ]
        }

        func signedBySwift() -> [[String]] {
            SignatureV4(credentials: credentials, region: region, service: service)
                .signingHeaders(method: method, path: path, query: query, headers: [("Host", host)] + headers, body: Array(body.utf8), date: time)
                .map { [$0.0, $0.1] }
        }
    }

    static func encode(_ text: String, keepingSlash: Bool = false) -> String {
        var allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
        if keepingSlash { allowed.insert("/") }
        return text.addingPercentEncoding(withAllowedCharacters: allowed)!
    }

    static func dynamoDBHeaders(_ operation: String) -> [(String, String)] {
        [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDB_20120810.\(operation)")]
    }

    @Test func headersMatchBotocoreForDynamoDBRequests() async throws {
        let keys = AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        var temporary = keys
        temporary.sessionToken = "IQoJb3JpZ2luX2VjEPT//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+session/token=="
        let requests = [
            SignedRequest(headers: Self.dynamoDBHeaders("ListTables"), body: "{}", region: "us-east-1", credentials: keys, time: Self.suiteTime),
            SignedRequest(
                host: "dynamodb.eu-west-2.amazonaws.com", headers: Self.dynamoDBHeaders("PutItem"),
                body: #"{"TableName":"scores","Item":{"PK":{"S":"GAME#arcade#SCOPE#GLOBAL"},"name":{"S":"Zoë 🎮 Ünïcødé — 名前"}}}"#,
                region: "eu-west-2", credentials: temporary, time: Date(timeIntervalSince1970: 1_796_000_123)
            ),
            SignedRequest(
                host: "localhost:4566", headers: Self.dynamoDBHeaders("Query") + [("X-Custom", "  several   spaces  inside ")],
                body: ##"{"TableName":"t","KeyConditionExpression":"#k = :v"}"##, region: "ap-southeast-2", credentials: temporary,
                time: Date(timeIntervalSince1970: 1_700_000_000.75)
            ),
            SignedRequest(
                method: "GET", host: "example.amazonaws.com", path: "/a path/with ünïcode/", query: [("b", "2 3"), ("a", "x/y"), ("A", "é")],
                headers: [], body: "", region: "sa-east-1", service: "service", credentials: keys, time: Self.suiteTime
            ),
        ]
        let input = try JSONSerialization.data(withJSONObject: requests.map(\.botocoreInput))
        let botocore = try await Self.botocoreSign(input)
        #expect(botocore.count == requests.count)
        for (request, expected) in zip(requests, botocore) {
            #expect(request.signedBySwift() == expected, "\(request.method) \(request.host)\(request.path) in \(request.region)")
        }
    }

    /// botocore's headers for each request (scripts/botocore-sign).
    static func botocoreSign(_ input: Data) async throws -> [[[String]]] {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let inputFile = scratch.url.appendingPathComponent("requests.json")
        try input.write(to: inputFile)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/botocore-sign").standardized.path
        let run = try await ScriptRun.run("/bin/sh", ["-c", "python3 \"$0\" < \"$1\"", script, inputFile.path])
        guard run.status == 0, let signed = try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [[[String]]] else {
            throw TestFailure("botocore-sign failed (\(run.status)): \(run.standardError)")
        }
        return signed
    }
}
