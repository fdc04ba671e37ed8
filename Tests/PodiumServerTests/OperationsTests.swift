import Foundation
import HTTPTypes
import Testing

@testable import PodiumServer

@Suite("Operations: metrics and request ids", .timeLimit(.minutes(2)))
struct OperationsTests {
    static func metric(_ text: String, _ prefix: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test func metricsFollowScoresAndConnections() async throws {
        try await TestServer.run(configure: { $0.live.coalescingInterval = .milliseconds(20) }) { server in
            let before = try await server.request(.get, "/metrics")
            #expect(before.status == .ok)
            #expect(before.headers[.contentType]?.hasPrefix("text/plain") == true)
            #expect(Self.metric(before.body, "podium_ws_connections ") == 0)
            let client = try await LiveClient.connect(port: server.port)
            client.send(#"{"type":"subscribe","gameId":"arcade","scopes":["global"]}"#)
            _ = try await client.nextMessage()
            try await server.ingest(user: "ann", score: 5)
            _ = try await client.nextMessage()
            _ = try await server.request(.post, "/score", json: "{oops")
            let after = try await server.request(.get, "/metrics").body
            #expect(Self.metric(after, "podium_ws_connections ") == 1)
            #expect(Self.metric(after, #"podium_scores_events_applied_total{game="arcade"}"#) == 1)
            #expect(Self.metric(after, #"podium_scores_submissions_total{route="/score",outcome="accepted"}"#) == 1)
            #expect(Self.metric(after, #"podium_scores_submissions_total{route="/score",outcome="VALIDATION_ERROR"}"#) == 1)
            #expect((Self.metric(after, "podium_ws_messages_sent_total ") ?? 0) >= 1)
            #expect(after.contains(#"podium_http_requests_total{method="POST",route="/score",status="200"}"#))
            #expect(after.contains("podium_store_commit_duration_seconds_count"))
            #expect(after.contains("podium_ws_fanout_duration_seconds_count"))
            client.close()
            try await Task.sleep(for: .milliseconds(300))
            #expect(Self.metric(try await server.request(.get, "/metrics").body, "podium_ws_connections ") == 0)
        }
    }

    @Test func requestIdsRoundTrip() async throws {
        try await TestServer.run { server in
            let given = try await server.request(.get, "/health", headers: [RequestMiddleware.requestIdHeader: "trace-42"])
            #expect(given.headers[RequestMiddleware.requestIdHeader] == "trace-42")
            let made = try await server.request(.get, "/api/nothing")
            #expect(made.status == .notFound)
            let madeId = try #require(made.headers[RequestMiddleware.requestIdHeader])
            #expect(madeId.wholeMatch(of: /[0-9a-f]{16}-[0-9a-f]{8,}/) != nil, "a made id is the process prefix and a counter")
            let hostile = try await server.request(.get, "/health", headers: [RequestMiddleware.requestIdHeader: String(repeating: "x", count: 500)])
            let replacement = try #require(hostile.headers[RequestMiddleware.requestIdHeader])
            #expect(replacement.count == 25 && replacement != madeId, "an oversized id is replaced by a new one")
        }
    }
}
