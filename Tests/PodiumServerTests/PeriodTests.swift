import Foundation
import PodiumEngine
import Synchronization
import Testing

@testable import PodiumServer

/// A clock the test moves: boundaries are crossed without waiting for midnight.
final class ManualClock: Sendable {
    private let time: Atomic<Int64>

    init(_ text: String) { time = Atomic(Timestamp.parse(text)!) }

    func set(_ text: String) { set(milliseconds: Timestamp.parse(text)!) }

    func set(milliseconds: Int64) { time.store(milliseconds, ordering: .sequentiallyConsistent) }

    var wallClock: WallClock { WallClock { [self] in time.load(ordering: .sequentiallyConsistent) } }
}

@Suite("Period schedules: keys and boundaries")
struct PeriodScheduleTests {
    static func period(_ schedule: PeriodSchedule, _ time: String) -> Period { schedule.period(containing: Timestamp.parse(time)!)! }

    @Test func daysEndAtUTCMidnight() {
        #expect(Self.period(.daily, "2026-12-01T23:59:59.999Z").key == "2026-12-01")
        #expect(Self.period(.daily, "2026-12-02T00:00:00.000Z").key == "2026-12-02")
        let day = Self.period(.daily, "2026-12-01T12:00:00Z")
        #expect(Timestamp.format(day.start) == "2026-12-01T00:00:00.000Z" && Timestamp.format(day.end) == "2026-12-02T00:00:00.000Z")
        #expect(Self.period(.daily, "1969-12-31T23:59:59.999Z").key == "1969-12-31", "before 1970 too")
    }

    @Test func weeksStartOnMondayAndBelongToTheYearOfTheirThursday() {
        #expect(Self.period(.weekly, "2026-12-01T10:00:00Z").key == "2026-W49")
        let week = Self.period(.weekly, "2026-12-06T23:59:59.999Z")  // a Sunday
        #expect(week.key == "2026-W49" && Timestamp.format(week.start) == "2026-11-30T00:00:00.000Z")
        #expect(Self.period(.weekly, "2026-12-07T00:00:00Z").key == "2026-W50")
        #expect(Self.period(.weekly, "2027-01-01T00:00:00Z").key == "2026-W53", "2026 has 53 ISO weeks")
        #expect(Self.period(.weekly, "2024-12-30T00:00:00Z").key == "2025-W01", "a Monday in December can open next year's week 1")
        #expect(Self.period(.weekly, "2021-01-03T12:00:00Z").key == "2020-W53")
    }

    @Test func monthsAndCustomSchedules() {
        #expect(Self.period(.monthly, "2026-12-31T23:59:59.999Z").key == "2026-12")
        let january = Self.period(.monthly, "2027-01-01T00:00:00Z")
        #expect(january.key == "2027-01" && Timestamp.format(january.end) == "2027-02-01T00:00:00.000Z")
        #expect(Timestamp.format(Self.period(.monthly, "2028-02-15T00:00:00Z").end) == "2028-03-01T00:00:00.000Z")
        let raid = PeriodSchedule.custom(name: "raid-week", days: 7, from: Timestamp.parse("2026-12-07T18:00:00Z")!)
        #expect(Self.period(raid, "2026-12-07T18:00:00Z").key == "raid-week@2026-12-07T18:00Z")
        #expect(Self.period(raid, "2026-12-07T17:59:59.999Z").key == "raid-week@2026-11-30T18:00Z", "and before its first start")
        #expect(Self.period(raid, "2026-12-14T17:59:59Z").key == "raid-week@2026-12-07T18:00Z")
    }

    @Test func keysReadBackAsTheirPeriods() {
        let raid = PeriodSchedule.custom(name: "raid-week", days: 7, from: Timestamp.parse("2026-12-07T18:00:00Z")!)
        for (schedule, time) in [
            (PeriodSchedule.daily, "2026-12-01T05:00:00Z"), (.weekly, "2027-01-01T00:00:00Z"), (.weekly, "2024-12-30T00:00:00Z"),
            (.monthly, "2026-02-10T00:00:00Z"), (raid, "2026-12-20T00:00:00Z"),
        ] {
            let period = Self.period(schedule, time)
            #expect(schedule.period(named: period.key) == period, "\(period.key)")
        }
        #expect(PeriodSchedule.daily.period(named: "2026-13-01") == nil)
        #expect(PeriodSchedule.daily.period(named: "2026-W49") == nil)
        #expect(PeriodSchedule.weekly.period(named: "2026-W54") == nil)
        #expect(PeriodSchedule.monthly.period(named: "2026-12-01") == nil)
    }
}

@Suite("Period boards over real sockets", .timeLimit(.minutes(2)))
struct PeriodBoardTests {
    static let gamesJSON = """
        {"games": [
          {"id": "runner", "name": "Runner", "operator": "best", "topN": 10, "periods": ["all-time", "daily", "weekly"], "keepArchives": 2},
          {"id": "plain", "name": "Plain", "operator": "best", "topN": 10}
        ]}
        """

    /// Runs `body` on a server whose games keep daily and weekly boards, on `clock`.
    static func run(
        clock: ManualClock, in directory: TemporaryDirectory? = nil, _ body: (TestServer) async throws -> Void
    ) async throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let gamesFile = scratch.url.appendingPathComponent("periods.json")
        try Data(gamesJSON.utf8).write(to: gamesFile)
        try await TestServer.run(in: directory, configure: {
            $0.gamesFile = gamesFile.path
            $0.clock = clock.wallClock
            $0.follower.periodCheckInterval = .milliseconds(20)
        }, body)
    }

    static func entries(_ server: TestServer, _ query: String) async throws -> [String] {
        let response = try await server.request(.get, "/api/leaderboards/runner?limit=100&\(query)")
        guard response.status == .ok else { throw TestFailure("\(query): \(response.status) \(response.body)") }
        return try JSON.object(response.body)[array: "entries"]?.map { "\($0[string: "userId"]!)=\($0[int: "score"]!)" } ?? []
    }

    @Test func scoresCountInThePeriodTheyWereAcceptedIn() async throws {
        let clock = ManualClock("2026-12-01T23:59:59.000Z")
        try await Self.run(clock: clock) { server in
            try await server.ingest(game: "runner", user: "ann", score: 100)
            clock.set("2026-12-01T23:59:59.999Z")
            try await server.ingest(game: "runner", user: "bob", score: 50)
            clock.set("2026-12-02T00:00:00.000Z")
            try await server.ingest(game: "runner", user: "cy", score: 70)
            #expect(try await Self.entries(server, "period=daily") == ["cy=70"])
            #expect(try await Self.entries(server, "period=2026-12-01") == ["ann=100", "bob=50"])
            #expect(try await Self.entries(server, "period=weekly") == ["ann=100", "cy=70", "bob=50"])
            #expect(try await Self.entries(server, "") == ["ann=100", "cy=70", "bob=50"])
            #expect(try await Self.entries(server, "period=all-time") == ["ann=100", "cy=70", "bob=50"])

            // The finished day is read-only: a better score now counts today and all-time only.
            try await server.ingest(game: "runner", user: "bob", score: 500)
            #expect(try await Self.entries(server, "period=2026-12-01") == ["ann=100", "bob=50"])
            #expect(try await Self.entries(server, "period=daily") == ["bob=500", "cy=70"])
            #expect(try await Self.entries(server, "") == ["bob=500", "ann=100", "cy=70"])

            // Reads of a period board say which period it is; ranks and around-me work on it.
            let page = try JSON.object(try await server.request(.get, "/api/leaderboards/runner?period=2026-12-01").body)
            #expect(page[string: "period"] == "2026-12-01" && page[string: "periodEndsAt"] == "2026-12-02T00:00:00.000Z")
            let player = try JSON.object(try await server.request(.get, "/api/leaderboards/runner/players/bob?period=2026-12-01").body)
            #expect(player[int: "globalRank"] == 2 && player[object: "entry"]?[int: "score"] == 50 && player[string: "period"] == "2026-12-01")
            let around = try JSON.object(try await server.request(.get, "/api/leaderboards/runner/around/cy?period=daily&radius=1").body)
            #expect(around[array: "entries"]?.map { $0[string: "userId"] } == ["bob", "cy"])
            let plain = try JSON.object(try await server.request(.get, "/api/leaderboards/runner").body)
            #expect(plain[string: "period"] == nil, "the all-time board's answer is as before")

            // Unknown periods, and games without periods.
            let unknown = try await server.request(.get, "/api/leaderboards/runner?period=monthly")
            #expect(unknown.status == .notFound && unknown.body.contains("PERIOD_NOT_FOUND"))
            #expect(try await server.request(.get, "/api/leaderboards/runner?period=2025-01-01").status == .notFound)
            #expect(try await server.request(.get, "/api/leaderboards/plain?period=daily").status == .notFound)
        }
    }

    @Test func thePeriodListShowsCurrentAndArchivedPeriodsAndKeepsOnlyTheLastArchives() async throws {
        let clock = ManualClock("2026-12-01T10:00:00Z")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await Self.run(clock: clock, in: directory) { server in
            for (day, user) in [("01", "a"), ("02", "b"), ("03", "c"), ("04", "d")] {
                if day == "03" {
                    // A snapshot while 2026-12-01 is still kept: its row must go once it is dropped.
                    await server.podium.follower.writeSnapshots()
                }
                clock.set("2026-12-\(day)T10:00:00Z")
                try await server.ingest(game: "runner", user: user, score: 10)
            }
            let list = try JSON.object(try await server.request(.get, "/api/games/runner/periods").body)
            let periods = list[array: "periods"] ?? []
            let daily = periods.filter { $0[string: "name"] == "daily" }
            #expect(daily.map { $0[string: "key"] } == ["2026-12-04", "2026-12-03", "2026-12-02"], "the current day and the last two")
            #expect(daily.map { $0[bool: "current"] } == [true, false, false])
            #expect(daily.first?[string: "startsAt"] == "2026-12-04T00:00:00.000Z" && daily.first?[int: "players"] == 1)
            #expect(periods.first?[string: "name"] == "all-time" && periods.first?[int: "players"] == 4)
            #expect(periods.filter { $0[string: "name"] == "weekly" }.map { $0[string: "key"] } == ["2026-W49"])
            #expect(try await server.request(.get, "/api/leaderboards/runner?period=2026-12-01").status == .notFound, "dropped")
            #expect(try await server.request(.get, "/api/games/nothing/periods").status == .notFound)
        }
        // The final snapshot holds the kept boards only: the dropped day's snapshot is deleted.
        let store = try SQLiteStore(path: directory.url.appendingPathComponent("podium.sqlite").path)
        #expect(try await store.snapshots().map(\.gameId).sorted() == [
            "plain", "runner", "runner@2026-12-02", "runner@2026-12-03", "runner@2026-12-04", "runner@2026-W49",
        ])
    }

    @Test func subscribersOfTheCurrentPeriodGetTheNewEmptyPeriodAtTheBoundary() async throws {
        let clock = ManualClock("2026-12-01T23:59:00Z")
        try await Self.run(clock: clock) { server in
            try await server.ingest(game: "runner", user: "ann", score: 100)
            let daily = try await LiveClient.connect(port: server.port)
            let allTime = try await LiveClient.connect(port: server.port)
            defer { [daily, allTime].forEach { $0.close() } }
            daily.send(#"{"type":"subscribe","gameId":"runner","period":"daily","scopes":["global"]}"#)
            allTime.send(#"{"type":"subscribe","gameId":"runner","scopes":["global"]}"#)
            let first = try await daily.nextMessage()[object: "payload"]
            #expect(first?[string: "period"] == "2026-12-01" && first?[array: "entries"]?.count == 1)
            _ = try await allTime.nextMessage()

            // A score today reaches both.
            try await server.ingest(game: "runner", user: "bob", score: 50)
            #expect(try await daily.nextMessage()[object: "payload"]?[array: "entries"]?.count == 2)
            #expect(try await allTime.nextMessage()[object: "payload"]?[array: "entries"]?.count == 2)

            // Midnight passes with no score: the daily subscriber gets the new, empty day.
            clock.set("2026-12-02T00:00:00.001Z")
            let reset = try await daily.nextMessage()[object: "payload"]
            #expect(reset?[string: "period"] == "2026-12-02" && reset?[array: "entries"]?.count == 0)
            try await server.ingest(game: "runner", user: "cy", score: 10)
            #expect(try await daily.nextMessage()[object: "payload"]?[array: "entries"]?.map { $0[string: "userId"] } == ["cy"])
            #expect(try await allTime.nextMessage()[object: "payload"]?[array: "entries"]?.count == 3, "all-time goes on")

            let wrong = try await LiveClient.connect(port: server.port)
            defer { wrong.close() }
            wrong.send(#"{"type":"subscribe","gameId":"runner","period":"2026-12-01","scopes":["global"]}"#)
            #expect(try await wrong.nextMessage()[string: "code"] == "VALIDATION_ERROR", "only current periods are live")
        }
    }

    @Test func aScheduleAddedToAGameCountsTheScoresAlreadyAcceptedInItsPeriods() async throws {
        let clock = ManualClock("2026-12-01T09:00:00Z")
        try await Self.run(clock: clock) { server in
            try await server.ingest(game: "plain", user: "ann", score: 30)
            clock.set("2026-12-02T09:00:00Z")
            try await server.ingest(game: "plain", user: "bob", score: 20)
            let admin = try await server.signInAsAdmin()
            let edit = #"{"id":"plain","name":"Plain","operator":"best","topN":10,"periods":["all-time","daily"],"keepArchives":3}"#
            let answer = try await server.request(.put, "/api/admin/games/plain", json: edit, token: admin)
            #expect(answer.status == .ok, "\(answer.body)")
            let today = try JSON.object(try await server.request(.get, "/api/leaderboards/plain?period=daily").body)
            #expect(today[array: "entries"]?.map { $0[string: "userId"] } == ["bob"])
            let yesterday = try JSON.object(try await server.request(.get, "/api/leaderboards/plain?period=2026-12-01").body)
            #expect(yesterday[array: "entries"]?.map { $0[string: "userId"] } == ["ann"])
        }
    }

    @Test func anExportNamesItsPeriod() async throws {
        let clock = ManualClock("2026-12-01T09:00:00Z")
        try await Self.run(clock: clock) { server in
            try await server.ingest(game: "runner", user: "ann", score: 30)
            clock.set("2026-12-02T09:00:00Z")
            try await server.ingest(game: "runner", user: "bob", score: 20)
            let admin = try await server.signInAsAdmin()
            let export = try await server.request(.get, "/api/admin/games/runner/export?format=json&period=2026-12-01", token: admin)
            let header = try JSON.object(export.body)
            #expect(header[string: "period"] == "2026-12-01" && header[int: "players"] == 1, "\(export.body)")
            let csv = try await server.request(.get, "/api/admin/games/runner/export?period=daily", token: admin)
            #expect(csv.body.split(separator: "\n").count == 2 && csv.body.contains("bob"), "\(csv.body)")
            #expect(try await server.request(.get, "/api/admin/games/runner/export?period=2026-11-01", token: admin).status == .notFound)
        }
    }

    @Test(arguments: [false, true])
    func periodBoardsComeBackIdenticalAfterARestart(keepingSnapshots: Bool) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock("2026-12-06T22:00:00Z")
        var before = ""
        try await Self.run(clock: clock, in: directory) { server in
            for (index, time) in ["2026-12-06T22:00:00Z", "2026-12-06T23:59:59.999Z", "2026-12-07T00:00:00Z", "2026-12-07T09:00:00Z"].enumerated() {
                clock.set(time)
                try await server.ingest(game: "runner", user: "p\(index % 3)", score: Int64(10 * (index + 1)))
            }
            before = try await Self.boards(server)
        }
        let store = try SQLiteStore(path: directory.url.appendingPathComponent("podium.sqlite").path)
        let snapshots = try await store.snapshots().map(\.gameId).sorted()
        #expect(snapshots == ["plain", "runner", "runner@2026-12-06", "runner@2026-12-07", "runner@2026-W49", "runner@2026-W50"])
        // Without snapshots the boards come from the log alone, a day later by the clock:
        // the periods are those the scores were accepted in, not the clock's.
        if !keepingSnapshots { try await store.pool.write { try $0.execute(sql: "DELETE FROM board_snapshots") } }
        clock.set("2026-12-07T09:30:00Z")
        try await Self.run(clock: clock, in: directory) { (server: TestServer) async throws in
            #expect(try await Self.boards(server) == before)
            #expect(try await Self.entries(server, "period=2026-12-06") == ["p1=20", "p0=10"])
            #expect(try await Self.entries(server, "period=2026-W49") == ["p1=20", "p0=10"], "the week ended on Sunday")
            #expect(try await Self.entries(server, "period=weekly") == ["p0=40", "p2=30"])
        }
    }

    @Test func periodBoardsAgreeWithANaiveFoldOfTheirScores() async throws {
        var random = SeededGenerator(seed: 0x5EA5_0A51)
        let clock = ManualClock("2026-11-27T20:00:00Z")
        var time = Timestamp.parse("2026-11-27T20:00:00Z")!
        let scores = Array(Int64(1)...600).shuffled(using: &random)  // distinct: no ties to break
        var accepted: [(user: String, score: Int64, at: Int64)] = []
        try await Self.run(clock: clock) { server in
            for score in scores.prefix(150) {
                time += Int64.random(in: 0..<(3 * 3_600_000), using: &random)  // about a week in all
                clock.set(milliseconds: time)
                let user = "p\(Int.random(in: 0..<12, using: &random))"
                try await server.ingest(game: "runner", user: user, score: score)
                accepted.append((user, score, time))
            }
            // The naive model: each player's best of the scores accepted in the period.
            func model(_ schedule: PeriodSchedule?, _ key: String?) -> [String] {
                var best: [String: Int64] = [:]
                for score in accepted where schedule == nil || schedule!.period(containing: score.at)?.key == key {
                    best[score.user] = max(best[score.user] ?? 0, score.score)
                }
                return best.sorted { $0.value > $1.value }.map { "\($0.key)=\($0.value)" }
            }
            var boards: [(PeriodSchedule?, String?)] = [(nil, nil)]
            for schedule in [PeriodSchedule.daily, .weekly] {
                let kept = Set(accepted.compactMap { schedule.period(containing: $0.at) }).sorted { $0.start > $1.start }
                // The current period and the two kept archives.
                boards += kept.prefix(3).map { (schedule, $0.key) }
            }
            #expect(boards.count == 7)
            for (schedule, key) in boards {
                // Read in pages of 5 through the cursors; ranks run 1, 2, 3, …
                var read: [String] = []
                var cursor: String?
                repeat {
                    let query = "limit=5&period=\(key ?? "all-time")" + (cursor.map { "&cursor=\($0)" } ?? "")
                    let page = try JSON.object(try await server.request(.get, "/api/leaderboards/runner?\(query)").body)
                    let entries = page[array: "entries"] ?? []
                    #expect(entries.map { $0[int: "rank"] ?? 0 } == Array((read.count + 1)..<(read.count + 1 + entries.count)), "\(query)")
                    read += entries.map { "\($0[string: "userId"]!)=\($0[int: "score"]!)" }
                    cursor = page[string: "nextCursor"]
                } while cursor != nil
                #expect(read == model(schedule, key), "\(key ?? "all-time")")
            }
        }
    }

    /// Every board's fingerprint, period boards included.
    static func boards(_ server: TestServer) async throws -> String {
        let token = try await server.signInAsAdmin()
        let answer = try JSON.object(try await server.request(.get, "/api/admin/boards", token: token).body)
        return (answer[array: "boards"] ?? []).map { "\($0[string: "gameId"]!)@\($0[string: "period"] ?? "-"):\($0[string: "sha256"]!)" }
            .joined(separator: " ")
    }
}
