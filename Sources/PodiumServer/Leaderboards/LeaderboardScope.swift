import NIOCore
import PodiumEngine

/// A view of a game's board a client can read or subscribe to.
public enum LeaderboardScope: String, Sendable, Codable, CaseIterable {
    /// Every player.
    case global
    /// The players of one country.
    case local
    /// One player's own entry and global rank.
    case personal
}

/// One page or live state of a scope (seed 000's `LeaderboardState`, plus `version`,
/// `total` and, for pages, `nextCursor`).
struct LeaderboardView: Sendable {
    var gameId: String
    var scope: LeaderboardScope
    var countryCode: CountryCode?
    var userId: String?
    var entries: [RankedEntry]
    /// When the board last changed (milliseconds since 1970).
    var updatedAt: Int64
    /// For global and local: the board version at which this partition's top N last
    /// changed. For personal: the board version.
    var version: UInt64
    var total: Int
    var nextCursor: String?
    /// Of a personal state: the player's ranks and totals (nil when they have no entry).
    var standing: PlayerStanding?
    /// The period of a period board (nil for all-time).
    var period: Period?

    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.field("gameId", gameId)
        json.field("scope", scope.rawValue)
        if let countryCode { json.field("countryCode", countryCode.description) }
        if let userId { json.field("userId", userId) }
        json.key("entries")
        json.beginArray()
        for entry in entries { entry.write(to: &json) }
        json.endArray()
        json.field("updatedAt", Timestamp.format(updatedAt))
        json.field("version", Int64(version))
        json.field("total", Int64(total))
        if let nextCursor { json.field("nextCursor", nextCursor) }
        if let period {
            json.field("period", period.key)
            json.field("periodStartsAt", Timestamp.format(period.start))
            json.field("periodEndsAt", Timestamp.format(period.end))
        }
        if let standing {
            json.field("globalRank", Int64(standing.entry.rank))
            json.field("globalTotal", Int64(standing.globalTotal))
            if let localRank = standing.localRank { json.field("localRank", Int64(localRank)) }
            if let localTotal = standing.localTotal { json.field("localTotal", Int64(localTotal)) }
        }
        json.endObject()
    }
}

extension RankedEntry {
    /// Seed 000's `LeaderboardEntry`.
    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.field("rank", Int64(rank))
        json.field("userId", userId)
        json.field("displayName", displayName)
        if let countryCode { json.field("countryCode", countryCode.description) }
        json.field("score", score)
        json.field("achievedAt", Timestamp.format(achievedAt))
        json.endObject()
    }
}

extension LeaderboardView {
    /// The view as the JSON body of a read.
    var encoded: ByteBuffer {
        var json = JSONWriter(capacity: 256 + entries.count * 160)
        write(to: &json)
        return json.buffer
    }

    /// Seed 004's `{gameId, users: [{userId, username, score, rank}], updatedAt}`.
    var encodedAsUsers: ByteBuffer {
        var json = JSONWriter(capacity: 128 + entries.count * 96)
        writeUsers(entries[...], to: &json)
        return json.buffer
    }

    /// `{gameId, users, updatedAt}` of `users`, seed 004's shape.
    func writeUsers(_ users: ArraySlice<RankedEntry>, to json: inout JSONWriter) {
        json.beginObject()
        json.field("gameId", gameId)
        json.key("users")
        json.beginArray()
        for entry in users {
            json.beginObject()
            json.field("userId", entry.userId)
            json.field("username", entry.displayName)
            json.field("score", entry.score)
            json.field("rank", Int64(entry.rank))
            json.endObject()
        }
        json.endArray()
        json.field("updatedAt", Timestamp.format(updatedAt))
        json.endObject()
    }
}

/// The JSON shapes of a first page the page cache holds.
enum PageFormat: Hashable, Sendable {
    /// A `LeaderboardState` (`GET /api/leaderboards/{gameId}`).
    case state
    /// Seed 004's users list (`GET /api/leaderboard`).
    case users
    /// Spec 001's bare array (`GET /top-scores`).
    case topScores
    /// Spec 002's envelope (`GET /api/v1/leaderboard/top10`).
    case top10
    /// Spec 003's envelope (`GET /api/v1/scores/leaderboard`).
    case scoresLeaderboard

    func encode(_ view: LeaderboardView) -> ByteBuffer {
        switch self {
        case .state: view.encoded
        case .users: view.encodedAsUsers
        case .topScores: ScoreboardModuleContract.topScores(view)
        case .top10: LiveScoreboardContract.top10(view)
        case .scoresLeaderboard: ScoreTokenContract.leaderboard(view)
        }
    }
}
