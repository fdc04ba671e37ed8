/// An order-statistic B+ tree of ``RankKey``s: insert, remove, rank of a key and the
/// k-th key in O(log n), a run of k keys from any rank in O(log n + k).
///
/// Inner nodes count the entries under each child, so a rank is the sum of the counts
/// to the left of the search path. Nodes hold up to ``maxWidth`` slots (64 by default)
/// and, except the root, at least a quarter of that; a node that falls under merges with
/// or borrows from a neighbour. Nodes live in two ``NodeColumns`` pools, one for leaves and
/// one for inner nodes; every level is linked left to right.
final class RankTree {
    static let defaultWidth = 64

    let maxWidth: Int
    let minWidth: Int
    let players: PlayerTable
    private(set) var leaves: NodeColumns
    private(set) var inners: NodeColumns
    /// The root: a leaf when ``height`` is 0, else an inner node.
    private(set) var root: Int32 = 0
    /// Levels of inner nodes above the leaves.
    private(set) var height = 0
    /// Number of entries in the tree.
    private(set) var count = 0

    /// - Parameter maxWidth: slots per node; tests use small widths to exercise splits and merges.
    init(players: PlayerTable, maxWidth: Int = RankTree.defaultWidth) {
        precondition(maxWidth >= 8, "a rank tree node needs at least 8 slots")
        self.players = players
        self.maxWidth = maxWidth
        self.minWidth = maxWidth / 4
        self.leaves = NodeColumns(stride: maxWidth + 1, hasChildren: false)
        self.inners = NodeColumns(stride: maxWidth + 1, hasChildren: true)
        self.root = leaves.allocate()
    }

    /// Whether `a` ranks before `b`.
    @inline(__always)
    func precedes(_ a: RankKey, _ b: RankKey) -> Bool {
        if a.sortScore != b.sortScore { return a.sortScore < b.sortScore }
        return tiePrecedes(a, b)
    }

    /// Whether `a` ranks before `b`, given equal sort scores.
    @inline(__always)
    private func tiePrecedes(_ a: RankKey, _ b: RankKey) -> Bool {
        if a.achievedAt != b.achievedAt { return a.achievedAt < b.achievedAt }
        if a.player == b.player { return false }
        return players.userIdPrecedes(a.player, b.player)
    }

    /// The first slot index of `node` whose key does not rank before `key`. Reads only the
    /// score column unless scores tie.
    @inline(__always)
    private func lowerBound(_ columns: borrowing NodeColumns, _ node: Int32, _ key: RankKey) -> Int {
        let base = columns.base(node)
        var low = base
        var high = base &+ columns.width(node)
        columns.sortScores.withUnsafeBufferPointer { scores in
            while low < high {
                let middle = (low &+ high) >> 1
                let score = scores[middle]
                let before = score < key.sortScore || (score == key.sortScore && tiePrecedes(columns.key(at: middle), key))
                if before { low = middle &+ 1 } else { high = middle }
            }
        }
        return low &- base
    }

    private func entryCount(_ node: Int32, level: Int) -> Int {
        level == 0 ? leaves.width(node) : inners.entryCount(node)
    }

    private func width(_ node: Int32, level: Int) -> Int {
        level == 0 ? leaves.width(node) : inners.width(node)
    }

    private func maxKey(_ node: Int32, level: Int) -> RankKey {
        level == 0 ? leaves.maxKey(node) : inners.maxKey(node)
    }

    // MARK: Insertion

    /// Inserts a key that is not in the tree yet; returns its 0-based rank.
    @discardableResult
    func insert(_ key: RankKey) -> Int {
        let (right, rank) = insert(key, into: root, level: height)
        count += 1
        if let right {
            let left = root
            root = inners.allocate()
            inners.setWidth(2, of: root)
            setChild(left, at: inners.base(root), level: height)
            setChild(right, at: inners.base(root) + 1, level: height)
            height += 1
        }
        return rank
    }

    /// Fills inner slot `slot` with `child` (at `level`): its largest key and entry count.
    private func setChild(_ child: Int32, at slot: Int, level: Int) {
        inners.children[slot] = child
        inners.counts[slot] = Int32(entryCount(child, level: level))
        inners.setKey(maxKey(child, level: level), at: slot)
    }

    /// Inserts into the subtree at `node`; returns the new right sibling if `node` split,
    /// and the key's rank within the subtree.
    private func insert(_ key: RankKey, into node: Int32, level: Int) -> (split: Int32?, rank: Int) {
        if level == 0 {
            let index = lowerBound(leaves, node, key)
            leaves.insertSlot(in: node, at: index)
            leaves.setKey(key, at: leaves.base(node) + index)
            return (leaves.width(node) > maxWidth ? leaves.split(node) : nil, index)
        }
        let index = Swift.min(lowerBound(inners, node, key), inners.width(node) - 1)
        let slot = inners.base(node) + index
        let child = inners.children[slot]
        inners.counts[slot] += 1
        let (split, rank) = insert(key, into: child, level: level - 1)
        let before = inners.countBefore(index, in: node)
        inners.setKey(maxKey(child, level: level - 1), at: slot)
        guard let right = split else { return (nil, rank + before) }
        let rightCount = entryCount(right, level: level - 1)
        inners.counts[slot] -= Int32(rightCount)
        inners.insertSlot(in: node, at: index + 1)
        setChild(right, at: slot + 1, level: level - 1)
        return (inners.width(node) > maxWidth ? inners.split(node) : nil, rank + before)
    }

    // MARK: Removal

    /// Removes `key`; returns the 0-based rank it had, nil if it was not in the tree.
    @discardableResult
    func remove(_ key: RankKey) -> Int? {
        guard let rank = remove(key, from: root, level: height) else { return nil }
        count -= 1
        if height > 0 && inners.width(root) == 1 {
            let child = inners.children[inners.base(root)]
            inners.free(root)
            root = child
            height -= 1
        }
        return rank
    }

    private func remove(_ key: RankKey, from node: Int32, level: Int) -> Int? {
        if level == 0 {
            let index = lowerBound(leaves, node, key)
            guard index < leaves.width(node), leaves.key(at: leaves.base(node) + index) == key else { return nil }
            leaves.removeSlot(in: node, at: index)
            return index
        }
        let index = lowerBound(inners, node, key)
        guard index < inners.width(node) else { return nil }
        let slot = inners.base(node) + index
        let child = inners.children[slot]
        guard let rank = remove(key, from: child, level: level - 1) else { return nil }
        let before = inners.countBefore(index, in: node)
        inners.counts[slot] -= 1
        if width(child, level: level - 1) < minWidth {
            rebalance(node, around: index, childLevel: level - 1)
        } else {
            inners.setKey(maxKey(child, level: level - 1), at: slot)
        }
        return rank + before
    }

    /// Merges the under-filled child at `index` of `node` with a neighbour, or moves slots
    /// over from it.
    private func rebalance(_ node: Int32, around index: Int, childLevel: Int) {
        let base = inners.base(node)
        let leftSlot = base + (index + 1 < inners.width(node) ? index : index - 1)
        let left = inners.children[leftSlot]
        let right = inners.children[leftSlot + 1]
        let merged =
            childLevel == 0
            ? leaves.balance(left, right, maxWidth: maxWidth) : inners.balance(left, right, maxWidth: maxWidth)
        if merged {
            inners.counts[leftSlot] += inners.counts[leftSlot + 1]
            inners.removeSlot(in: node, at: leftSlot + 1 - base)
        } else {
            let pair = inners.counts[leftSlot] + inners.counts[leftSlot + 1]
            let leftCount = Int32(entryCount(left, level: childLevel))
            inners.counts[leftSlot] = leftCount
            inners.counts[leftSlot + 1] = pair - leftCount
            inners.setKey(maxKey(right, level: childLevel), at: leftSlot + 1)
        }
        inners.setKey(maxKey(left, level: childLevel), at: leftSlot)
    }

    // MARK: Replacement

    /// Replaces `old`, which must be in the tree, by `new`, which must not be; returns the
    /// 0-based ranks of both.
    ///
    /// When both keys fall in the same leaf, away from its largest key (the usual result
    /// of a small score change), this is one descent that shifts only the slots between
    /// them and leaves the inner nodes alone; otherwise it is a removal and an insertion.
    func replace(_ old: RankKey, with new: RankKey) -> (old: Int, new: Int) {
        var node = root
        var rank = 0
        for _ in 0..<height {
            let index = lowerBound(inners, node, old)
            guard index == Swift.min(lowerBound(inners, node, new), inners.width(node) - 1) else {
                return removeAndInsert(old, new)
            }
            rank &+= inners.countBefore(index, in: node)
            node = inners.children[inners.base(node) &+ index]
        }
        let last = leaves.width(node) - 1
        let from = lowerBound(leaves, node, old)
        var to = lowerBound(leaves, node, new)
        if to > from { to -= 1 }
        guard from < last, to < last, leaves.key(at: leaves.base(node) + from) == old else {
            return removeAndInsert(old, new)
        }
        leaves.moveSlot(in: node, from: from, to: to)
        leaves.setKey(new, at: leaves.base(node) + to)
        return (rank &+ from, rank &+ to)
    }

    private func removeAndInsert(_ old: RankKey, _ new: RankKey) -> (old: Int, new: Int) {
        guard let oldRank = remove(old) else { preconditionFailure("replacing a key that is not in the tree") }
        return (oldRank, insert(new))
    }

    // MARK: Order statistics

    /// The 0-based rank of `key`, or nil if it is not in the tree.
    func rank(of key: RankKey) -> Int? {
        var node = root
        var rank = 0
        for _ in 0..<height {
            let index = lowerBound(inners, node, key)
            guard index < inners.width(node) else { return nil }
            rank &+= inners.countBefore(index, in: node)
            node = inners.children[inners.base(node) &+ index]
        }
        let index = lowerBound(leaves, node, key)
        guard index < leaves.width(node), leaves.key(at: leaves.base(node) &+ index) == key else { return nil }
        return rank &+ index
    }

    /// The leaf holding 0-based rank `rank` (below ``count``) and the rank's index in it.
    private func leaf(atRank rank: Int) -> (leaf: Int32, index: Int) {
        var node = root
        var remaining = rank
        for _ in 0..<height {
            var slot = inners.base(node)
            while remaining >= Int(inners.counts[slot]) {
                remaining -= Int(inners.counts[slot])
                slot += 1
            }
            node = inners.children[slot]
        }
        return (node, remaining)
    }

    /// The key at 0-based rank `rank`, which must be below ``count``.
    func key(atRank rank: Int) -> RankKey {
        let (leaf, index) = leaf(atRank: rank)
        return leaves.key(at: leaves.base(leaf) + index)
    }

    /// The number of leading keys for which `isBefore` holds. `isBefore` must hold for a
    /// prefix of the order and fail for the rest (for example "ranks before a probe").
    func partitionPoint(_ isBefore: (RankKey) -> Bool) -> Int {
        var node = root
        var rank = 0
        for _ in 0..<height {
            var slot = inners.base(node)
            let last = slot + inners.width(node) - 1
            while slot < last && isBefore(inners.key(at: slot)) {
                rank += Int(inners.counts[slot])
                slot += 1
            }
            node = inners.children[slot]
        }
        var index = 0
        while index < leaves.width(node) && isBefore(leaves.key(at: leaves.base(node) + index)) { index += 1 }
        return rank + index
    }

    /// Calls `body` with up to `limit` keys in order, starting at 0-based rank `start`.
    func forEach(fromRank start: Int, limit: Int, _ body: (RankKey) -> Void) {
        guard limit > 0, start < count else { return }
        var (leaf, index) = leaf(atRank: start)
        var remaining = limit
        while true {
            let base = leaves.base(leaf)
            let end = base + Swift.min(leaves.width(leaf), index + remaining)
            for slot in (base + index)..<end { body(leaves.key(at: slot)) }
            remaining -= end - base - index
            leaf = leaves.successor(of: leaf)
            guard remaining > 0, leaf >= 0 else { return }
            index = 0
        }
    }

    // MARK: Bulk loading

    /// Replaces the contents with `keys`, which must be in order and distinct. O(n).
    func load(sorted keys: [RankKey]) {
        leaves.removeAll()
        inners.removeAll()
        let fill = maxWidth * 3 / 4
        var level = Self.chunks(of: keys.count, fill: fill).map { range in
            let leaf = leaves.allocate()
            for (offset, key) in keys[range].enumerated() { leaves.setKey(key, at: leaves.base(leaf) + offset) }
            leaves.setWidth(range.count, of: leaf)
            return leaf
        }
        leaves.link(level)
        height = 0
        while level.count > 1 {
            level = Self.chunks(of: level.count, fill: fill).map { range in
                let parent = inners.allocate()
                for (offset, child) in level[range].enumerated() {
                    setChild(child, at: inners.base(parent) + offset, level: height)
                }
                inners.setWidth(range.count, of: parent)
                return parent
            }
            inners.link(level)
            height += 1
        }
        root = level.first ?? leaves.allocate()
        count = keys.count
    }

    /// Splits `count` slots into even runs of at most `fill` (three quarters of a node),
    /// so no run is under half of `fill` when there is more than one.
    private static func chunks(of count: Int, fill: Int) -> [Range<Int>] {
        guard count > 0 else { return [] }
        let runs = (count + fill - 1) / fill
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(runs)
        var start = 0
        for run in 0..<runs {
            let end = (count * (run + 1)) / runs
            ranges.append(start..<end)
            start = end
        }
        return ranges
    }
}
