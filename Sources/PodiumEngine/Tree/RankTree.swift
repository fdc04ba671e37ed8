/// An order-statistic B+ tree of ``RankKey``s: insert, remove, rank of a key and the
/// k-th key in O(log n), a run of k keys from any rank in O(log n + k).
///
/// Inner nodes count the entries under each child, so a rank is the sum of the counts
/// to the left of the search path. Nodes hold up to ``maxWidth`` slots (64 by default)
/// and, except the root, at least a quarter of that; a node that falls under merges with
/// or borrows from a neighbour.
final class RankTree {
    static let defaultWidth = 64

    let maxWidth: Int
    let minWidth: Int
    private(set) var root: RankNode
    let players: PlayerTable

    /// - Parameter maxWidth: slots per node; tests use small widths to exercise splits and merges.
    init(players: PlayerTable, maxWidth: Int = RankTree.defaultWidth) {
        precondition(maxWidth >= 8, "a rank tree node needs at least 8 slots")
        self.players = players
        self.maxWidth = maxWidth
        self.minWidth = maxWidth / 4
        self.root = RankNode(leafKeys: [])
    }

    /// Number of entries in the tree.
    var count: Int { root.entryCount }

    /// Whether `a` ranks before `b`.
    @inline(__always)
    func precedes(_ a: RankKey, _ b: RankKey) -> Bool {
        if a.sortScore != b.sortScore { return a.sortScore < b.sortScore }
        if a.achievedAt != b.achievedAt { return a.achievedAt < b.achievedAt }
        if a.player == b.player { return false }
        return players.userIdPrecedes(a.player, b.player)
    }

    /// The first index in `keys` whose key does not rank before `key`.
    @inline(__always)
    func lowerBound(_ keys: [RankKey], _ key: RankKey) -> Int {
        keys.withUnsafeBufferPointer { keys in
            var low = 0
            var high = keys.count
            while low < high {
                let middle = (low + high) >> 1
                if precedes(keys[middle], key) { low = middle + 1 } else { high = middle }
            }
            return low
        }
    }

    // MARK: Insertion

    /// Inserts a key that is not in the tree yet; returns its 0-based rank.
    @discardableResult
    func insert(_ key: RankKey) -> Int {
        let (right, rank) = insert(key, into: root)
        if let right {
            let left = root
            root = RankNode(children: [left, right], counts: [left.entryCount, right.entryCount])
        }
        return rank
    }

    /// Inserts into the subtree at `node`; returns the new right sibling if `node` split,
    /// and the key's rank within the subtree.
    private func insert(_ key: RankKey, into node: RankNode) -> (split: RankNode?, rank: Int) {
        if node.isLeaf {
            let index = lowerBound(node.keys, key)
            node.keys.insert(key, at: index)
            return (node.keys.count > maxWidth ? splitLeaf(node) : nil, index)
        }
        let index = Swift.min(lowerBound(node.keys, key), node.keys.count - 1)
        let child = node.children[index]
        node.counts[index] += 1
        var (split, rank) = insert(key, into: child)
        rank += countBefore(index, in: node)
        node.keys[index] = child.maxKey
        guard let right = split else { return (nil, rank) }
        let rightCount = right.entryCount
        node.counts[index] -= rightCount
        node.children.insert(right, at: index + 1)
        node.counts.insert(rightCount, at: index + 1)
        node.keys.insert(right.maxKey, at: index + 1)
        return (node.children.count > maxWidth ? splitInner(node) : nil, rank)
    }

    /// Entries under the children of `node` before `index`.
    @inline(__always)
    private func countBefore(_ index: Int, in node: RankNode) -> Int {
        node.counts.withUnsafeBufferPointer { counts in
            var total = 0
            for earlier in 0..<index { total &+= counts[earlier] }
            return total
        }
    }

    private func splitLeaf(_ node: RankNode) -> RankNode {
        let half = node.keys.count / 2
        let right = RankNode(leafKeys: Array(node.keys[half...]))
        node.keys.removeSubrange(half...)
        return right
    }

    private func splitInner(_ node: RankNode) -> RankNode {
        let half = node.children.count / 2
        let right = RankNode(children: Array(node.children[half...]), counts: Array(node.counts[half...]))
        node.children.removeSubrange(half...)
        node.counts.removeSubrange(half...)
        node.keys.removeSubrange(half...)
        return right
    }

    // MARK: Removal

    /// Removes `key`; returns the 0-based rank it had, nil if it was not in the tree.
    @discardableResult
    func remove(_ key: RankKey) -> Int? {
        let rank = remove(key, from: root)
        if !root.isLeaf && root.children.count == 1 { root = root.children[0] }
        return rank
    }

    private func remove(_ key: RankKey, from node: RankNode) -> Int? {
        let index = lowerBound(node.keys, key)
        guard index < node.keys.count else { return nil }
        if node.isLeaf {
            guard node.keys[index] == key else { return nil }
            node.keys.remove(at: index)
            return index
        }
        let child = node.children[index]
        guard let rank = remove(key, from: child) else { return nil }
        node.counts[index] -= 1
        if child.width < minWidth {
            rebalance(node, around: index)
        } else {
            node.keys[index] = child.maxKey
        }
        return rank + countBefore(index, in: node)
    }

    /// Merges the under-filled child at `index` with a neighbour, or moves slots over from it.
    private func rebalance(_ node: RankNode, around index: Int) {
        let leftIndex = index + 1 < node.children.count ? index : index - 1
        let left = node.children[leftIndex]
        let right = node.children[leftIndex + 1]
        if left.width + right.width <= maxWidth {
            left.keys += right.keys
            if !left.isLeaf {
                left.children += right.children
                left.counts += right.counts
            }
            node.counts[leftIndex] += node.counts[leftIndex + 1]
            node.children.remove(at: leftIndex + 1)
            node.counts.remove(at: leftIndex + 1)
            node.keys.remove(at: leftIndex + 1)
            node.keys[leftIndex] = left.maxKey
            return
        }
        let target = (left.width + right.width) / 2
        if left.width > target {
            let moved = left.width - target
            right.keys.insert(contentsOf: left.keys[(left.keys.count - moved)...], at: 0)
            left.keys.removeLast(moved)
            if !left.isLeaf {
                right.children.insert(contentsOf: left.children[(left.children.count - moved)...], at: 0)
                right.counts.insert(contentsOf: left.counts[(left.counts.count - moved)...], at: 0)
                left.children.removeLast(moved)
                left.counts.removeLast(moved)
            }
        } else {
            let moved = target - left.width
            left.keys += right.keys[..<moved]
            right.keys.removeFirst(moved)
            if !left.isLeaf {
                left.children += right.children[..<moved]
                left.counts += right.counts[..<moved]
                right.children.removeFirst(moved)
                right.counts.removeFirst(moved)
            }
        }
        let leftCount = left.entryCount
        node.counts[leftIndex + 1] = node.counts[leftIndex] + node.counts[leftIndex + 1] - leftCount
        node.counts[leftIndex] = leftCount
        node.keys[leftIndex] = left.maxKey
        node.keys[leftIndex + 1] = right.maxKey
    }

    // MARK: Order statistics

    /// The 0-based rank of `key`, or nil if it is not in the tree.
    func rank(of key: RankKey) -> Int? {
        unowned(unsafe) var node = root
        var rank = 0
        while !node.isLeaf {
            let index = lowerBound(node.keys, key)
            guard index < node.keys.count else { return nil }
            rank += countBefore(index, in: node)
            node = node.children[index]
        }
        let index = lowerBound(node.keys, key)
        guard index < node.keys.count, node.keys[index] == key else { return nil }
        return rank + index
    }

    /// The key at 0-based rank `rank`, which must be below ``count``.
    func key(atRank rank: Int) -> RankKey {
        unowned(unsafe) var node = root
        var remaining = rank
        while !node.isLeaf {
            var index = 0
            while remaining >= node.counts[index] {
                remaining -= node.counts[index]
                index += 1
            }
            node = node.children[index]
        }
        return node.keys[remaining]
    }

    /// The number of leading keys for which `isBefore` holds. `isBefore` must hold for a
    /// prefix of the order and fail for the rest (for example "ranks before a probe").
    func partitionPoint(_ isBefore: (RankKey) -> Bool) -> Int {
        var node = root
        var rank = 0
        while !node.isLeaf {
            var index = 0
            while index < node.keys.count - 1 && isBefore(node.keys[index]) {
                rank += node.counts[index]
                index += 1
            }
            node = node.children[index]
        }
        var index = 0
        while index < node.keys.count && isBefore(node.keys[index]) { index += 1 }
        return rank + index
    }

    /// Calls `body` with up to `limit` keys in order, starting at 0-based rank `start`.
    func forEach(fromRank start: Int, limit: Int, _ body: (RankKey) -> Void) {
        guard limit > 0, start < count else { return }
        var remaining = limit
        visit(root, skipping: start, remaining: &remaining, body)
    }

    private func visit(_ node: RankNode, skipping skip: Int, remaining: inout Int, _ body: (RankKey) -> Void) {
        if node.isLeaf {
            var index = skip
            while index < node.keys.count && remaining > 0 {
                body(node.keys[index])
                index += 1
                remaining -= 1
            }
            return
        }
        var skip = skip
        for index in node.children.indices where remaining > 0 {
            if skip >= node.counts[index] {
                skip -= node.counts[index]
                continue
            }
            visit(node.children[index], skipping: skip, remaining: &remaining, body)
            skip = 0
        }
    }

    // MARK: Bulk loading

    /// Replaces the contents with `keys`, which must be in order and distinct. O(n).
    func load(sorted keys: [RankKey]) {
        let fill = maxWidth * 3 / 4
        var level = Self.chunks(of: keys.count, fill: fill).map { RankNode(leafKeys: Array(keys[$0])) }
        var counts = level.map(\.entryCount)
        while level.count > 1 {
            var parents: [RankNode] = []
            var parentCounts: [Int] = []
            for range in Self.chunks(of: level.count, fill: fill) {
                let childCounts = Array(counts[range])
                parents.append(RankNode(children: Array(level[range]), counts: childCounts))
                parentCounts.append(childCounts.reduce(0, +))
            }
            level = parents
            counts = parentCounts
        }
        root = level.first ?? RankNode(leafKeys: [])
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
