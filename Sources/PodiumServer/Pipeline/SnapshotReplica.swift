import Logging
import PodiumEngine
import Synchronization

/// A second copy of the boards in DynamoDB (spec 000), fed by the follower: every flush
/// interval it captures, between two folds, each board that changed since it was last
/// written (its snapshot and the top N of each partition); a writer task sends them one
/// board after another (DynamoDB's throttling retried with backoff), so a slow or absent
/// DynamoDB never holds up the log. A board whose write failed stays pending and goes
/// out at the next flush; the failure is logged and counted. A dropped archive's copy is
/// deleted after the writes (kept for the next flush if that fails).
public final class SnapshotReplica: Sendable {
    public let store: DynamoDBSnapshotStore
    /// Whether the follower restores the boards from here: over a memory store, whose log
    /// dies with the process. A durable store's own snapshots and log win.
    let restoresBoards: Bool
    let metrics: PodiumMetrics
    let logger: Logger
    private let state = Mutex(State())
    private let wakes: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// One board as captured between two folds.
    struct Capture: Sendable {
        var snapshot: BoardSnapshot
        var written: Written
        var tops: [DynamoDBSnapshotStore.TopList]
    }

    /// What of a board is in DynamoDB.
    struct Written: Sendable, Equatable {
        var version: UInt64
        var rules: String
        /// The version of each partition's top N.
        var topVersions: [Partition: UInt64]
    }

    private struct State {
        var written: [String: Written] = [:]
        var pending: [String: Capture] = [:]
        /// Boards to delete from DynamoDB: archives the follower dropped.
        var deletions: Set<String> = []
    }

    public init(store: DynamoDBSnapshotStore, restoresBoards: Bool, metrics: PodiumMetrics, logger: Logger) {
        self.store = store
        self.restoresBoards = restoresBoards
        self.metrics = metrics
        self.logger = logger
        (wakes, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Records the boards as they are now as written (they were just restored from here).
    func markWritten(_ leaderboards: LeaderboardService) {
        let boards = Self.boards(of: leaderboards).map { game, gameBoard in
            (gameBoard.boardId, gameBoard.withBoard { board, _ in Self.written(board, rules: game.rulesFingerprint, tops: gameBoard.period == nil) })
        }
        state.withLock { state in
            for (boardId, written) in boards { state.written[boardId] = written }
        }
    }

    /// Every game's all-time board, then its period boards (`game@period`), by their ids.
    private static func boards(of leaderboards: LeaderboardService) -> [(Game, GameBoard)] {
        leaderboards.games.flatMap { game -> [(Game, GameBoard)] in
            guard let gameBoard = try? leaderboards.gameBoard(game.id) else { return [] }
            return ([gameBoard] + leaderboards.periodBoards(of: game.id)).map { (game, $0) }
        }
    }

    /// Captures every board that changed since it was written or captured, at `sequence`
    /// (the follower's, between two folds), and wakes the writer if any board is pending
    /// (a board whose write failed is tried again at each flush).
    func capture(_ leaderboards: LeaderboardService, at sequence: Int64) {
        let known = state.withLock { state in state.written.merging(state.pending.mapValues(\.written)) { $1 } }
        var captures: [Capture] = []
        for (game, gameBoard) in Self.boards(of: leaderboards) {
            let boardId = gameBoard.boardId
            // Spec 000's top-N items are the all-time board's; period boards get snapshots.
            let hasTopItems = gameBoard.period == nil
            let capture = gameBoard.withBoard { board, updatedAt -> Capture? in
                let written = Self.written(board, rules: game.rulesFingerprint, tops: hasTopItems)
                guard written != known[boardId] else { return nil }
                let partitions = hasTopItems ? [Partition.global] + board.countries.map { .local($0) } : []
                return Capture(
                    snapshot: BoardSnapshot(gameId: boardId, sequence: sequence, rules: game.rulesFingerprint, data: board.snapshot()),
                    written: written,
                    tops: partitions.map {
                        .init(gameId: game.id, partition: $0, entries: board.top($0, limit: game.topN), updatedAt: updatedAt)
                    }
                )
            }
            if let capture { captures.append(capture) }
        }
        let pending = state.withLock { state in
            for capture in captures { state.pending[capture.snapshot.gameId] = capture }
            return state.pending.count
        }
        metrics.dynamoDBPendingBoards.set(Double(pending))
        if pending > 0 { wake.yield() }
    }

    /// Deletes the copies of `boardIds` (archives the follower dropped) at the next write.
    func delete(_ boardIds: [String]) {
        state.withLock { state in
            for boardId in boardIds {
                state.written[boardId] = nil
                state.pending[boardId] = nil
                state.deletions.insert(boardId)
            }
        }
        wake.yield()
    }

    /// Writes what is captured each time the follower wakes it, until ``finish()``; then
    /// writes what is left once more.
    func writeUntilFinished() async {
        for await _ in wakes { await writePending() }
        await writePending()
    }

    /// Ends ``writeUntilFinished()`` after one last write.
    func finish() {
        wake.finish()
    }

    /// Writes the pending boards one by one, then deletes the dropped ones; after a failure,
    /// keeps it and the rest for the next flush.
    private func writePending() async {
        await writeCaptures()
        let deletions = state.withLock { $0.deletions.sorted() }
        guard !deletions.isEmpty else { return }
        do {
            try await store.deleteSnapshots(deletions)
        } catch {
            metrics.dynamoDBWriteErrors.increment()
            logger.warning("cannot delete dropped archives from DynamoDB; trying again at the next flush", metadata: ["boards": "\(deletions)", "error": "\(error)"])
            return
        }
        state.withLock { state in state.deletions.subtract(deletions) }
    }

    private func writeCaptures() async {
        let captures = state.withLock { state in state.pending.values.sorted { $0.snapshot.gameId < $1.snapshot.gameId } }
        for capture in captures {
            let gameId = capture.snapshot.gameId
            let before = state.withLock { $0.written[gameId] }
            let partitions = Set(capture.tops.map(\.partition))
            let emptied = (before?.topVersions.keys).map { Set($0).subtracting(partitions) } ?? []
            let tops =
                capture.tops.filter { before?.topVersions[$0.partition] != capture.written.topVersions[$0.partition] }
                + emptied.map { .init(gameId: gameId, partition: $0, entries: [], updatedAt: capture.tops.first?.updatedAt ?? 0) }
            do {
                try await store.saveSnapshots([capture.snapshot])
                if !tops.isEmpty { try await store.saveTops(tops) }
            } catch {
                metrics.dynamoDBWriteErrors.increment()
                logger.warning(
                    "cannot write boards to DynamoDB; trying again at the next flush",
                    metadata: ["game": "\(gameId)", "pending": "\(state.withLock { $0.pending.count })", "error": "\(error)"]
                )
                return
            }
            let pending = state.withLock { state in
                state.written[gameId] = capture.written
                if state.pending[gameId]?.written == capture.written { state.pending[gameId] = nil }
                return state.pending.count
            }
            metrics.dynamoDBBoardsWritten.increment()
            metrics.dynamoDBPendingBoards.set(Double(pending))
        }
    }

    /// What writing `board` puts in DynamoDB: its version and rules and, with `tops`, the
    /// version of each partition's top N.
    private static func written(_ board: Board, rules: String, tops: Bool) -> Written {
        let partitions = tops ? [Partition.global] + board.countries.map { .local($0) } : []
        return Written(
            version: board.version, rules: rules,
            topVersions: Dictionary(uniqueKeysWithValues: partitions.map { ($0, board.topVersion(of: $0)) })
        )
    }
}
