/// A player's entry with their rank in the global partition and in their country's.
public struct PlayerStanding: Sendable, Equatable {
    public var entry: RankedEntry
    /// 1-based rank among the players of the entry's country, if it has one.
    public var localRank: Int?
    /// Players in the global partition.
    public var globalTotal: Int
    /// Players in the entry's country.
    public var localTotal: Int?
}

extension Board {
    /// The player's entry and ranks; nil if they are not on the board.
    public func standing(of userId: String) -> PlayerStanding? {
        guard let slot = players.slot(of: userId) else { return nil }
        let ranks = ranks(of: slot)
        let record = players.record(slot)
        return PlayerStanding(
            entry: RankedEntry(rank: ranks.global, record: record),
            localRank: ranks.local,
            globalTotal: global.count,
            localTotal: record.countryCode.map { count(in: .local($0)) }
        )
    }

    /// The player's entry ranked within `partition`; nil if they are not in it.
    public func entry(of userId: String, in partition: Partition) -> RankedEntry? {
        guard let slot = players.slot(of: userId), let tree = tree(for: partition),
            let rank = tree.rank(of: key(of: slot))
        else { return nil }
        return RankedEntry(rank: rank + 1, record: players.record(slot))
    }

    /// Up to `limit` entries from 1-based rank `rank` on.
    public func entries(in partition: Partition, fromRank rank: Int, limit: Int) -> [RankedEntry] {
        guard let tree = tree(for: partition), rank >= 1 else { return [] }
        var entries: [RankedEntry] = []
        entries.reserveCapacity(Swift.min(limit, Swift.max(0, tree.count - rank + 1)))
        var next = rank
        tree.forEach(fromRank: rank - 1, limit: limit) { key in
            entries.append(RankedEntry(rank: next, record: players.record(key.player)))
            next += 1
        }
        return entries
    }

    /// The best `limit` entries of `partition`.
    public func top(_ partition: Partition, limit: Int) -> [RankedEntry] {
        entries(in: partition, fromRank: 1, limit: limit)
    }

    /// A page of `partition`: the first `limit` entries, or those after `cursor`.
    ///
    /// Cursors name a position in the order, not an offset, so a walk stays consistent
    /// while scores change: no entry that keeps its place is skipped or repeated.
    public func page(_ partition: Partition, limit: Int, after cursor: String? = nil) throws(BoardError) -> Page {
        let total = count(in: partition)
        var start = 0
        if let cursor {
            let position = try CursorPosition(cursor)
            if let tree = tree(for: partition) {
                let probeScore = position.sortScore
                start = tree.partitionPoint { key in
                    if key.sortScore != probeScore { return key.sortScore < probeScore }
                    if key.achievedAt != position.achievedAt { return key.achievedAt < position.achievedAt }
                    return !position.userId.utf8.lexicographicallyPrecedes(players.userId(key.player).utf8)
                }
            }
        }
        let entries = entries(in: partition, fromRank: start + 1, limit: limit)
        var nextCursor: String?
        if let last = entries.last, start + entries.count < total {
            nextCursor = CursorPosition(
                sortScore: configuration.sortScore(last.score), achievedAt: last.achievedAt, userId: last.userId
            ).encoded
        }
        return Page(entries: entries, nextCursor: nextCursor, total: total)
    }

    /// The player's entry with up to `radius` entries on each side, within `partition`;
    /// nil if the player is not in it.
    public func around(_ userId: String, in partition: Partition, radius: Int) -> [RankedEntry]? {
        guard let entry = entry(of: userId, in: partition) else { return nil }
        let first = Swift.max(1, entry.rank - radius)
        return entries(in: partition, fromRank: first, limit: entry.rank - first + radius + 1)
    }

    /// Every player's record in global order.
    public func allRecords() -> [PlayerRecord] {
        var records: [PlayerRecord] = []
        records.reserveCapacity(global.count)
        global.forEach(fromRank: 0, limit: global.count) { records.append(players.record($0.player)) }
        return records
    }
}
