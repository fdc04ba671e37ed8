import Foundation
import HTTPTypes
import Synchronization
import Testing

@testable import PodiumServer

@Suite("Operations: metrics and request ids", .timeLimit(.minutes(2)))
struct OperationsTests {
    static func metric(_ text: String, _ prefix: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test func metricsFollowScoresAndConnections() async throws {
        try await TestServer.run(configure: { $0.live.coalescingInterval = .seconds(3) }) { server in
            let before = try await server.request(.get, "/metrics")
            #expect(before.status == .ok)
            #expect(before.headers[.contentType]?.hasPrefix("text/plain") == true)
            #expect(Self.metric(before.body, "podium_ws_connections ") == 0)
            #expect(Self.metric(before.body, "podium_store_restore_duration_seconds ") != nil)
            #expect(Self.metric(before.body, "podium_store_commit_duration_seconds_count ") == 0)
            let client = try await LiveClient.connect(port: server.port)
            client.send(#"{"type":"subscribe","gameId":"arcade","scopes":["global"]}"#)
            _ = try await client.nextMessage()
            // Three changes within one coalescing interval: the first at once, the other two
            // (one coalesced into the other) in one update at the window's end.
            try await server.ingest(user: "ann", score: 5)
            try await server.ingest(user: "bob", score: 6)
            try await server.ingest(user: "cat", score: 7)
            let first = try await client.nextMessage()[object: "payload"]?[array: "entries"]
            #expect(first?.last?[string: "userId"] == "ann", "sent at the first change (later ones may already be applied)")
            #expect(try await client.nextMessage()[object: "payload"]?[array: "entries"]?.count == 3)
            _ = try await server.request(.post, "/score", json: "{oops")
            #expect(try await server.request(.get, "/api/nothing").status == .notFound)
            #expect(try await server.request(.get, "/assets/style.css").status == .ok)
            // The fan-out's duration is recorded just after its last write: wait for it.
            var after = try await server.request(.get, "/metrics").body
            for _ in 0..<50 where Self.metric(after, "podium_ws_fanout_duration_seconds_count ") != 2 {
                try await Task.sleep(for: .milliseconds(20))
                after = try await server.request(.get, "/metrics").body
            }
            #expect(Self.metric(after, "podium_ws_connections ") == 1)
            #expect(Self.metric(after, #"podium_scores_events_applied_total{game="arcade"}"#) == 3)
            #expect(Self.metric(after, #"podium_scores_submissions_total{route="/score",outcome="accepted"}"#) == 3)
            #expect(Self.metric(after, #"podium_scores_submissions_total{route="/score",outcome="VALIDATION_ERROR"}"#) == 1)
            #expect(Self.metric(after, "podium_ws_messages_sent_total ") == 4, "ready, the state and two updates")
            #expect(Self.metric(after, "podium_ws_updates_coalesced_total ") == 1)
            #expect(Self.metric(after, "podium_ws_fanout_duration_seconds_count ") == 2)
            #expect((Self.metric(after, "podium_ws_fanout_duration_seconds_sum ") ?? 0) > 0)
            #expect(Self.metric(after, "podium_store_commit_duration_seconds_count ") == 3)
            #expect(Self.metric(after, "podium_store_commit_group_size_events_sum ") == 3)
            #expect(after.contains(#"podium_http_requests_total{method="POST",route="/score",status="200"} 3"#))
            #expect(after.contains(#"podium_http_requests_total{method="GET",route="unmatched",status="404"} 1"#))
            #expect(after.contains(#"podium_http_requests_total{method="GET",route="static",status="200"} 1"#))
            client.close()
            // The server counts the connection off once it has seen the close: wait for it.
            var connections = Self.metric(try await server.request(.get, "/metrics").body, "podium_ws_connections ")
            for _ in 0..<250 where connections != 0 {
                try await Task.sleep(for: .milliseconds(20))
                connections = Self.metric(try await server.request(.get, "/metrics").body, "podium_ws_connections ")
            }
            #expect(connections == 0)
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
            let upgrade = try RawWebSocket(port: server.port, headers: "X-Request-Id: trace-ws\r\n")
            try upgrade.send(frame: [0x03, 0xE8], opcode: 0x8)
            let answer = try await upgrade.answerUntilClosed().lowercased()
            #expect(answer.hasPrefix("http/1.1 101") && answer.contains("x-request-id: trace-ws"), "the upgrade's answer carries the id")
        }
    }

    @Test("log lines carry the request id, in the chosen format and level", arguments: [
        ("text", "info", "request_id=trace-text"), ("json", "info", #""request_id":"trace-json""#), ("text", "notice", nil),
    ])
    func logLines(format: String, level: String, expected: String?) async throws {
        let server = try await ServerProcess.start(arguments: ["--storage", "memory", "--log-format", format, "--log-level", level])
        let response = try await HTTP.request(
            port: server.port, .get, "/api/nothing", headers: [RequestMiddleware.requestIdHeader: "trace-\(format)"]
        )
        #expect(response.status == .notFound)
        let status = await server.stop(signal: SIGTERM)
        #expect(status == 0)
        if let expected {
            #expect(await server.output(contains: expected))
            #expect(await server.output(contains: format == "json" ? #""status":"404""# : "status=404"))
        } else {
            #expect(!(await server.output(contains: "trace-", within: .milliseconds(200))), "no info lines at notice")
            #expect(!(await server.output(contains: "Serving files")), "libraries' info lines follow the level too")
        }
    }

    @Test func textLogValuesAreQuotedWhenNeeded() {
        #expect(PodiumLogHandler.quoted("plain") == "plain")
        #expect(PodiumLogHandler.quoted("two words") == #""two words""#)
        #expect(PodiumLogHandler.quoted("say \"hi\"\n") == #""say \"hi\"\n""#)
        #expect(PodiumLogHandler.quoted("") == #""""#)
        #expect(PodiumLogHandler.quoted("a\rb\tc\u{85}d\u{2028}") == #""a\rb\tc\u{85}d\u{2028}""#, "no raw line breaks")
    }
}

@Suite("Access log: writes and errors always, reads sampled")
struct AccessLogTests {
    @Test func writesAndErrorsAreAlwaysLogged() {
        let log = AccessLog(readSampling: 0)
        #expect(log.logs(method: "POST", status: 200) && log.logs(method: "DELETE", status: 204))
        #expect(log.logs(method: "GET", status: 404) && log.logs(method: "GET", status: 503))
        #expect(!log.logs(method: "GET", status: 200) && !log.logs(method: "HEAD", status: 304), "no reads at 0")
    }

    @Test func oneReadInNIsLogged() {
        let log = AccessLog(readSampling: 10)
        let logged = (0..<1000).filter { _ in log.logs(method: "GET", status: 200) }.count
        #expect(logged == 100)
        #expect((0..<5).allSatisfy { _ in AccessLog.everything.logs(method: "GET", status: 200) })
    }

    /// The default: every read up to its budget each second, then a sample; a new second
    /// starts a new budget.
    @Test func readsPastEachSecondsBudgetAreSampled() {
        let second = Atomic<Int>(1_000)
        let log = AccessLog(readSampling: 100, readsInFull: 20, clock: { second.load(ordering: .relaxed) })
        #expect((0..<20).allSatisfy { _ in log.logs(method: "GET", status: 200) }, "the first 20 of the second")
        #expect((0..<1000).filter { _ in log.logs(method: "GET", status: 200) }.count == 10, "then one in 100")
        #expect(log.logs(method: "POST", status: 200) && log.logs(method: "GET", status: 500), "writes and errors always")
        second.store(1_001, ordering: .relaxed)
        #expect((0..<20).allSatisfy { _ in log.logs(method: "GET", status: 200) }, "a new second, a new budget")
        #expect(!log.logs(method: "GET", status: 200))
    }
}
