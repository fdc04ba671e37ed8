/// One node of a ``RankTree``.
///
/// A leaf holds entries in order. An inner node holds its children, the number of
/// entries under each child, and the largest key under each child (so the child that
/// may hold a key is the first whose largest key is not smaller than it).
final class RankNode {
    let isLeaf: Bool
    /// Leaf: the entries. Inner: the largest key under each child.
    var keys: [RankKey]
    /// Inner only: the children.
    var children: [RankNode]
    /// Inner only: entries under each child.
    var counts: [Int]

    init(leafKeys: [RankKey]) {
        self.isLeaf = true
        self.keys = leafKeys
        self.children = []
        self.counts = []
    }

    init(children: [RankNode], counts: [Int]) {
        self.isLeaf = false
        self.keys = children.map { $0.keys[$0.keys.count - 1] }
        self.children = children
        self.counts = counts
    }

    /// Number of slots used: keys in a leaf, children in an inner node.
    var width: Int { isLeaf ? keys.count : children.count }

    /// Entries under this node.
    var entryCount: Int { isLeaf ? keys.count : counts.reduce(0, +) }

    /// The largest key under this node; the node must not be empty.
    var maxKey: RankKey { keys[keys.count - 1] }
}
