/// What one applied event or removal did to a board.
public struct BoardChange: Sendable {
    public var userId: String
    /// The player's data before, nil if they were not on the board.
    public var previous: PlayerRecord?
    /// The player's data after, nil if they were removed.
    public var current: PlayerRecord?
    /// Every partition the player left, joined or moved in (global first).
    public var partitions: [PartitionChange]
    /// The board's version after the change (unchanged when nothing changed).
    public var version: UInt64

    /// Whether the board changed at all.
    public var isEffective: Bool { previous != current }

    /// The change in one partition, if the player was or is in it.
    public func change(in partition: Partition) -> PartitionChange? {
        partitions.first { $0.partition == partition }
    }
}

/// The player's move within one partition.
public struct PartitionChange: Sendable, Equatable {
    public var partition: Partition
    /// 1-based rank before; nil if the player was not in this partition.
    public var previousRank: Int?
    /// 1-based rank after; nil if the player is no longer in this partition.
    public var newRank: Int?
    /// Whether the partition's top N (ranks, scores or names shown) changed.
    public var topChanged: Bool
}

/// Why a board refused an event or a query.
public enum BoardError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The event's score is above the board's `maxScore`.
    case scoreOutOfRange(score: Int64, maxScore: Int64)
    /// Adding the points would leave the range of a 64-bit integer.
    case scoreOverflow(current: Int64, increment: Int64)
    /// The cursor was not made by this engine.
    case invalidCursor
    /// The snapshot bytes are damaged or of another format.
    case invalidSnapshot(String)

    public var description: String {
        switch self {
        case .scoreOutOfRange(let score, let maxScore): "score \(score) is above this game's maximum of \(maxScore)"
        case .scoreOverflow(let current, let increment): "adding \(increment) to \(current) would overflow a 64-bit score"
        case .invalidCursor: "the cursor is not valid"
        case .invalidSnapshot(let reason): "the snapshot is not valid: \(reason)"
        }
    }
}

/// One page of a partition, best first.
public struct Page: Sendable {
    public var entries: [RankedEntry]
    /// Pass to the next call to continue after the last entry; nil at the end.
    public var nextCursor: String?
    /// Players in the partition.
    public var total: Int
}
