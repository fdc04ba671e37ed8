import Testing

@testable import PodiumEngine

/// Random event sequences applied to the engine and to ``NaiveBoard`` must agree on every
/// rank, page, cursor walk, around-me window and reported change.
@Suite("Board agrees with a naive sorted model")
struct BoardPropertyTests {
    static let countries: [CountryCode?] = [nil, CountryCode("GB"), CountryCode("US"), CountryCode("FR")]

    @Test("small boards, checked after every event", arguments: ScoreOperator.allCases, SortOrder.allCases)
    func smallBoards(scoreOperator: ScoreOperator, sortOrder: SortOrder) throws {
        for sequence in 0..<200 {
            // Seeds from stable numbers only (not hashValue, which changes per process), so
            // a failing case replays.
            let variant = ScoreOperator.allCases.firstIndex(of: scoreOperator)! * 2 + SortOrder.allCases.firstIndex(of: sortOrder)!
            var generator = SeededGenerator(seed: UInt64(sequence) &* 7919 &+ UInt64(variant))
            try run(
                scoreOperator: scoreOperator, sortOrder: sortOrder, seed: sequence, players: Int.random(in: 1...40, using: &generator),
                events: 60, checkEvery: 1, using: &generator
            )
        }
    }

    @Test("multi-level trees, checked every few events", arguments: ScoreOperator.allCases, SortOrder.allCases)
    func largeBoards(scoreOperator: ScoreOperator, sortOrder: SortOrder) throws {
        for sequence in 0..<4 {
            var generator = SeededGenerator(seed: 1_000_003 &* UInt64(sequence + 1))
            try run(
                scoreOperator: scoreOperator, sortOrder: sortOrder, seed: sequence, players: 400, events: 2500, checkEvery: 250,
                using: &generator
            )
        }
    }

    private func run(
        scoreOperator: ScoreOperator, sortOrder: SortOrder, seed: Int, players playerCount: Int, events: Int, checkEvery: Int,
        using generator: inout SeededGenerator
    ) throws {
        let configuration = BoardConfiguration(
            sortOrder: sortOrder, scoreOperator: scoreOperator, maxScore: Bool.random(using: &generator) ? nil : 15,
            topN: Int.random(in: 1...5, using: &generator)
        )
        let nodeWidth = [8, 8, 12, 64].randomElement(using: &generator)!
        let board = Board(configuration: configuration, nodeWidth: nodeWidth)
        var model = NaiveBoard(configuration: configuration)
        let userIds = (0..<playerCount).map { index in
            ["p\(index)", "P\(index)", "é\(index)", "p\(index)x", "\(index)"][index % 5]
        }
        for step in 0..<events {
            let context = "seed \(seed) step \(step) width \(nodeWidth) \(configuration)"
            let userId = userIds.randomElement(using: &generator)!
            if Int.random(in: 0..<20, using: &generator) == 0 {
                let expected = model.players[userId] == nil ? nil : ranks(of: userId, in: model)
                let change = board.remove(userId: userId)
                model.players[userId] = nil
                #expect((change == nil) == (expected == nil), "\(context)")
                if let change, let expected {
                    #expect(change.change(in: .global)?.previousRank == expected.global, "\(context)")
                    #expect(change.current == nil, "\(context)")
                }
            } else {
                let event = randomEvent(for: userId, using: &generator)
                try applyAndCompare(event, board: board, model: &model, context: context)
            }
            if step % checkEvery == 0 || step == events - 1 {
                try compare(board, model, context: context, using: &generator)
            }
        }
        let restored = try Board(configuration: configuration, snapshot: board.snapshot(), nodeWidth: nodeWidth)
        #expect(restored.snapshot() == board.snapshot(), "seed \(seed): snapshot round trip")
        try compare(restored, model, context: "seed \(seed) restored", using: &generator)
    }

    private func randomEvent(for userId: String, using generator: inout SeededGenerator) -> ScoreEvent {
        let score: Int64 =
            switch Int.random(in: 0..<40, using: &generator) {
            case 0: Int64.max - Int64.random(in: 0...3, using: &generator)
            case 1: Int64.min + Int64.random(in: 0...3, using: &generator)
            default: Int64.random(in: -3...20, using: &generator)
            }
        return ScoreEvent(
            userId: userId,
            displayName: Bool.random(using: &generator) ? "" : "name\(Int.random(in: 0...3, using: &generator))",
            countryCode: Self.countries.randomElement(using: &generator)!,
            score: score,
            achievedAt: Int64.random(in: 0...8, using: &generator)
        )
    }

    private func ranks(of userId: String, in model: NaiveBoard) -> (global: Int, local: Int?) {
        let global = model.sorted(.global).first { $0.userId == userId }!.rank
        guard let country = model.players[userId]?.countryCode else { return (global, nil) }
        return (global, model.sorted(.local(country)).first { $0.userId == userId }!.rank)
    }

    private func applyAndCompare(_ event: ScoreEvent, board: Board, model: inout NaiveBoard, context: String) throws {
        let before = model.players[event.userId]
        let previousRanks = before == nil ? nil : ranks(of: event.userId, in: model)
        let versionBefore = board.version
        var modelError: BoardError?
        do { try model.apply(event) } catch { modelError = error }
        let outcome = Result { () throws(BoardError) in try board.apply(event) }
        switch outcome {
        case .failure(let error):
            #expect(modelError == error, "\(context): engine threw \(error), model \(String(describing: modelError))")
        case .success(let change):
            #expect(modelError == nil, "\(context): engine accepted what the model refused")
            let after = model.players[event.userId]
            #expect(change.previous == before && change.current == after, "\(context)")
            guard change.isEffective else {
                #expect(board.version == versionBefore && change.partitions.isEmpty, "\(context)")
                return
            }
            #expect(board.version == versionBefore + 1, "\(context)")
            let newRanks = ranks(of: event.userId, in: model)
            let global = try #require(change.change(in: .global))
            #expect(global.previousRank == previousRanks?.global && global.newRank == newRanks.global, "\(context)")
            let topN = board.configuration.topN
            #expect(global.topChanged == ((previousRanks.map { $0.global <= topN } ?? false) || newRanks.global <= topN), "\(context)")
            if let old = before?.countryCode, old != after?.countryCode {
                let left = try #require(change.change(in: .local(old)), "\(context)")
                #expect(left.previousRank == previousRanks?.local && left.newRank == nil, "\(context)")
            }
            if let country = after?.countryCode {
                let local = try #require(change.change(in: .local(country)), "\(context)")
                let previousLocal = before?.countryCode == country ? previousRanks?.local : nil
                #expect(local.previousRank == previousLocal && local.newRank == newRanks.local, "\(context)")
            }
        }
    }

    private func compare(_ board: Board, _ model: NaiveBoard, context: String, using generator: inout SeededGenerator) throws {
        #expect(treeViolation(in: board) == nil, "\(context): \(treeViolation(in: board) ?? "")")
        #expect(board.playerCount == model.players.count, "\(context)")
        #expect(board.countries.map { Partition.local($0) } == Array(model.partitions.dropFirst()), "\(context)")
        var expectedRanks: [String: (global: Int, local: Int?)] = [:]
        for partition in model.partitions + [.local(CountryCode("JP")!)] {
            let expected = model.sorted(partition)
            for entry in expected {
                if partition == .global { expectedRanks[entry.userId] = (entry.rank, nil) } else { expectedRanks[entry.userId]?.local = entry.rank }
            }
            #expect(board.count(in: partition) == expected.count, "\(context) \(partition)")
            #expect(board.entries(in: partition, fromRank: 1, limit: expected.count + 3) == expected, "\(context) \(partition)")
            #expect(expected.map { board.entry(of: $0.userId, in: partition) } == expected, "\(context) \(partition)")
            let limit = Int.random(in: 1...6, using: &generator)
            #expect(board.top(partition, limit: limit) == Array(expected.prefix(limit)), "\(context) \(partition)")
            if let player = expected.randomElement(using: &generator) {
                let radius = Int.random(in: 0...4, using: &generator)
                let window = expected[max(0, player.rank - 1 - radius)..<min(expected.count, player.rank + radius)]
                #expect(board.around(player.userId, in: partition, radius: radius) == Array(window), "\(context) \(partition)")
            }
            var walked: [RankedEntry] = []
            var cursor: String?
            repeat {
                let page = try board.page(partition, limit: Int.random(in: 1...7, using: &generator), after: cursor)
                walked += page.entries
                cursor = page.nextCursor
            } while cursor != nil && walked.count <= expected.count
            #expect(walked == expected, "\(context) \(partition): cursor walk")
        }
        let standings = model.players.keys.sorted().map { board.standing(of: $0) }
        let expectedStandings = model.players.keys.sorted().map { expectedRanks[$0]! }
        #expect(standings.map { $0?.entry.rank } == expectedStandings.map(\.global), "\(context)")
        #expect(standings.map { $0?.localRank } == expectedStandings.map(\.local), "\(context)")
    }
}
