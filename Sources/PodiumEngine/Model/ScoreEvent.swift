/// One accepted score for one player, as it is written to the event log.
public struct ScoreEvent: Sendable, Equatable {
    public var userId: String
    /// The name shown on the board; an empty name keeps the current one.
    public var displayName: String
    /// The player's country; nil keeps the current one.
    public var countryCode: CountryCode?
    /// The score (for `incr` boards, the points to add).
    public var score: Int64
    /// When the score was achieved, in milliseconds since 1970 (UTC).
    public var achievedAt: Int64

    public init(userId: String, displayName: String, countryCode: CountryCode? = nil, score: Int64, achievedAt: Int64) {
        self.userId = userId
        self.displayName = displayName
        self.countryCode = countryCode
        self.score = score
        self.achievedAt = achievedAt
    }
}

/// A player's current standing data, without ranks.
public struct PlayerRecord: Sendable, Equatable {
    public var userId: String
    public var displayName: String
    public var countryCode: CountryCode?
    public var score: Int64
    /// Milliseconds since 1970 (UTC) at which ``score`` was reached.
    public var achievedAt: Int64
}

/// One row of a leaderboard (seed 000's `LeaderboardEntry`).
public struct RankedEntry: Sendable, Equatable {
    /// 1-based rank in the partition the entry was read from.
    public var rank: Int
    public var userId: String
    public var displayName: String
    public var countryCode: CountryCode?
    public var score: Int64
    /// Milliseconds since 1970 (UTC).
    public var achievedAt: Int64

    public init(rank: Int, record: PlayerRecord) {
        self.rank = rank
        self.userId = record.userId
        self.displayName = record.displayName
        self.countryCode = record.countryCode
        self.score = record.score
        self.achievedAt = record.achievedAt
    }
}
