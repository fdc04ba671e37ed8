import Hummingbird
import PodiumEngine

/// The settings of the contracts of specs 001-004 where their specs disagree with each
/// other or with Podium's own defaults (docs/compatibility.md lists which is whose).
public struct ContractConfiguration: Sendable {
    /// Spec 001: action starts (`POST /users/:userId/actions`) per user per minute.
    public var actionStartsPerMinute = 10
    /// Spec 001: action completions (`PUT /users/:userId/actions/:actionId`) per user per
    /// minute.
    public var actionCompletionsPerMinute = 30
    /// Spec 003: HS256 key of score tokens (`SCORE_TOKEN_SECRET`), at least 32 bytes; nil
    /// makes a random one per start (a fleet needs it set, so every instance redeems).
    public var scoreTokenSecret: String?
    /// Spec 003: seconds a score token stays valid.
    public var scoreTokenLifetime = 60
    /// Spec 003: score tokens issued (`POST /api/v1/actions/complete`) per user per minute.
    public var scoreTokensPerMinute = 10

    public init() {}
}

/// The board every contract of specs 001-004 reads and credits: the registry's
/// `defaultGame` (seed 004's `GET /api/leaderboard`), so all of them show one board.
struct ContractBoard: Sendable {
    let leaderboards: LeaderboardService

    /// The contract game.
    func game() throws(APIError) -> Game {
        guard let gameId = leaderboards.defaultGame else { throw APIError.notFound("No games are configured.") }
        return try leaderboards.game(gameId)
    }

    /// The catalogue entry of `actionId` in the contract game.
    func action(_ actionId: String) throws(APIError) -> (Game, GameAction) {
        let game = try game()
        guard let action = game.actions.first(where: { $0.id == actionId }) else { throw APIError.invalidAction(actionId) }
        return (game, action)
    }

    /// `[{rank, <userId>, username, score, <avatarUrl>: null}]`, with the key names of
    /// specs 002 (`user_id`, `avatar_url`) or 003 (`userId`, `avatarUrl`). Podium keeps no
    /// avatars.
    static func writeEntries(_ entries: ArraySlice<RankedEntry>, userId: String, avatarUrl: String, to json: inout JSONWriter) {
        json.beginArray()
        for entry in entries {
            json.beginObject()
            json.field("rank", Int64(entry.rank))
            json.field(userId, entry.userId)
            json.field("username", entry.displayName)
            json.field("score", entry.score)
            json.nullField(avatarUrl)
            json.endObject()
        }
        json.endArray()
    }

    /// The player's standing on the contract board.
    func standing(of userId: String) throws(APIError) -> PlayerStanding? {
        try leaderboards.standing(try game().id, userId: userId)
    }
}

extension LeaderboardView {
    /// The entries a contract shows: the first 10 of the top N.
    var contractEntries: ArraySlice<RankedEntry> { entries.prefix(LiveDialect.contractTopCount) }
}
