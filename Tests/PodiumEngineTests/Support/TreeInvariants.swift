@testable import PodiumEngine

/// Checks the structural invariants of every tree of a board: counts, largest keys,
/// node widths, key order and the left-to-right links of each level. Returns a
/// description of the first violation.
func treeViolation(in board: Board) -> String? {
    let trees = [("global", board.global)] + board.locals.map { ("local \($0.key)", $0.value) }
    for (name, tree) in trees {
        var checker = TreeChecker(tree: tree)
        if let problem = checker.check(tree.root, level: tree.height, isRoot: true).problem {
            return "\(name): \(problem)"
        }
        if let problem = checker.checkLinks() { return "\(name): \(problem)" }
        if tree.count != (tree.height == 0 ? tree.leaves.width(tree.root) : tree.inners.entryCount(tree.root)) {
            return "\(name): count \(tree.count) disagrees with the root"
        }
        if tree.count == 0 && name != "global" { return "\(name): empty local tree kept" }
    }
    return nil
}

private struct TreeChecker {
    let tree: RankTree
    var previous: RankKey?
    /// Nodes met on each level (0: leaves), left to right.
    var levels: [Int: [Int32]] = [:]

    init(tree: RankTree) { self.tree = tree }

    mutating func check(_ node: Int32, level: Int, isRoot: Bool) -> (count: Int, problem: String?) {
        levels[level, default: []].append(node)
        let columns = level == 0 ? tree.leaves : tree.inners
        let width = columns.width(node)
        if !isRoot && width < tree.minWidth { return (0, "node of width \(width) under \(tree.minWidth)") }
        if width > tree.maxWidth { return (0, "node of width \(width) over \(tree.maxWidth)") }
        let base = columns.base(node)
        if level == 0 {
            for slot in base..<(base + width) {
                let key = columns.key(at: slot)
                if let previous, !tree.precedes(previous, key) { return (0, "keys out of order") }
                previous = key
            }
            return (width, nil)
        }
        var total = 0
        for slot in base..<(base + width) {
            let child = columns.children[slot]
            let result = check(child, level: level - 1, isRoot: false)
            if let problem = result.problem { return (0, problem) }
            if result.count != Int(columns.counts[slot]) { return (0, "count \(columns.counts[slot]) but \(result.count) entries") }
            let childColumns = level == 1 ? tree.leaves : tree.inners
            if columns.key(at: slot) != childColumns.maxKey(child) { return (0, "stale largest key") }
            total += result.count
        }
        return (total, nil)
    }

    func checkLinks() -> String? {
        for (level, nodes) in levels {
            let columns = level == 0 ? tree.leaves : tree.inners
            for (left, right) in zip(nodes, nodes.dropFirst() + [-1]) where columns.successor(of: left) != right {
                return "level \(level) links \(left) to \(columns.successor(of: left)), not \(right)"
            }
        }
        return nil
    }
}
