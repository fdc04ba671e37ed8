import Testing

@testable import PodiumEngine

@Suite("Board edge cases")
struct BoardEdgeCaseTests {
    let gb = CountryCode("GB")!
    let us = CountryCode("US")!

    func event(_ userId: String, _ score: Int64, at time: Int64 = 0, country: CountryCode? = nil) -> ScoreEvent {
        ScoreEvent(userId: userId, displayName: "Name \(userId)", countryCode: country, score: score, achievedAt: time)
    }

    @Test func emptyBoard() throws {
        let board = Board(configuration: BoardConfiguration())
        #expect(board.playerCount == 0)
        #expect(board.count(in: .global) == 0)
        #expect(board.top(.global, limit: 10).isEmpty)
        let page = try board.page(.global, limit: 10)
        #expect(page.entries.isEmpty && page.nextCursor == nil && page.total == 0)
        #expect(board.standing(of: "nobody") == nil)
        #expect(board.around("nobody", in: .global, radius: 5) == nil)
        #expect(board.remove(userId: "nobody") == nil)
        #expect(board.countries.isEmpty)
        #expect(try Board(configuration: BoardConfiguration(), snapshot: board.snapshot()).playerCount == 0)
    }

    @Test func onePlayer() throws {
        let board = Board(configuration: BoardConfiguration())
        let change = try board.apply(event("solo", 42, country: gb))
        #expect(change.change(in: .global) == PartitionChange(partition: .global, previousRank: nil, newRank: 1, topChanged: true))
        #expect(change.change(in: .local(gb))?.newRank == 1)
        let standing = try #require(board.standing(of: "solo"))
        #expect(standing.entry.rank == 1 && standing.entry.score == 42 && standing.localRank == 1)
        #expect(board.around("solo", in: .global, radius: 5)?.map(\.userId) == ["solo"])
        #expect(try board.page(.global, limit: 1).nextCursor == nil)
    }

    @Test func allPlayersTiedRankByTimeThenUserId() throws {
        let board = Board(configuration: BoardConfiguration())
        for userId in ["c", "a", "b", "aa", "B"] { try board.apply(event(userId, 100, at: 5)) }
        try board.apply(event("late", 100, at: 6))
        try board.apply(event("early", 100, at: 4))
        #expect(board.top(.global, limit: 10).map(\.userId) == ["early", "B", "a", "aa", "b", "c", "late"])
        #expect(board.top(.global, limit: 10).map(\.rank) == Array(1...7))
    }

    @Test func ascendingOrderRanksLowestFirst() throws {
        let board = Board(configuration: BoardConfiguration(sortOrder: .asc))
        try board.apply(event("slow", 90_000))
        try board.apply(event("fast", 61_500))
        try board.apply(event("slow", 95_000, at: 1))
        #expect(board.top(.global, limit: 10).map(\.userId) == ["fast", "slow"])
        #expect(board.standing(of: "slow")?.entry.score == 90_000)
        try board.apply(event("slow", 60_000, at: 2))
        #expect(board.top(.global, limit: 10).map(\.userId) == ["slow", "fast"])
    }

    @Test func extremeScoresStayExact() throws {
        let board = Board(configuration: BoardConfiguration())
        try board.apply(event("max", Int64.max))
        try board.apply(event("min", Int64.min))
        try board.apply(event("big", 9_007_199_254_740_993))
        #expect(board.top(.global, limit: 3).map(\.score) == [Int64.max, 9_007_199_254_740_993, Int64.min])
    }

    @Test func incrementOverflowIsRefusedAndChangesNothing() throws {
        let board = Board(configuration: BoardConfiguration(scoreOperator: .incr))
        try board.apply(event("p", Int64.max - 1))
        #expect(throws: BoardError.scoreOverflow(current: Int64.max - 1, increment: 2)) { try board.apply(event("p", 2, at: 1)) }
        #expect(board.standing(of: "p")?.entry.score == Int64.max - 1)
        #expect(board.version == 1)
        try board.apply(event("p", 1, at: 2))
        #expect(board.standing(of: "p")?.entry.score == Int64.max)
    }

    @Test func scoreAboveMaximumIsRefused() throws {
        let board = Board(configuration: BoardConfiguration(maxScore: 1000))
        #expect(throws: BoardError.scoreOutOfRange(score: 1001, maxScore: 1000)) { try board.apply(event("p", 1001)) }
        #expect(board.playerCount == 0)
        try board.apply(event("p", 1000))
        #expect(board.playerCount == 1)
    }

    @Test func setOperatorKeepsLatest() throws {
        let board = Board(configuration: BoardConfiguration(scoreOperator: .set))
        try board.apply(event("p", 500))
        try board.apply(event("p", 20, at: 1))
        #expect(board.standing(of: "p")?.entry.score == 20)
    }

    @Test func worseScoreOnBestBoardChangesNothing() throws {
        let board = Board(configuration: BoardConfiguration())
        try board.apply(event("p", 500))
        let change = try board.apply(ScoreEvent(userId: "p", displayName: "", score: 100, achievedAt: 9))
        #expect(!change.isEffective && change.partitions.isEmpty && board.version == 1)
    }

    @Test func snapshotRoundTripIsByteIdentical() throws {
        let configuration = BoardConfiguration(scoreOperator: .incr, topN: 3)
        let board = Board(configuration: configuration)
        for index in 0..<5000 {
            try board.apply(event("user\(index % 1200)", Int64(index % 37), at: Int64(index), country: [gb, us, nil][index % 3]))
        }
        board.remove(userId: "user7")
        let bytes = board.snapshot()
        let restored = try Board(configuration: configuration, snapshot: bytes)
        #expect(restored.snapshot() == bytes)
        #expect(restored.version == board.version)
        #expect(restored.topVersion(of: .local(gb)) == board.topVersion(of: .local(gb)))
        #expect(restored.top(.local(us), limit: 50) == board.top(.local(us), limit: 50))
        #expect(restored.standing(of: "user100") == board.standing(of: "user100"))
        try restored.apply(event("user100", 5, at: 99_999))
        try board.apply(event("user100", 5, at: 99_999))
        #expect(restored.snapshot() == board.snapshot())
    }

    @Test func damagedSnapshotsAreRefused() throws {
        let board = Board(configuration: BoardConfiguration())
        try board.apply(event("a", 1))
        try board.apply(event("b", 2))
        let bytes = board.snapshot()
        #expect(throws: BoardError.self) { try Board(configuration: BoardConfiguration(), snapshot: Array(bytes.dropLast())) }
        #expect(throws: BoardError.self) { try Board(configuration: BoardConfiguration(), snapshot: bytes + [0]) }
        #expect(throws: BoardError.self) { try Board(configuration: BoardConfiguration(), snapshot: Array("garbage".utf8)) }
        #expect(throws: BoardError.invalidSnapshot("taken under another sort order")) {
            try Board(configuration: BoardConfiguration(sortOrder: .asc), snapshot: bytes)
        }
    }

    @Test func removingTheLeaderPromotesTheRunnerUp() throws {
        let board = Board(configuration: BoardConfiguration(topN: 2))
        try board.apply(event("leader", 300, country: gb))
        try board.apply(event("second", 200, country: gb))
        try board.apply(event("third", 100))
        let change = try #require(board.remove(userId: "leader"))
        #expect(change.change(in: .global) == PartitionChange(partition: .global, previousRank: 1, newRank: nil, topChanged: true))
        #expect(change.change(in: .local(gb))?.previousRank == 1)
        #expect(board.top(.global, limit: 10).map(\.userId) == ["second", "third"])
        #expect(board.standing(of: "second")?.localRank == 1)
        #expect(board.standing(of: "leader") == nil)
    }

    @Test func changingCountryMovesBetweenLocalPartitions() throws {
        let board = Board(configuration: BoardConfiguration())
        try board.apply(event("mover", 50, country: gb))
        try board.apply(event("stayer", 10, country: gb))
        let change = try board.apply(ScoreEvent(userId: "mover", displayName: "", countryCode: us, score: 1, achievedAt: 1))
        #expect(change.change(in: .local(gb)) == PartitionChange(partition: .local(gb), previousRank: 1, newRank: nil, topChanged: true))
        #expect(change.change(in: .local(us)) == PartitionChange(partition: .local(us), previousRank: nil, newRank: 1, topChanged: true))
        #expect(board.top(.local(gb), limit: 10).map(\.userId) == ["stayer"])
        #expect(board.top(.local(us), limit: 10).map(\.userId) == ["mover"])
        #expect(board.standing(of: "mover")?.entry.score == 50)
        try board.apply(ScoreEvent(userId: "stayer", displayName: "", countryCode: us, score: 1, achievedAt: 1))
        #expect(board.countries == [us])
    }

    @Test func changesBelowTheTopDoNotTouchIt() throws {
        let board = Board(configuration: BoardConfiguration(topN: 2))
        for (index, score) in [100, 90, 80, 70].enumerated() { try board.apply(event("p\(index)", Int64(score))) }
        let versionOfTop = board.topVersion(of: .global)
        let change = try board.apply(event("p3", 85, at: 1))
        #expect(change.change(in: .global) == PartitionChange(partition: .global, previousRank: 4, newRank: 3, topChanged: false))
        #expect(board.topVersion(of: .global) == versionOfTop)
        #expect(try board.apply(event("p3", 95, at: 2)).change(in: .global)?.topChanged == true)
        #expect(board.topVersion(of: .global) == board.version)
    }

    @Test func cursorWalkReturnsEveryPlayerOnce() throws {
        let board = Board(configuration: BoardConfiguration())
        for index in 0..<20_000 { try board.apply(event("u\(index)", Int64(index % 101), at: Int64(index % 7))) }
        var walked: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try board.page(.global, limit: 97, after: cursor)
            walked += page.entries.map(\.userId)
            cursor = page.nextCursor
            pages += 1
        } while cursor != nil
        #expect(walked.count == 20_000)
        #expect(Set(walked).count == 20_000)
        #expect(pages == (20_000 + 96) / 97)
    }

    @Test func invalidCursorsAreRefused() throws {
        let board = Board(configuration: BoardConfiguration())
        try board.apply(event("a", 1))
        for cursor in ["", "!!!", "AAAA", "x", Base64URL.encode([1, 2, 3])] {
            #expect(throws: BoardError.invalidCursor) { try board.page(.global, limit: 5, after: cursor) }
        }
    }

    @Test func countryCodesAreTwoLetters() {
        #expect(CountryCode("gb")?.description == "GB")
        #expect(CountryCode("GBR") == nil)
        #expect(CountryCode("G1") == nil)
        #expect(CountryCode("") == nil)
        #expect(CountryCode(rawValue: 0) == nil)
    }

    @Test func base64URLRoundTrips() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
    }
}
