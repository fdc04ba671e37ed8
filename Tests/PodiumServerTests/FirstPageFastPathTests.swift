import Foundation
import PodiumServer
import Testing

/// First pages answered right after NIO's HTTP decoder (`FirstPageHandler`): the same
/// bytes as the router's answer, for every target it claims; everything else left to the
/// router, in order.
@Suite struct FirstPageFastPathTests {
    /// The test registry with daily boards for `arcade`, so period pages are read too.
    static let games = TestServer.gamesJSON.replacingOccurrences(of: #""topN": 3}"#, with: #""topN": 3, "periods": ["daily"]}"#)

    /// Every target the fast path claims: Podium's first pages in each query form, and every
    /// contract's top-N route.
    static let claimed = [
        "/api/leaderboards/arcade", "/api/leaderboards/arcade?limit=1", "/api/leaderboards/arcade?scope=local&country=GB",
        "/api/leaderboards/arcade?scope=local&country=fr&limit=1", "/api/leaderboards/arcade?scope=global&limit=2",
        "/api/leaderboards/arcade?country=FR", "/api/leaderboards/arcade?period=daily", "/api/leaderboards/arcade?limit=2&period=daily",
        "/api/leaderboards/sprint", "/top-scores", "/api/v1/leaderboard/top10", "/api/v1/scores/leaderboard",
        "/api/v1/scores/leaderboard?limit=2", "/api/leaderboard",
    ]

    static func run(fastPath: Bool, _ body: (TestServer) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let gamesFile = directory.url.appendingPathComponent("periods.json")
        try Data(games.utf8).write(to: gamesFile)
        try await TestServer.run(in: directory, configure: {
            $0.gamesFile = gamesFile.path
            $0.firstPagesFastPath = fastPath
        }) { server in
            try await server.ingest(user: "ann", name: "Ann", country: "GB", score: 50)
            try await server.ingest(user: "bob", name: "Bob", country: "FR", score: 70)
            try await server.ingest(user: "cid", name: "Cid", country: "GB", score: 60)
            try await server.ingest(game: "sprint", user: "ann", score: 12)
            try await body(server)
        }
    }

    /// Each claimed target is read twice on one kept-alive connection, as is and with a
    /// parameter the fast path does not claim (the router ignores it): the two answers are
    /// the same bytes but for the request id and the date. With the fast path on, the first
    /// of each pair was answered by it (its counter says so); with it off, by the router.
    @Test(arguments: [true, false])
    func claimedTargetsAnswerTheRouterBytes(fastPath: Bool) async throws {
        try await Self.run(fastPath: fastPath) { server in
            let connection = try Connection(port: server.port)
            defer { connection.close() }
            for (index, target) in Self.claimed.enumerated() {
                let routed = target + (target.contains("?") ? "&" : "?") + "via=router"
                let fast = try await connection.answer(to: "GET \(target) HTTP/1.1\r\nHost: podium\r\nX-Request-Id: fast-\(index)\r\n\r\n")
                let viaRouter = try await connection.answer(to: "GET \(routed) HTTP/1.1\r\nHost: podium\r\n\r\n")
                #expect(fast.status == 200 && fast.body.count > 20, "\(target): \(fast.head)")
                #expect(fast.header("X-Request-Id") == "fast-\(index)", "\(target): the caller's request id")
                #expect(fast.header("Date") != nil && fast.header("Server") == "Podium")
                #expect(fast.normalized == viaRouter.normalized, "\(target): the same bytes as the router's")
            }
            let metrics = try await server.request(.get, "/metrics").body
            let answeredHere = fastPath ? Self.claimed.count : 0
            #expect(metrics.contains("podium_http_first_pages_on_event_loop_total \(answeredHere)\n"), "answered before the router: \(answeredHere)")
            #expect(metrics.contains(#"podium_http_requests_total{method="GET",route="/api/leaderboards/{gameId}",status="200"} 18"#))
            #expect(metrics.contains(#"podium_http_requests_total{method="GET",route="/top-scores",status="200"} 2"#))
            #expect(metrics.contains(#"podium_http_requests_total{method="GET",route="/api/v1/scores/leaderboard",status="200"} 4"#))
        }
    }

    /// Spec 003's correlation id is taken and echoed under its own name, as the router does.
    @Test func correlationIdIsEchoed() async throws {
        try await Self.run(fastPath: true) { server in
            let answers = try await Self.exchange(
                "GET /api/v1/scores/leaderboard HTTP/1.1\r\nHost: podium\r\nX-Correlation-ID: corr-7\r\n\r\n"
                    + "GET /api/v1/scores/leaderboard?via=router HTTP/1.1\r\nHost: podium\r\nX-Correlation-ID: corr-8\r\n\r\n",
                port: server.port
            )
            #expect(answers[0].header("X-Correlation-ID") == "corr-7" && answers[0].header("X-Request-Id") == "corr-7")
            #expect(answers[0].normalized == answers[1].normalized)
        }
    }

    /// What the fast path does not claim reaches the router, which answers it (errors
    /// included); none of it is counted as answered before the router.
    @Test func everythingElseGoesToTheRouter() async throws {
        try await Self.run(fastPath: true) { server in
            let cases: [(request: String, status: Int)] = [
                ("GET /api/leaderboards/arcade?cursor=bogus HTTP/1.1\r\nHost: podium\r\n\r\n", 400),
                ("GET /api/leaderboards/arcade HTTP/1.1\r\nHost: podium\r\nAuthorization: Bearer forged\r\n\r\n", 401),
                ("GET /api/leaderboards/arc%61de HTTP/1.1\r\nHost: podium\r\n\r\n", 404),
                ("GET /api/leaderboards/arcade?limit=%31 HTTP/1.1\r\nHost: podium\r\n\r\n", 200),
                ("GET /api/leaderboards/arcade?limit=1&limit=2 HTTP/1.1\r\nHost: podium\r\n\r\n", 200),
                ("GET /api/leaderboards/arcade?limit=0 HTTP/1.1\r\nHost: podium\r\n\r\n", 400),
                ("GET /api/leaderboards/arcade?scope=local HTTP/1.1\r\nHost: podium\r\n\r\n", 400),
                ("GET /api/leaderboards/arcade?scope=personal HTTP/1.1\r\nHost: podium\r\n\r\n", 400),
                ("GET /api/leaderboards/ghost HTTP/1.1\r\nHost: podium\r\n\r\n", 404),
                ("GET /api/leaderboards/arcade?period=yearly HTTP/1.1\r\nHost: podium\r\n\r\n", 404),
                ("GET /api/leaderboards/arcade/ HTTP/1.1\r\nHost: podium\r\n\r\n", 200),
                ("HEAD /api/leaderboards/arcade HTTP/1.1\r\nHost: podium\r\n\r\n", 200),
                ("GET /api/leaderboards/arcade HTTP/1.1\r\nHost: podium\r\nConnection: keep-alive\r\n\r\n", 200),
                ("POST /api/leaderboard HTTP/1.1\r\nHost: podium\r\nContent-Length: 0\r\n\r\n", 404),
            ]
            for (request, status) in cases {
                let answers = try await Self.exchange(request, port: server.port, headOnly: request.hasPrefix("HEAD"))
                #expect(answers.first?.status == status, "\(request.prefix { $0 != "\r" }): \(answers.first?.head ?? "no answer")")
            }
            let old = try RawSocket(port: server.port)
            defer { old.close() }
            try old.write("GET /api/leaderboards/arcade HTTP/1.0\r\nHost: podium\r\n\r\n")
            let answer = String(decoding: try await old.bytesUntilClosed(), as: UTF8.self)
            #expect(answer.contains(" 200 OK") && answer.contains(#""gameId":"arcade""#), "HTTP/1.0 is answered by the router, which then closes")
            let metrics = try await server.request(.get, "/metrics").body
            #expect(metrics.contains("podium_http_first_pages_on_event_loop_total 0\n"))
        }
    }

    /// Requests for the router and first pages pipelined on one connection: the answers
    /// come in the order of the requests. Once a request is with the router, the requests
    /// behind it wait their turn there; when every answer is out, the next first page is
    /// answered here again, and a first page sent with a body leaves the next request intact.
    @Test func pipelinedAnswersStayInOrder() async throws {
        try await Self.run(fastPath: true) { server in
            let score = #"{"gameId":"arcade","userId":"dan","displayName":"Dan","countryCode":"GB","score":90,"achievedAt":"2026-11-23T10:00:00Z"}"#
            let answers = try await Self.exchange(
                "GET /api/leaderboards/arcade?limit=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /api/games HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /top-scores HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(score.utf8.count)\r\n\r\n\(score)"
                    + "GET /api/leaderboards/arcade?limit=1 HTTP/1.1\r\nHost: x\r\n\r\n",
                port: server.port
            )
            #expect(answers.map(\.status) == [200, 200, 200, 200, 200, 200])
            #expect(answers[0].body.contains(#""userId":"bob""#), "the leader before the POST")
            #expect(answers[1].body.hasPrefix(#"{"games":"#))
            #expect(answers[2].body.hasPrefix(#"[{"userId":"bob""#))
            #expect(answers[3].body.contains(#""applied""#), "the POST's own answer")
            #expect(answers[4].body.contains(#""gameId":"arcade""#))
            #expect(answers[5].body == #"{"status":"ok"}"#)
            var metrics = try await server.request(.get, "/metrics").body
            #expect(metrics.contains("podium_http_first_pages_on_event_loop_total 1\n"), "only the first, ahead of the router")

            let connection = try Connection(port: server.port)
            defer { connection.close() }
            _ = try await connection.answer(to: "GET /api/games HTTP/1.1\r\nHost: x\r\n\r\n")
            let withBody = try await connection.answer(to: "GET /api/leaderboards/arcade?limit=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
            #expect(withBody.body.contains(#""userId":"dan""#), "after the router's answer, with the new leader")
            let next = try await connection.answer(to: "GET /top-scores HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(next.status == 200 && next.body.hasPrefix(#"[{"userId":"dan""#), "the body was not read as a request")
            metrics = try await server.request(.get, "/metrics").body
            #expect(metrics.contains("podium_http_first_pages_on_event_loop_total 3\n"))
        }
    }

    /// Answers written by the fast path and by the router interleave on one connection
    /// with HEAD and GET requests, and each keeps its own framing: a HEAD after first pages
    /// gets no body, and each GET after the HEAD gets its body (an encoder that paired
    /// responses with the methods of requests, the fast path's among them, would drop the
    /// body of the third).
    @Test func headsAndGetsAfterFirstPagesKeepTheirBodies() async throws {
        try await Self.run(fastPath: true) { server in
            let connection = try Connection(port: server.port)
            defer { connection.close() }
            for _ in 0..<3 { _ = try await connection.answer(to: "GET /api/leaderboards/arcade HTTP/1.1\r\nHost: x\r\n\r\n") }
            try connection.socket.write(
                "HEAD /api/games HTTP/1.1\r\nHost: x\r\n\r\n" + String(repeating: "GET /api/games HTTP/1.1\r\nHost: x\r\n\r\n", count: 2)
                    + "GET /api/games HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            var rest = try await connection.socket.bytesUntilClosed()[...]
            let (head, length) = try #require(Answer.first(in: rest, headOnly: true), "an answer to the HEAD")
            #expect(head.status == 200 && head.header("Content-Length") != "0")
            rest = rest.dropFirst(length)
            for index in 1...3 {
                let (get, length) = try #require(Answer.first(in: rest, headOnly: false), "an answer to GET \(index)")
                rest = rest.dropFirst(length)
                #expect(get.head.hasPrefix("HTTP/1.1 200 OK\r\n"), "GET \(index) starts where the last answer ended")
                #expect(get.body.hasPrefix(#"{"games":"#) && get.header("Content-Length") == head.header("Content-Length"), "GET \(index) has its body")
            }
            let metrics = try await server.request(.get, "/metrics").body
            #expect(metrics.contains("podium_http_first_pages_on_event_loop_total 3\n"))
        }
    }

    /// A connection whose requests were all answered by the fast path never reached
    /// Hummingbird's handlers; a graceful shutdown still closes it at once, not at the end
    /// of the grace period.
    @Test func shutdownClosesConnectionsAnsweredOnlyHere() async throws {
        var reader: Task<[UInt8], any Error>?
        try await TestServer.run(configure: { $0.shutdownGrace = .seconds(30) }) { server in
            try await server.ingest(user: "ann", score: 5)
            let socket = try RawSocket(port: server.port)
            try socket.write("GET /api/leaderboards/arcade HTTP/1.1\r\nHost: podium\r\n\r\n")
            let page = try await socket.bytes { String(decoding: $0, as: UTF8.self).hasSuffix("}") }
            #expect(String(decoding: page, as: UTF8.self).contains(#""userId":"ann""#))
            reader = Task {
                defer { socket.close() }
                return try await socket.bytesUntilClosed()
            }
        }
        // Throws if the connection is still open 10 s after the shutdown began.
        let rest = try await #require(reader).value
        #expect(rest.isEmpty)
    }

    // MARK: - Raw HTTP/1.1 exchanges

    /// One response as received.
    struct Answer {
        let head: String
        let body: String

        var status: Int { Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0 }

        func header(_ name: String) -> String? {
            for line in head.split(separator: "\r\n").dropFirst() {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2, parts[0].lowercased() == name.lowercased() { return parts[1].trimmingCharacters(in: .whitespaces) }
            }
            return nil
        }

        /// The bytes with the request ids and the date blanked.
        var normalized: String {
            let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map { line -> String in
                for name in ["X-Request-Id", "X-Correlation-ID", "Date"] where line.lowercased().hasPrefix(name.lowercased() + ":") {
                    return name + ": -"
                }
                return String(line)
            }
            return lines.joined(separator: "\r\n") + "\r\n\r\n" + body
        }
    }

    /// Sends `requests` on one connection followed by a `Connection: close` health check,
    /// and splits everything received into answers (`headOnly` for a first request that
    /// is a HEAD, whose answer has no body).
    static func exchange(_ requests: String, port: Int, headOnly: Bool = false) async throws -> [Answer] {
        let socket = try RawSocket(port: port)
        defer { socket.close() }
        try socket.write(requests + "GET /health HTTP/1.1\r\nHost: podium\r\nConnection: close\r\n\r\n")
        var rest = try await socket.bytesUntilClosed()[...]
        var answers: [Answer] = []
        while let (answer, length) = Answer.first(in: rest, headOnly: headOnly && answers.isEmpty) {
            answers.append(answer)
            rest = rest.dropFirst(length)
        }
        return answers
    }

    /// A kept-alive connection that sends one request at a time and reads its answer;
    /// `close()` it (the test process has a limit of open files).
    struct Connection {
        let socket: RawSocket

        init(port: Int) throws {
            socket = try RawSocket(port: port)
        }

        func close() { socket.close() }

        func answer(to request: String) async throws -> Answer {
            try socket.write(request)
            let bytes = try await socket.bytes { Answer.first(in: $0[...], headOnly: false) != nil }
            guard let (answer, _) = Answer.first(in: bytes[...], headOnly: false) else { throw TestFailure("no answer to \(request)") }
            return answer
        }
    }
}

extension FirstPageFastPathTests.Answer {
    /// The first whole answer in `bytes` and how many bytes it took, by its `Content-Length`.
    static func first(in bytes: ArraySlice<UInt8>, headOnly: Bool) -> (Self, Int)? {
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
        let head = String(decoding: bytes[..<end.lowerBound], as: UTF8.self)
        let length = headOnly ? 0 : Int(Self(head: head, body: "").header("Content-Length") ?? "0") ?? 0
        let body = bytes[end.upperBound...].prefix(length)
        guard body.count == length else { return nil }
        return (Self(head: head, body: String(decoding: body, as: UTF8.self)), end.upperBound - bytes.startIndex + length)
    }
}
