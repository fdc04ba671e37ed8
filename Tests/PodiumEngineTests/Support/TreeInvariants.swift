@testable import PodiumEngine

/// Checks the structural invariants of every tree of a board: counts, largest keys,
/// node widths and key order. Returns a description of the first violation.
func treeViolation(in board: Board) -> String? {
    let trees = [("global", board.global)] + board.locals.map { ("local \($0.key)", $0.value) }
    for (name, tree) in trees {
        var previous: RankKey?
        if let problem = check(tree.root, in: tree, isRoot: true, previous: &previous).problem {
            return "\(name): \(problem)"
        }
        if tree.root.entryCount == 0 && name != "global" { return "\(name): empty local tree kept" }
    }
    return nil
}

private func check(_ node: RankNode, in tree: RankTree, isRoot: Bool, previous: inout RankKey?) -> (count: Int, problem: String?) {
    if !isRoot && node.width < tree.minWidth { return (0, "node of width \(node.width) under \(tree.minWidth)") }
    if node.width > tree.maxWidth { return (0, "node of width \(node.width) over \(tree.maxWidth)") }
    if node.isLeaf {
        for key in node.keys {
            if let previous, !tree.precedes(previous, key) { return (0, "keys out of order") }
            previous = key
        }
        return (node.keys.count, nil)
    }
    if node.keys.count != node.children.count || node.counts.count != node.children.count {
        return (0, "inner node arrays disagree")
    }
    var total = 0
    for (index, child) in node.children.enumerated() {
        let result = check(child, in: tree, isRoot: false, previous: &previous)
        if let problem = result.problem { return (0, problem) }
        if result.count != node.counts[index] { return (0, "count \(node.counts[index]) but \(result.count) entries") }
        if node.keys[index] != child.maxKey { return (0, "stale largest key") }
        total += result.count
    }
    return (total, nil)
}
