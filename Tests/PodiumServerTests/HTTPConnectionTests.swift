import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import PodiumServer

/// What a server wrote on a raw connection before closing it.
struct RawAnswer {
    let text: String

    init(_ socket: RawSocket) async throws {
        text = String(decoding: try await socket.bytesUntilClosed(), as: UTF8.self)
    }

    /// The status of the first response.
    var status: Int? { text.hasPrefix("HTTP/1.1 ") ? Int(text.dropFirst(9).prefix(3)) : nil }

    /// The error code of the last response's body, in the one error shape.
    var errorCode: String? {
        guard let body = text.components(separatedBy: "\r\n\r\n").last, let object = try? JSON.object(body) else { return nil }
        guard object[object: "error"]?[string: "message"] != nil else { return nil }
        return object[object: "error"]?[string: "code"]
    }
}

@Suite("Malformed HTTP: an answer in the error shape, then a close", .timeLimit(.minutes(2)))
struct MalformedRequestTests {
    @Test("unreadable requests", arguments: [
        ("a garbage request line", "NOT A REQUEST\r\n\r\n", 400, "BAD_REQUEST"),
        ("HTTP/0.9", "GET /health\r\n\r\n", 400, "BAD_REQUEST"),
        ("an unknown version", "GET /health HTTP/2.7\r\nHost: x\r\n\r\n", 400, "BAD_REQUEST"),
        ("Content-Length: -1", "POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, "BAD_REQUEST"),
        (
            "Content-Length with Transfer-Encoding",
            "POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "BAD_REQUEST"
        ),
        ("a 100 KB header", "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 100_000))\r\n\r\n", 431, "HEADERS_TOO_LARGE"),
        ("a broken chunk", "POST /score HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n", 400, "BAD_REQUEST"),
    ])
    func unreadableRequests(name: String, request: String, status: Int, code: String) async throws {
        try await TestServer.run { server in
            let socket = try RawSocket(port: server.port)
            defer { socket.close() }
            try socket.write(request)
            let answer = try await RawAnswer(socket)
            #expect(answer.status == status, "\(name): \(answer.text.prefix(200))")
            #expect(answer.errorCode == code)
            #expect(answer.text.contains("X-Request-Id: ") || answer.text.contains("x-request-id: "))
            #expect(try await server.request(.get, "/health").status == .ok)
        }
    }

    @Test func aBrokenRequestAfterAGoodOneIsAnsweredAfterIt() async throws {
        try await TestServer.run { server in
            let socket = try RawSocket(port: server.port)
            defer { socket.close() }
            try socket.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\nNOT A REQUEST\r\n\r\n")
            let answer = try await RawAnswer(socket)
            #expect(answer.status == 200)
            #expect(answer.text.components(separatedBy: "HTTP/1.1 ").count == 3, "two answers: \(answer.text)")
            #expect(answer.errorCode == "BAD_REQUEST")
        }
    }
}

@Suite("HTTP timeouts and the connection cap over real sockets", .timeLimit(.minutes(2)))
struct HTTPConnectionLimitTests {
    @Test func aSilentConnectionIsClosedAtTheHeadTimeout() async throws {
        try await TestServer.run(configure: { $0.http.headTimeout = .milliseconds(500) }) { server in
            let socket = try RawSocket(port: server.port)
            defer { socket.close() }
            #expect(try await RawAnswer(socket).text == "", "closed without an answer")
        }
    }

    @Test func aTrickledHeadIsAnswered408AtTheHeadTimeout() async throws {
        try await TestServer.run(configure: { $0.http.headTimeout = .seconds(1) }) { server in
            let socket = try RawSocket(port: server.port)
            defer { socket.close() }
            try socket.write("GET /health HTTP/1.1\r\nX-Slow: ")
            // One byte every 100 ms for 6 s: steady progress must not extend the deadline.
            let trickle = Task {
                for _ in 0..<60 {
                    guard (try? await Task.sleep(for: .milliseconds(100))) != nil, (try? socket.write("a")) != nil else { return false }
                }
                return true
            }
            let answer = try await RawAnswer(socket)
            trickle.cancel()
            #expect(await trickle.value == false, "closed while the head was still trickling in")
            #expect(answer.status == 408)
            #expect(answer.errorCode == "REQUEST_TIMEOUT")
        }
    }

    @Test func aSlowBodyIsAnswered408AtTheBodyTimeout() async throws {
        try await TestServer.run(configure: { $0.http.bodyTimeout = .milliseconds(500) }) { server in
            let socket = try RawSocket(port: server.port)
            defer { socket.close() }
            try socket.write("POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"gameId\":")
            let answer = try await RawAnswer(socket)
            #expect(answer.status == 408)
            #expect(answer.errorCode == "REQUEST_TIMEOUT")
        }
    }

    /// A large body that keeps arriving (here 640 KiB at about 200 KiB/s, over three times
    /// the body timeout) earns time as it comes, and is read whole: a board import.
    @Test func aLargeBodyThatKeepsComingOutlastsTheBodyTimeout() async throws {
        try await TestServer.run(configure: { $0.http.bodyTimeout = .seconds(1) }) { server in
            let token = try await server.signInAsAdmin()
            var csv = "userId,score\n"
            var player = 0
            while csv.utf8.count < 640 * 1024 {
                csv += "player-\(player),\(player)\n"
                player += 1
            }
            let body = Array(csv.utf8)
            let socket = try RawSocket(port: server.port)
            defer { socket.close() }
            try socket.write(
                "POST /api/admin/games/arcade/import HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer \(token)\r\n"
                    + "Content-Type: text/csv\r\nContent-Length: \(body.count)\r\n\r\n"
            )
            let started = ContinuousClock.now
            for offset in stride(from: 0, to: body.count, by: 64 * 1024) {
                try socket.write(Array(body[offset..<min(offset + 64 * 1024, body.count)]))
                try await Task.sleep(for: .milliseconds(320))
            }
            #expect(ContinuousClock.now - started > .seconds(3), "the upload outlasted the body timeout")
            let answer = try await RawAnswer(socket)
            #expect(answer.status == 200, "\(answer.text.prefix(300))")
            let page = try JSON.object(try await server.request(.get, "/api/leaderboards/arcade?limit=1").body)
            #expect(page[int: "total"] == player, "every row of the slow body was imported")
        }
    }

    /// Sends the first half of a 1,000-row CSV import into `arcade` (its head announces
    /// the whole), on a socket left open.
    static func halfAnImport(to server: TestServer) async throws -> RawSocket {
        let token = try await server.signInAsAdmin()
        let rows = "userId,score\n" + (0..<1000).map { "player-\($0),\($0)\n" }.joined()
        let socket = try RawSocket(port: server.port)
        try socket.write(
            "POST /api/admin/games/arcade/import HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: text/csv\r\nContent-Length: \(rows.utf8.count * 2)\r\n\r\n" + rows
        )
        return socket
    }

    /// Players on `arcade` within 3 s of the body's connection ending: a handler that took
    /// that end for the body's would import the half within moments.
    static func playersImportedAfterTheCut(on server: TestServer) async throws -> Int {
        var imported = 0
        for _ in 0..<30 where imported == 0 {
            try await Task.sleep(for: .milliseconds(100))
            imported = try JSON.object(try await server.request(.get, "/api/leaderboards/arcade?limit=1").body)[int: "total"] ?? -1
        }
        return imported
    }

    /// An import whose body stops half-way is answered 408 and imports nothing: the
    /// handler reading it sees the body fail, not end (a CSV cut at a line is still CSV).
    @Test func aBodyCutShortByItsDeadlineIsNotTakenForWhole() async throws {
        try await TestServer.run(configure: { $0.http.bodyTimeout = .milliseconds(500) }) { server in
            let socket = try await Self.halfAnImport(to: server)
            let answer = try await RawAnswer(socket)
            #expect(answer.status == 408)
            #expect(answer.errorCode == "REQUEST_TIMEOUT")
            // The connection ends (the server's lingering close, hurried by ours), and with
            // it the body's stream.
            socket.close()
            #expect(try await Self.playersImportedAfterTheCut(on: server) == 0, "nothing of the cut body was imported")
            #expect(try await server.request(.get, "/health").status == .ok)
        }
    }

    /// The same body cut by the client closing its connection half-way imports nothing.
    @Test func aBodyCutShortByTheClientIsNotTakenForWhole() async throws {
        try await TestServer.run { server in
            let socket = try await Self.halfAnImport(to: server)
            try await Task.sleep(for: .milliseconds(200))
            socket.close()
            #expect(try await Self.playersImportedAfterTheCut(on: server) == 0, "nothing of the cut body was imported")
        }
    }

    @Test func anIdleKeptAliveConnectionIsClosedAtTheIdleTimeout() async throws {
        try await TestServer.run(configure: { $0.http.idleTimeout = .milliseconds(500) }) { server in
            let socket = try RawSocket(port: server.port)
            defer { socket.close() }
            try socket.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            let answer = try await RawAnswer(socket)
            #expect(answer.status == 200)
            #expect(answer.text.components(separatedBy: "HTTP/1.1 ").count == 2, "the one answer, then a close: \(answer.text)")
        }
    }

    /// An HTTP/1.0 client that asks for keep-alive is told `Connection: keep-alive` (it would
    /// assume a close otherwise) and can send its next request on the same connection.
    @Test func anHTTP10KeepAliveClientIsToldAndKeptAlive() async throws {
        try await TestServer.run { server in
            let socket = try RawSocket(port: server.port)
            defer { socket.close() }
            try socket.write("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            // Each answer is read to the end of its JSON body.
            let answered: @Sendable ([UInt8]) -> Bool = { $0.last == UInt8(ascii: "}") }
            let first = String(decoding: try await socket.bytes(until: answered), as: UTF8.self)
            #expect(first.lowercased().contains("\r\nconnection: keep-alive\r\n"), "\(first)")
            try socket.write("GET /api/games HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let second = String(decoding: try await socket.bytes(until: answered), as: UTF8.self)
            #expect(second.contains("\"games\""), "the second request was answered on the same connection: \(second)")
            #expect(second.lowercased().contains("\r\nconnection: keep-alive\r\n"), "\(second)")
        }
    }

    /// An HTTP/1.0 request without keep-alive is answered, then the connection closes (the
    /// idle timeout of 30 s is far off); a request pipelined after it is not read.
    @Test func anHTTP10RequestWithoutKeepAliveClosesTheConnection() async throws {
        try await TestServer.run { server in
            let socket = try RawSocket(port: server.port)
            defer { socket.close() }
            try socket.write("GET /health HTTP/1.0\r\n\r\nGET /api/games HTTP/1.1\r\nHost: x\r\n\r\n")
            let answer = try await RawAnswer(socket)
            #expect(answer.status == 200 && answer.text.hasSuffix(#"{"status":"ok"}"#), "the one answer, then a close: \(answer.text)")
        }
    }

    @Test func connectionsPastTheCapAreRefusedAndTheCapFreesUp() async throws {
        try await TestServer.run(configure: {
            $0.http.maxConnections = 3
            $0.http.headTimeout = .seconds(1)
        }) { server in
            // Connections are set up on both event loops, so which of the four is the one
            // refused is not known.
            let sockets = try (0..<4).map { _ in try RawSocket(port: server.port) }
            defer { sockets.forEach { $0.close() } }
            var answers: [RawAnswer] = []
            for socket in sockets { answers.append(try await RawAnswer(socket)) }
            let refused = answers.filter { $0.status == 503 }
            #expect(refused.count == 1)
            #expect(refused.first?.errorCode == "TOO_MANY_CONNECTIONS")
            #expect(refused.first?.text.contains("Retry-After: 5") == true)
            #expect(answers.filter { $0.text.isEmpty }.count == 3, "the idle connections end at the head timeout")
            #expect(try await server.request(.get, "/health").status == .ok, "then other clients are served")
            let metrics = try await server.request(.get, "/metrics").body
            #expect(metrics.contains("podium_http_connections_refused_total 1"))
        }
    }

    @Test func webSocketsGiveTheirHTTPSlotBack() async throws {
        try await TestServer.run(configure: { $0.http.maxConnections = 2 }) { server in
            var clients: [LiveClient] = []
            defer { clients.forEach { $0.close() } }
            for _ in 0..<4 { clients.append(try await LiveClient.connect(port: server.port)) }
            #expect(server.podium.hub.connectionCount == 4)
            #expect(try await server.request(.get, "/health").status == .ok)
        }
    }
}

@Suite("Held sockets under a lowered open-file limit, on the real binary", .timeLimit(.minutes(2)))
struct FileLimitTests {
    /// CPU time of a process, in clock ticks (usually 100 a second).
    static func cpuTicks(of pid: Int32) throws -> Int {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let fields = stat[stat.range(of: ")")!.upperBound...].split(separator: " ")
        return Int(fields[11])! + Int(fields[12])!
    }

    @Test func heldSocketsAtTheFileLimitLeaveTheServerCalmAndServing() async throws {
        let server = try await ServerProcess.start(arguments: ["--storage", "memory", "--request-head-timeout", "2"])
        defer { Task { _ = await server.stop(signal: SIGTERM) } }
        let pid = server.process.pid
        let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
        let prlimit = try await ScriptRun.run("/usr/bin/prlimit", ["--pid", "\(pid)", "--nofile=\(open + 8):\(open + 8)"], timeout: .seconds(30))
        try #require(prlimit.status == 0, "lowered the server's file limit: \(prlimit.output)")

        // 12 idle sockets: about 8 are accepted, then accept fails with EMFILE.
        let held = try (0..<12).map { _ in try RawSocket(port: server.port) }
        defer { held.forEach { $0.close() } }
        #expect(await server.output(contains: "pausing accepts", within: .seconds(5)), "accept failed and backed off")
        let before = try Self.cpuTicks(of: pid)
        try await Task.sleep(for: .seconds(1))
        let spent = try Self.cpuTicks(of: pid) - before
        #expect(spent < 30, "the server stays calm at the limit (\(spent) ticks in 1 s)")

        // Waits in the backlog until the head timeout frees descriptors, then is served.
        let response = try await HTTP.request(port: server.port, .get, "/health")
        #expect(response.status == .ok)
        #expect(await server.output(contains: "accepting connections again"))
    }
}

@Suite("Connection guards without sockets: deadlines, answers, caps and pauses")
struct HTTPConnectionGuardStateTests {
    static let limits: HTTPConnectionLimits = {
        var limits = HTTPConnectionLimits()
        limits.headTimeout = .seconds(10)
        limits.bodyTimeout = .seconds(20)
        limits.idleTimeout = .seconds(30)
        return limits
    }()

    static func at(_ seconds: Int64) -> NIODeadline { .uptimeNanoseconds(UInt64(1_000 + seconds) * 1_000_000_000) }

    typealias Machine = HTTPConnectionGuard.StateMachine

    /// A machine whose connection opened at 0 s and whose request head arrived at 1 s: its
    /// body is being read (due at 21 s).
    static func readingBody(keepAlive: Bool = true, http10: Bool = false) -> Machine {
        var state = Machine(limits: limits)
        _ = state.opened(now: at(0))
        _ = state.headReceived(now: at(1), keepAlive: keepAlive, http10: http10)
        return state
    }

    @Test func deadlinesFollowTheRequestCycle() {
        var state = Machine(limits: Self.limits)
        #expect(state.opened(now: Self.at(0)) == .schedule(Self.at(10)), "the first head is due 10 s after the opening")
        #expect(state.bytesReceived(now: Self.at(9)) == .none, "its first byte does not move that")
        #expect(state.headReceived(now: Self.at(9)) == .schedule(Self.at(29)))
        #expect(state.endReceived() == .none)
        #expect(state.timerFired(now: Self.at(40)) == .none, "no deadline while the router answers")
        #expect(state.responseEnded(now: Self.at(50)) == .schedule(Self.at(80)), "then the idle timeout")
        #expect(state.timerFired(now: Self.at(60)) == .schedule(Self.at(80)), "an early timer asks again")
        #expect(state.bytesReceived(now: Self.at(70)) == .schedule(Self.at(80)), "the next head is due 10 s after its first byte")
        guard case .answer(let error) = state.timerFired(now: Self.at(80)) else {
            Issue.record("no 408")
            return
        }
        #expect(error.status == .requestTimeout && error.code == .requestTimeout)
        #expect(state.isClosing)
    }

    /// Each answer to an HTTP/1.0 request that asked for keep-alive says so, in order.
    @Test func http10KeepAliveAnswersSayKeepAlive() {
        var state = Self.readingBody(http10: true)
        _ = state.endReceived()
        _ = state.headReceived(now: Self.at(1), keepAlive: true)
        _ = state.endReceived()
        _ = state.headReceived(now: Self.at(1), keepAlive: false, http10: true)
        _ = state.endReceived()
        var echoes: [Bool] = []
        for _ in 0..<3 {
            echoes.append(state.responseHeadSent())
            if echoes.count < 3 { _ = state.responseEnded(now: Self.at(2)) }
        }
        #expect(echoes == [true, false, false], "HTTP/1.0 with keep-alive; HTTP/1.1, kept alive without saying so; HTTP/1.0 closing")
        #expect(state.responseEnded(now: Self.at(2)) == .closeAfterAnswer)
    }

    /// A body's deadline moves on by a second per `bodyBytesPerSecond` that arrived; a
    /// body that stops arriving meets it.
    @Test func aBodyEarnsTimeAsItArrives() {
        var state = Machine(limits: Self.limits)
        _ = state.opened(now: Self.at(0))
        #expect(state.headReceived(now: Self.at(1)) == .schedule(Self.at(21)))
        state.bodyReceived(count: 3 * Self.limits.bodyBytesPerSecond)
        #expect(state.timerFired(now: Self.at(21)) == .schedule(Self.at(24)), "three seconds earned")
        state.bodyReceived(count: Self.limits.bodyBytesPerSecond / 2)
        #expect(state.timerFired(now: Self.at(24)) == .schedule(Self.at(24) + .milliseconds(500)))
        guard case .cutBody(let error?) = state.timerFired(now: Self.at(25)) else {
            Issue.record("no 408 once the body stopped")
            return
        }
        #expect(error.code == .requestTimeout)

        var next = Self.readingBody()
        next.bodyReceived(count: 10 * Self.limits.bodyBytesPerSecond)
        #expect(next.endReceived() == .none)
        #expect(next.responseEnded(now: Self.at(5)) == .schedule(Self.at(35)), "then the idle timeout")
        #expect(next.headReceived(now: Self.at(6)) == .schedule(Self.at(26)), "the next body starts with nothing earned")
    }

    /// HTTP/1.0 without keep-alive (or `Connection: close`): nothing after the request is
    /// read, and the connection closes once it is answered, or at once if it already was.
    @Test func aRequestWithoutKeepAliveEndsTheConnection() {
        var state = Self.readingBody(keepAlive: false)
        #expect(state.endReceived() == .none)
        #expect(state.isClosing, "what follows is not read")
        #expect(state.responseEnded(now: Self.at(2)) == .closeAfterAnswer)

        var answeredEarly = Self.readingBody(keepAlive: false)
        _ = answeredEarly.responseEnded(now: Self.at(2))
        #expect(answeredEarly.endReceived() == .closeAfterAnswer)

        var kept = Self.readingBody()
        #expect(kept.endReceived() == .none && !kept.isClosing)
        #expect(kept.responseEnded(now: Self.at(2)) == .schedule(Self.at(32)))
    }

    @Test func idleConnectionsCloseWithoutAnAnswer() {
        var state = Machine(limits: Self.limits)
        _ = state.opened(now: Self.at(0))
        #expect(state.timerFired(now: Self.at(10)) == .close)
    }

    /// A body cut short by its deadline fails the router's stream either way (what arrived
    /// is not the whole body), and is answered 408 unless a response began.
    @Test func slowBodiesAreCutAndAnsweredUnlessAResponseBegan() {
        var waiting = Self.readingBody()
        guard case .cutBody(let answer?) = waiting.timerFired(now: Self.at(21)) else {
            Issue.record("no 408 for a cut body")
            return
        }
        #expect(answer.code == .requestTimeout)
        var responding = Self.readingBody()
        _ = responding.responseHeadSent()
        #expect(responding.timerFired(now: Self.at(21)) == .cutBody(answer: nil))
    }

    @Test func parseErrorsAreAnsweredInOrder() {
        var fresh = Machine(limits: Self.limits)
        _ = fresh.opened(now: Self.at(0))
        #expect(fresh.parseError(.headerOverflow) == .answer(Machine.answer(to: .headerOverflow, limits: Self.limits)))
        #expect(Machine.answer(to: .headerOverflow, limits: Self.limits).status == .requestHeaderFieldsTooLarge)
        #expect(fresh.parseError(.invalidMethod) == .none, "one answer")

        var inBody = Self.readingBody()
        #expect(inBody.parseError(.invalidChunkSize) == .forward, "the router reading the body answers")
        #expect(inBody.responseEnded(now: Self.at(2)) == .closeAfterAnswer, "then the connection closes")

        var pipelined = Self.readingBody()
        _ = pipelined.endReceived()
        _ = pipelined.bytesReceived(now: Self.at(1))
        #expect(pipelined.parseError(.invalidMethod) == .none, "the earlier request is answered first")
        #expect(pipelined.responseEnded(now: Self.at(2)) == .answer(Machine.answer(to: .invalidMethod, limits: Self.limits)))
    }

    @Test func capsFitUnderTheFileLimit() {
        #expect(FileLimit.fit(webSockets: 19_000, http: 512, soft: 20_000, hard: 20_000) == .init(softLimit: 20_000, webSockets: 19_000, http: 512))
        #expect(
            FileLimit.fit(webSockets: 19_000, http: 512, soft: 1024, hard: 1_048_576) == .init(softLimit: 19_640, webSockets: 19_000, http: 512),
            "the soft limit is raised as far as needed"
        )
        let low = FileLimit.fit(webSockets: 19_000, http: 512, soft: 1024, hard: 1024)
        #expect(low == .init(softLimit: 1024, webSockets: 448, http: 448), "caps shrink under a low hard limit")
        #expect(low.webSockets + low.http + FileLimit.reserve <= 1024)
    }

    @Test func acceptPausesDoubleThenReset() {
        var pauses = AcceptBackoff.Pauses()
        let first = pauses.failed()
        #expect(first.pause == .milliseconds(50) && first.isFirst)
        let second = pauses.failed()
        #expect(second.pause == .milliseconds(100) && !second.isFirst)
        for _ in 0..<10 { _ = pauses.failed() }
        let longest = pauses.failed()
        #expect(longest.pause == AcceptBackoff.Pauses.longest)
        let ended = pauses.accepted()
        #expect(ended, "an accept ends the run")
        let endedAgain = pauses.accepted()
        #expect(!endedAgain)
        let restarted = pauses.failed()
        #expect(restarted.isFirst)
    }
}
