@testable import PodiumEngine

/// The obvious implementation of a board: a dictionary of players, sorted on every read.
/// The property tests check the engine against it.
struct NaiveBoard {
    let configuration: BoardConfiguration
    var players: [String: PlayerRecord] = [:]

    func precedes(_ a: PlayerRecord, _ b: PlayerRecord) -> Bool {
        let scoreA = configuration.sortScore(a.score)
        let scoreB = configuration.sortScore(b.score)
        if scoreA != scoreB { return scoreA < scoreB }
        if a.achievedAt != b.achievedAt { return a.achievedAt < b.achievedAt }
        return a.userId.utf8.lexicographicallyPrecedes(b.userId.utf8)
    }

    mutating func apply(_ event: ScoreEvent) throws(BoardError) {
        if let maxScore = configuration.maxScore, event.score > maxScore {
            throw .scoreOutOfRange(score: event.score, maxScore: maxScore)
        }
        guard var record = players[event.userId] else {
            players[event.userId] = PlayerRecord(
                userId: event.userId, displayName: event.displayName, countryCode: event.countryCode,
                score: event.score, achievedAt: event.achievedAt
            )
            return
        }
        switch configuration.scoreOperator {
        case .best:
            let candidate = PlayerRecord(
                userId: record.userId, displayName: "", countryCode: nil, score: event.score, achievedAt: event.achievedAt
            )
            if precedes(candidate, record) {
                record.score = event.score
                record.achievedAt = event.achievedAt
            }
        case .incr:
            let (total, overflow) = record.score.addingReportingOverflow(event.score)
            if overflow { throw .scoreOverflow(current: record.score, increment: event.score) }
            record.score = total
            record.achievedAt = event.achievedAt
        case .set:
            record.score = event.score
            record.achievedAt = event.achievedAt
        }
        if !event.displayName.isEmpty { record.displayName = event.displayName }
        if let country = event.countryCode { record.countryCode = country }
        players[event.userId] = record
    }

    func sorted(_ partition: Partition) -> [RankedEntry] {
        let members = players.values.filter { record in
            switch partition {
            case .global: true
            case .local(let country): record.countryCode == country
            }
        }
        return members.sorted(by: precedes).enumerated().map { RankedEntry(rank: $0.offset + 1, record: $0.element) }
    }

    var partitions: [Partition] {
        [.global] + Set(players.values.compactMap(\.countryCode)).sorted().map { .local($0) }
    }
}
