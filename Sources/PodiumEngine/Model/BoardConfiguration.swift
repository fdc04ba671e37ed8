/// Which scores rank first.
public enum SortOrder: String, Sendable, Codable, CaseIterable {
    /// Higher scores first (points).
    case desc
    /// Lower scores first (times).
    case asc
}

/// How a new score combines with the player's current one.
public enum ScoreOperator: String, Sendable, Codable, CaseIterable {
    /// Keep the better of the two (runs).
    case best
    /// Add the new score to the current one (action points).
    case incr
    /// Keep the latest score.
    case set
}

/// The ranking rules of one game's board.
public struct BoardConfiguration: Sendable, Equatable {
    public var sortOrder: SortOrder
    public var scoreOperator: ScoreOperator
    /// The largest score one event may carry; nil for no limit.
    public var maxScore: Int64?
    /// How many leading entries make up a partition's live "top" view.
    public var topN: Int

    public init(sortOrder: SortOrder = .desc, scoreOperator: ScoreOperator = .best, maxScore: Int64? = nil, topN: Int = 10) {
        self.sortOrder = sortOrder
        self.scoreOperator = scoreOperator
        self.maxScore = maxScore
        self.topN = topN
    }

    /// The score mapped so that smaller is better: `~score` is order-reversing and,
    /// unlike negation, defined for every Int64.
    @inline(__always)
    func sortScore(_ score: Int64) -> Int64 {
        sortOrder == .desc ? ~score : score
    }
}
