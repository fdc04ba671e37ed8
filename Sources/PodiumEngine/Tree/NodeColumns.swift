/// The nodes of one level kind of a ``RankTree`` (leaves, or inner nodes), stored column
/// by column in flat arrays and addressed by number.
///
/// Node `n` owns the slots `n * stride ..< n * stride + width(n)`. In a leaf a slot is an
/// entry; in an inner node it is a child: the largest key under it, the number of entries
/// under it and its node number. Compared with a class per node, a descent retains nothing
/// and a binary search reads only the dense `sortScores` column until scores tie.
struct NodeColumns {
    /// Slots reserved per node: one more than the tree's width, so a node can overflow by
    /// one slot before it splits.
    let stride: Int
    /// Whether the slots carry ``counts`` and ``children`` (inner nodes).
    let hasChildren: Bool

    var sortScores: [Int64] = []
    var achievedAt: [Int64] = []
    var players: [Int32] = []
    /// Inner nodes only: entries under each child.
    var counts: [Int32] = []
    /// Inner nodes only: the child's node number.
    var children: [Int32] = []

    /// Slots in use, per node.
    private(set) var widths: [Int32] = []
    /// The next node to the right on the same level, or -1; per node.
    private(set) var next: [Int32] = []
    private var freeNodes: [Int32] = []

    init(stride: Int, hasChildren: Bool) {
        self.stride = stride
        self.hasChildren = hasChildren
    }

    @inline(__always)
    func base(_ node: Int32) -> Int { Int(node) &* stride }

    @inline(__always)
    func width(_ node: Int32) -> Int { Int(widths[Int(node)]) }

    @inline(__always)
    func successor(of node: Int32) -> Int32 { next[Int(node)] }

    @inline(__always)
    func key(at slot: Int) -> RankKey {
        RankKey(sortScore: sortScores[slot], achievedAt: achievedAt[slot], player: players[slot])
    }

    @inline(__always)
    mutating func setKey(_ key: RankKey, at slot: Int) {
        sortScores[slot] = key.sortScore
        achievedAt[slot] = key.achievedAt
        players[slot] = key.player
    }

    /// The largest key under `node`, which must not be empty.
    @inline(__always)
    func maxKey(_ node: Int32) -> RankKey { key(at: base(node) &+ width(node) &- 1) }

    /// Entries under the children of `node` before `index` (inner nodes).
    @inline(__always)
    func countBefore(_ index: Int, in node: Int32) -> Int {
        let start = base(node)
        return counts.withUnsafeBufferPointer { counts in
            var total = 0
            for slot in start..<(start &+ index) { total &+= Int(counts[slot]) }
            return total
        }
    }

    /// Entries under `node`.
    func entryCount(_ node: Int32) -> Int {
        hasChildren ? countBefore(width(node), in: node) : width(node)
    }

    // MARK: Allocation

    /// A new empty node with no successor.
    mutating func allocate() -> Int32 {
        if let node = freeNodes.popLast() {
            next[Int(node)] = -1
            return node
        }
        let node = Int32(widths.count)
        widths.append(0)
        next.append(-1)
        sortScores.append(contentsOf: repeatElement(0, count: stride))
        achievedAt.append(contentsOf: repeatElement(0, count: stride))
        players.append(contentsOf: repeatElement(0, count: stride))
        if hasChildren {
            counts.append(contentsOf: repeatElement(0, count: stride))
            children.append(contentsOf: repeatElement(0, count: stride))
        }
        return node
    }

    /// Drops every node.
    mutating func removeAll() {
        self = NodeColumns(stride: stride, hasChildren: hasChildren)
    }

    // MARK: Moving slots

    /// Copies `count` slots from `source` to `destination`; the ranges may overlap.
    private mutating func moveSlots(from source: Int, to destination: Int, count: Int) {
        guard count > 0, source != destination else { return }
        Self.move(&sortScores, from: source, to: destination, count: count)
        Self.move(&achievedAt, from: source, to: destination, count: count)
        Self.move(&players, from: source, to: destination, count: count)
        if hasChildren {
            Self.move(&self.counts, from: source, to: destination, count: count)
            Self.move(&children, from: source, to: destination, count: count)
        }
    }

    @inline(__always)
    private static func move<Element: BitwiseCopyable>(_ column: inout [Element], from source: Int, to destination: Int, count: Int) {
        column.withUnsafeMutableBufferPointer { column in
            precondition(source + count <= column.count && destination + count <= column.count)
            (column.baseAddress! + destination).update(from: column.baseAddress! + source, count: count)
        }
    }

    /// Opens slot `index` of `node` by shifting the later slots right; the caller fills it.
    mutating func insertSlot(in node: Int32, at index: Int) {
        let start = base(node) &+ index
        moveSlots(from: start, to: start &+ 1, count: width(node) &- index)
        widths[Int(node)] &+= 1
    }

    /// Closes slot `index` of `node` by shifting the later slots left.
    mutating func removeSlot(in node: Int32, at index: Int) {
        let start = base(node) &+ index
        moveSlots(from: start &+ 1, to: start, count: width(node) &- index &- 1)
        widths[Int(node)] &-= 1
    }

    /// Moves slot `from` of `node` to index `to`, shifting the slots between by one.
    mutating func moveSlot(in node: Int32, from: Int, to: Int) {
        let start = base(node)
        let key = key(at: start &+ from)
        if from < to {
            moveSlots(from: start &+ from &+ 1, to: start &+ from, count: to &- from)
        } else {
            moveSlots(from: start &+ to, to: start &+ to &+ 1, count: from &- to)
        }
        setKey(key, at: start &+ to)
    }

    /// Moves the upper half of `node` into a new right neighbour and returns it.
    mutating func split(_ node: Int32) -> Int32 {
        let right = allocate()
        let width = width(node)
        let half = width / 2
        moveSlots(from: base(node) + half, to: base(right), count: width - half)
        widths[Int(node)] = Int32(half)
        widths[Int(right)] = Int32(width - half)
        next[Int(right)] = next[Int(node)]
        next[Int(node)] = right
        return right
    }

    /// Evens out neighbours `left` and `right`: merges `right` into `left` (freeing it) if
    /// their slots fit in `maxWidth`, else moves slots over until their widths differ by at
    /// most one. Returns whether they merged.
    mutating func balance(_ left: Int32, _ right: Int32, maxWidth: Int) -> Bool {
        let leftWidth = width(left)
        let rightWidth = width(right)
        if leftWidth + rightWidth <= maxWidth {
            moveSlots(from: base(right), to: base(left) + leftWidth, count: rightWidth)
            widths[Int(left)] = Int32(leftWidth + rightWidth)
            widths[Int(right)] = 0
            next[Int(left)] = next[Int(right)]
            freeNodes.append(right)
            return true
        }
        let target = (leftWidth + rightWidth) / 2
        if leftWidth > target {
            let moved = leftWidth - target
            moveSlots(from: base(right), to: base(right) + moved, count: rightWidth)
            moveSlots(from: base(left) + target, to: base(right), count: moved)
        } else {
            let moved = target - leftWidth
            moveSlots(from: base(right), to: base(left) + leftWidth, count: moved)
            moveSlots(from: base(right) + moved, to: base(right), count: rightWidth - moved)
        }
        widths[Int(left)] = Int32(target)
        widths[Int(right)] = Int32(leftWidth + rightWidth - target)
        return false
    }

    /// Frees `node`, the last one left on its level (the old root).
    mutating func free(_ node: Int32) {
        widths[Int(node)] = 0
        freeNodes.append(node)
    }

    /// Links `nodes`, left to right, as one level.
    mutating func link(_ nodes: [Int32]) {
        for (left, right) in zip(nodes, nodes.dropFirst()) { next[Int(left)] = right }
    }

    /// Sets slot count of a node being built by ``RankTree/load(sorted:)``.
    mutating func setWidth(_ width: Int, of node: Int32) { widths[Int(node)] = Int32(width) }
}
