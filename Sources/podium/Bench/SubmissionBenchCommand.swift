import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// `podium bench submissions`: end-to-end authenticated submissions against a running
/// server — each client signs up once, then loops: issue a run token, submit a score.
struct SubmissionBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submissions",
        abstract: "Accepted run submissions per second and their latency, with concurrent clients over HTTP."
    )

    @Option(help: "Base URL of the server.")
    var url = "http://127.0.0.1:4000"

    @Option(help: "Game to submit to: one without plausibility rules (maxScorePerSecond, minScore, minRunMilliseconds), or submissions sent at once are refused; `bench` of scripts/bench/games.json by default.")
    var game = "bench"

    @Option(help: "Concurrent clients, each with its own account.")
    var clients = 64

    @Option(help: "Seconds of load.")
    var duration = 30

    func run() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: clients + 8)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            try await measure(with: http)
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    private func measure(with http: HTTPClient) async throws {
        let stamp = UInt32.random(in: 0...UInt32.max)
        var tokens: [String] = []
        for index in 0..<clients {
            let body = #"{"username":"bench\#(stamp)-\#(index)","password":"benchmark-password","displayName":"Bench \#(index)","countryCode":"GB"}"#
            let (status, text) = try await post(http, "/api/auth/register", body: body, token: nil)
            guard status == 201, let token = Self.field("accessToken", in: text) else {
                throw ValidationError("registering failed (\(status)): \(text) — run the server with a high --auth-rate-limit")
            }
            tokens.append(token)
        }
        let results = Results()
        let deadline = ContinuousClock.now + .seconds(duration)
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for (index, token) in tokens.enumerated() {
                group.addTask {
                    var run = 0
                    while ContinuousClock.now < deadline {
                        run += 1
                        let began = ContinuousClock.now
                        guard let (status, text) = try? await post(http, "/api/game-sessions", body: #"{"gameId":"\#(game)"}"#, token: token),
                            status == 201, let session = Self.field("token", in: text)
                        else {
                            results.fail("game-sessions failed")
                            continue
                        }
                        let submitted = ContinuousClock.now
                        let body = #"{"gameId":"\#(game)","score":\#(Int.random(in: 0...900_000)),"runId":"c\#(index)-\#(run)","sessionToken":"\#(session)"}"#
                        let answer = try? await post(http, "/api/scores/submit", body: body, token: token)
                        let done = ContinuousClock.now
                        if answer?.0 == 200 {
                            results.accept(submit: done - submitted, pair: done - began)
                        } else {
                            results.fail(answer.map { "\($0.0) \($0.1)" } ?? "no answer")
                        }
                    }
                }
            }
        }
        let elapsed = ContinuousClock.now - start
        results.report(seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, clients: clients)
    }

    private func post(_ http: HTTPClient, _ path: String, body: String, token: String?) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url + path)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        if let token { request.headers.add(name: "authorization", value: "Bearer \(token)") }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await http.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return (Int(response.status.code), text)
    }

    /// A string field of a flat JSON answer.
    static func field(_ name: String, in json: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return nil }
        return object[name] as? String
    }
}

/// Latencies of accepted submissions and the count of failed ones.
final class Results: Sendable {
    private let state = Mutex<(submits: [Double], pairs: [Double], failures: Int, firstFailure: String?)>(([], [], 0, nil))

    func accept(submit: Duration, pair: Duration) {
        state.withLock {
            $0.submits.append(Self.milliseconds(submit))
            $0.pairs.append(Self.milliseconds(pair))
        }
    }

    func fail(_ reason: String) {
        state.withLock {
            $0.failures += 1
            if $0.firstFailure == nil { $0.firstFailure = reason }
        }
    }

    func report(seconds: Double, clients: Int) {
        let (submits, pairs, failures, firstFailure) = state.withLock { ($0.submits.sorted(), $0.pairs.sorted(), $0.failures, $0.firstFailure) }
        func percentile(_ values: [Double], _ p: Double) -> String {
            values.isEmpty ? "-" : String(format: "%.2f", values[min(values.count - 1, Int(Double(values.count) * p))])
        }
        print("clients: \(clients), seconds: \(String(format: "%.1f", seconds))")
        print("accepted submissions per second: \(Int(Double(submits.count) / seconds))")
        print("failed requests: \(failures)" + (firstFailure.map { " (first: \($0))" } ?? ""))
        print("submit latency ms p50/p95/p99/max: \(percentile(submits, 0.5)) / \(percentile(submits, 0.95)) / \(percentile(submits, 0.99)) / \(percentile(submits, 1))")
        print("token + submit latency ms p50/p99: \(percentile(pairs, 0.5)) / \(percentile(pairs, 0.99))")
    }

    private static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}
