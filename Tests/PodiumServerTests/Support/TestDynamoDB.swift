import DynamoDB
import Foundation
import PodiumServer
import Synchronization

/// DynamoDB for tests: moto's server, started by scripts/test (`scripts/moto-server start`
/// exports `PODIUM_TEST_DYNAMODB_URL`), or a private one a test starts and stops itself.
enum TestDynamoDB {
    static let credentials = AWSCredentials(accessKeyId: "testing", secretAccessKey: "testing")
    static let region = "eu-west-1"

    /// The shared moto server's URL.
    static func endpoint() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["PODIUM_TEST_DYNAMODB_URL"], !url.isEmpty else {
            throw TestFailure("PODIUM_TEST_DYNAMODB_URL is not set: run scripts/test, or eval \"$(scripts/moto-server start)\" first")
        }
        return url
    }

    static func client(endpoint: String, retry: RetryPolicy = .init()) throws -> DynamoDBClient {
        try DynamoDBClient(configuration: .init(endpoint: endpoint, region: region, credentials: credentials, timeout: .seconds(10), retry: retry))
    }

    /// A new table keyed by `PK` and `SK`, with a name no other test uses.
    static func newTable(_ client: DynamoDBClient, prefix: String = "podium") async throws -> String {
        let table = "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
        try await client.createTable(table, partitionKey: "PK", sortKey: "SK")
        return table
    }

    /// Server settings for `table` on `endpoint`.
    static func settings(endpoint: String, table: String, chunkSize: Int = DynamoDBSnapshotStore.defaultChunkSize) -> DynamoDBSettings {
        var settings = DynamoDBSettings(
            client: .init(endpoint: endpoint, region: region, credentials: credentials, timeout: .seconds(5), retry: .init(maxAttempts: 3)),
            snapshotTable: table
        )
        settings.snapshotChunkSize = chunkSize
        return settings
    }

    /// The environment of `podium serve` for `table` on `endpoint` (spec 000's variables).
    static func environment(endpoint: String, table: String) -> [String: String] {
        [
            "AWS_REGION": region, "AWS_ACCESS_KEY_ID": credentials.accessKeyId, "AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey,
            "DDB_ENDPOINT": endpoint, "DDB_TABLE_LEADERBOARD_SNAPSHOTS": table,
        ]
    }
}

/// A moto server of one test, on a port of its own, that the test can stop and start again.
final class PrivateMoto: Sendable {
    let port: Int
    private let process = Mutex<ChildProcess?>(nil)

    var endpoint: String { "http://127.0.0.1:\(port)" }

    init() throws {
        port = try Self.freePort()
        try start()
    }

    /// Starts moto (empty: a new moto knows no tables) and waits until it answers.
    func start() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = "\(NSHomeDirectory())/.local/bin:\(environment["PATH"] ?? "/usr/bin:/bin")"
        let moto = try ChildProcess("/bin/sh", ["-c", "exec moto_server -H 127.0.0.1 -p \(port)"], environment: environment, output: .null)
        process.withLock { $0 = moto }
        for _ in 0..<300 {
            if Self.answers(port: port) { return }
            guard moto.isRunning else { throw TestFailure("moto_server exited (\(moto.terminationStatus)); is moto[server] installed?") }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw TestFailure("moto_server did not answer on port \(port)")
    }

    /// Kills moto (SIGKILL: gone at once, as a crashed DynamoDB) and waits until it is reaped.
    func stop() {
        guard let moto = process.withLock({ $0 }) else { return }
        moto.send(SIGKILL)
        while moto.isRunning { usleep(10_000) }
        process.withLock { $0 = nil }
    }

    deinit { stop() }

    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw TestFailure("socket: errno \(errno)") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socket, pointer, length) == 0 && getsockname(socket, pointer, &length) == 0
            }
        }
        guard bound else { throw TestFailure("bind: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on the loopback port.
    static func answers(port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return false }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
