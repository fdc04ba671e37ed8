import Hummingbird
import NIOCore
import PodiumEngine

/// Spec 002 (live scoreboard API): `POST /api/v1/scores/update {action_type,
/// score_increment}`, `GET /api/v1/leaderboard/top10`, and the `leaderboard_update`
/// messages of `/ws/leaderboard` (``LiveDialect/spec002``). Its answers are
/// `{success, data, timestamp}`; errors under `/api/v1/` carry `"success": false`
/// (``RequestMiddleware``).
///
/// The server stays authoritative: the increment must be what the catalogue gives the
/// action type, and the points logged are the catalogue's.
struct LiveScoreboardContract {
    let board: ContractBoard
    let actions: ActionController
    let bans: BanList
    let submissions: RateLimiter

    func addRoutes(to router: Router<PodiumRequestContext>) {
        router.get("api/v1/leaderboard/top10", use: top10)
    }

    /// `{success, data: {leaderboard: [{rank, user_id, username, score, avatar_url}],
    /// last_updated, cache_ttl}}`. The board is live, never a cached copy: `cache_ttl` is 0.
    @Sendable func top10(_ request: Request, context: PodiumRequestContext) throws -> Response {
        .json(try board.leaderboards.encodedFirstPage(.top10))
    }

    /// The body of `GET /api/v1/leaderboard/top10` showing `view`.
    static func top10(_ view: LeaderboardView) -> ByteBuffer {
        var json = JSONWriter(capacity: 128 + view.contractEntries.count * 120)
        json.beginObject()
        json.field("success", true)
        json.key("data")
        json.beginObject()
        Self.writeLeaderboard(view, to: &json)
        json.field("last_updated", view.updatedAt)
        json.field("cache_ttl", Int64(0))
        json.endObject()
        json.endObject()
        return json.buffer
    }

    /// Spec 002's score update (``ScoreUpdateRoute`` tells it from spec 003's by its body).
    func update(actionType: String, increment: Int64?, context: PodiumRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try bans.check(identity)
        try await submissions.take(identity.userId)
        let (game, action) = try board.action(actionType)
        guard let increment else { throw APIError.validation("score_increment is missing.") }
        guard increment == action.points else {
            throw APIError.validation("score_increment \(increment) is not what '\(actionType)' earns: \(action.points).")
        }
        guard !action.requiresRun else { throw APIError.validation("Action '\(actionType)' needs a run: POST /api/actions/complete.") }
        let before = try board.standing(of: identity.userId)
        let result = try await actions.record(action, of: game, for: identity, sessionTokenHash: nil)
        let newScore = result.standing?.entry.score ?? action.points
        let rank = Int64(result.standing?.entry.rank ?? 0)
        var json = JSONWriter()
        json.beginObject()
        json.field("success", true)
        json.key("data")
        json.beginObject()
        json.field("user_id", identity.userId)
        json.field("previous_score", newScore - action.points)
        json.field("new_score", newScore)
        // Places gained; a player new to the board gained none.
        json.field("rank_change", before.map { Int64($0.entry.rank) - rank } ?? 0)
        json.field("current_rank", rank)
        json.endObject()
        json.field("timestamp", Timestamp.now())
        json.endObject()
        return .json(json.buffer)
    }

    private static func writeLeaderboard(_ view: LeaderboardView, to json: inout JSONWriter) {
        json.key("leaderboard")
        ContractBoard.writeEntries(view.contractEntries, userId: "user_id", avatarUrl: "avatar_url", to: &json)
    }

    /// `{"type":"leaderboard_update","data":{"leaderboard":[…],"changes":[…]},"timestamp":ms}`:
    /// `changes` lists the players of the top 10 whose rank or score moved since the last
    /// update (`previous_rank`/`current_rank` null when they entered or left it).
    static func leaderboardUpdate(_ view: LeaderboardView, previous: [RankedEntry]) -> ByteBuffer {
        var json = JSONWriter(capacity: 256 + view.contractEntries.count * 200)
        json.beginObject()
        json.field("type", "leaderboard_update")
        json.key("data")
        json.beginObject()
        writeLeaderboard(view, to: &json)
        json.key("changes")
        json.beginArray()
        let now = Array(view.contractEntries)
        let before = Array(previous.prefix(LiveDialect.contractTopCount))
        for entry in now {
            let old = before.first { $0.userId == entry.userId }
            guard old?.rank != entry.rank || old?.score != entry.score else { continue }
            writeChange(userId: entry.userId, username: entry.displayName, from: old, to: entry, in: &json)
        }
        for old in before where !now.contains(where: { $0.userId == old.userId }) {
            writeChange(userId: old.userId, username: old.displayName, from: old, to: nil, in: &json)
        }
        json.endArray()
        json.endObject()
        json.field("timestamp", view.updatedAt)
        json.endObject()
        return json.buffer
    }

    private static func writeChange(userId: String, username: String, from old: RankedEntry?, to new: RankedEntry?, in json: inout JSONWriter) {
        json.beginObject()
        json.field("user_id", userId)
        json.field("username", username)
        if let old { json.field("previous_rank", Int64(old.rank)) } else { json.nullField("previous_rank") }
        if let new { json.field("current_rank", Int64(new.rank)) } else { json.nullField("current_rank") }
        json.field("score", new?.score ?? old?.score ?? 0)
        json.endObject()
    }
}
