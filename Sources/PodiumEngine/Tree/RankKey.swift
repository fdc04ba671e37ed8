/// The position of one entry in a partition. Ascending key order is leaderboard order:
/// the best entry has the smallest key.
///
/// `sortScore` is the score mapped so that smaller is better for either sort order
/// (`~score` for descending boards, the score itself for ascending ones); ties on score
/// are broken by the earlier `achievedAt`, then by the player's user id (compared as
/// UTF-8 bytes, through the ``PlayerTable``).
struct RankKey: Equatable {
    var sortScore: Int64
    var achievedAt: Int64
    var player: Int32
}
