/// One game's leaderboard: every player, ranked globally and within their country.
///
/// A board is a pure fold of score events: boards that apply the same events in the
/// same order hold the same state and encode byte-identical snapshots. Every operation
/// on one player is O(log n) and a page of k entries O(log n + k).
///
/// A board is not thread-safe; its owner serialises access.
public final class Board {
    public let configuration: BoardConfiguration
    let players: PlayerTable
    let global: RankTree
    var locals: [CountryCode: RankTree] = [:]
    /// Set by every change to the board: the next integer, or the log position its owner
    /// gives (``apply(_:version:)``).
    public internal(set) var version: UInt64 = 0
    /// The board version at which each partition's top N last changed.
    var topVersions: [Partition: UInt64] = [:]
    /// No partition's top version is below this (``markEverythingChanged(at:)``).
    var versionFloor: UInt64 = 0

    public convenience init(configuration: BoardConfiguration) {
        self.init(configuration: configuration, nodeWidth: RankTree.defaultWidth)
    }

    /// - Parameter nodeWidth: slots per tree node; small widths exercise splits and merges in tests.
    init(configuration: BoardConfiguration, nodeWidth: Int) {
        self.configuration = configuration
        self.players = PlayerTable()
        self.global = RankTree(players: players, maxWidth: nodeWidth)
    }

    /// Players on the board.
    public var playerCount: Int { players.count }

    /// Countries that have at least one player, in order.
    public var countries: [CountryCode] { locals.keys.sorted() }

    /// Players in `partition`.
    public func count(in partition: Partition) -> Int {
        tree(for: partition)?.count ?? 0
    }

    /// The board version at which the top N of `partition` last changed (0: never).
    public func topVersion(of partition: Partition) -> UInt64 {
        max(topVersions[partition] ?? 0, versionFloor)
    }

    /// Gives the board and every partition, present or not, the version `version`: for a
    /// board rebuilt under new rules, whose every view may differ from the one it replaces.
    public func markEverythingChanged(at version: UInt64) {
        self.version = max(self.version, version)
        versionFloor = self.version
        topVersions = topVersions.mapValues { max($0, versionFloor) }
    }

    func tree(for partition: Partition) -> RankTree? {
        switch partition {
        case .global: global
        case .local(let country): locals[country]
        }
    }

    @inline(__always)
    func key(of slot: Int32) -> RankKey {
        let row = players.rows[Int(slot)]
        return RankKey(sortScore: configuration.sortScore(row.score), achievedAt: row.achievedAt, player: slot)
    }

    /// Inserts the player in `slot` into the global tree and their country's tree;
    /// returns their 1-based ranks there.
    @discardableResult
    func insertIntoTrees(_ slot: Int32) -> Ranks {
        let key = key(of: slot)
        let globalRank = global.insert(key) + 1
        guard let country = players.rows[Int(slot)].country else { return Ranks(global: globalRank, local: nil) }
        return Ranks(global: globalRank, local: localTree(creating: country).insert(key) + 1)
    }

    /// Removes the player in `slot` from the global tree and their country's tree;
    /// returns the 1-based ranks they had there.
    @discardableResult
    func removeFromTrees(_ slot: Int32) -> Ranks {
        let key = key(of: slot)
        let globalRank = global.remove(key)! + 1
        guard let country = players.rows[Int(slot)].country, let local = locals[country] else {
            return Ranks(global: globalRank, local: nil)
        }
        let localRank = local.remove(key).map { $0 + 1 }
        if local.count == 0 { locals[country] = nil }
        return Ranks(global: globalRank, local: localRank)
    }

    /// Moves the player in `slot`, who stays in the same country, from `previousKey` to
    /// their current key in both their trees; returns their 1-based ranks before and after.
    func moveInTrees(_ slot: Int32, from previousKey: RankKey) -> (previous: Ranks, current: Ranks) {
        let key = key(of: slot)
        let globalRanks = global.replace(previousKey, with: key)
        guard let country = players.rows[Int(slot)].country, let local = locals[country] else {
            return (Ranks(global: globalRanks.old + 1, local: nil), Ranks(global: globalRanks.new + 1, local: nil))
        }
        let localRanks = local.replace(previousKey, with: key)
        return (
            Ranks(global: globalRanks.old + 1, local: localRanks.old + 1),
            Ranks(global: globalRanks.new + 1, local: localRanks.new + 1)
        )
    }

    func localTree(creating country: CountryCode) -> RankTree {
        if let tree = locals[country] { return tree }
        let tree = RankTree(players: players, maxWidth: global.maxWidth)
        locals[country] = tree
        return tree
    }

    /// 1-based ranks of the player in `slot`: global, and local if they have a country.
    func ranks(of slot: Int32) -> Ranks {
        let key = key(of: slot)
        let globalRank = global.rank(of: key)! + 1
        guard let country = players.rows[Int(slot)].country, let local = locals[country] else {
            return Ranks(global: globalRank, local: nil)
        }
        return Ranks(global: globalRank, local: local.rank(of: key).map { $0 + 1 })
    }
}

/// A player's 1-based ranks: global, and within their country if they have one.
struct Ranks: Equatable {
    var global: Int
    var local: Int?
}
