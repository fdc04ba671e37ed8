import PodiumEngine

extension LogFollower {
    /// Loads the games, bans and announcements the log holds up to the newest snapshot,
    /// each game's latest snapshot taken under its current rules (from the replica over a
    /// memory store), then folds the log after them. Until it returns, `/ready` answers 503.
    func restore() async throws {
        let start = ContinuousClock.now
        let restoresFromReplica = replica?.restoresBoards ?? false
        let snapshots = try await restoresFromReplica ? replica!.store.snapshots() : store.snapshots()
        if !restoresFromReplica { snapshottedBoards.withLock { $0 = Set(snapshots.map(\.gameId)) } }
        let newest = snapshots.map(\.sequence).max() ?? 0
        for event in try await store.administrativeEvents(through: newest) { foldAdministrativeState(event) }
        var restored = RestoredPositions(boards: [:], administrative: newest)
        // All-time boards first: putting one in place resets the game's period boards.
        for snapshot in snapshots.sorted(by: { !$0.gameId.contains("@") && $1.gameId.contains("@") }) {
            let (gameId, periodKey) = Self.boardOf(snapshotId: snapshot.gameId)
            guard let game = try? leaderboards.game(gameId) else { continue }
            guard snapshot.rules == game.rulesFingerprint else {
                logger.warning("ignoring a snapshot taken under other rules", metadata: ["board": "\(snapshot.gameId)"])
                continue
            }
            let period = periodKey.flatMap { key in game.periodSchedules.lazy.compactMap { $0.period(named: key) }.first }
            if periodKey != nil, period == nil { continue }  // a schedule the game no longer keeps
            do {
                let board = try Board(configuration: game.boardConfiguration, snapshot: snapshot.data)
                if let period {
                    leaderboards.setPeriodBoard(game, period: period, board: board)
                } else {
                    leaderboards.setGame(game, board: board)
                }
                restored.boards[snapshot.gameId] = snapshot.sequence
            } catch {
                logger.warning("ignoring a damaged snapshot", metadata: ["board": "\(snapshot.gameId)", "error": "\(error)"])
            }
        }
        // Every board a snapshot restored, and every game's all-time board: the log is
        // folded from the oldest of their positions.
        let boardIds = Set(leaderboards.games.map(\.id) + restored.boards.keys)
        let from = boardIds.map { restored.boards[$0] ?? 0 }.min() ?? newest
        snapshotSequence.store(boardIds.allSatisfy { restored.boards[$0] == newest } ? newest : 0, ordering: .releasing)
        state.withLock { $0.applied = from }
        var replayed = 0
        while true {
            let events = try await store.events(after: appliedSequence, limit: configuration.readLimit)
            guard let last = events.last else { break }
            for event in events { _ = await fold(event, restoring: restored) }
            state.withLock { $0.applied = last.sequence }
            replayed += events.count
            if replayed % 1_000_000 < events.count { logger.info("replaying the log", metadata: ["events": "\(replayed)"]) }
        }
        if restoresFromReplica { replica?.markWritten(leaderboards) }
        let waiters = state.withLock { state in
            state.isRestored = true
            defer { state.restoreWaiters = [] }
            return state.restoreWaiters
        }
        for waiter in waiters { waiter.resume() }
        let duration = ContinuousClock.now - start
        metrics.restoreSeconds.set(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
        logger.info(
            "boards restored",
            metadata: [
                "snapshots": "\(restored.boards.count)", "replayed": "\(replayed)", "sequence": "\(appliedSequence)",
                "duration": "\(duration)",
            ]
        )
    }

    /// Snapshots every board if the log moved since the last snapshot. Boards are read
    /// between two folds, so every snapshot holds exactly the log up to the same sequence.
    func writeSnapshots() async {
        let sequence = appliedSequence
        guard sequence > snapshotSequence.load(ordering: .acquiring) else { return }
        let start = ContinuousClock.now
        let snapshots = leaderboards.games.flatMap { game -> [BoardSnapshot] in
            guard let gameBoard = try? leaderboards.gameBoard(game.id) else { return [] }
            return ([gameBoard] + leaderboards.periodBoards(of: game.id)).map { board in
                BoardSnapshot(gameId: board.boardId, sequence: sequence, rules: game.rulesFingerprint, data: board.snapshot())
            }
        }
        do {
            try await store.saveSnapshots(snapshots)
            snapshotSequence.store(sequence, ordering: .releasing)
            let current = Set(snapshots.map(\.gameId))
            let gone = snapshottedBoards.withLock { known in
                defer { known = current }
                return known.subtracting(current)
            }
            if !gone.isEmpty { try await store.deleteSnapshots(gone.sorted()) }
            logger.info("boards snapshotted", metadata: ["sequence": "\(sequence)", "duration": "\(ContinuousClock.now - start)"])
        } catch {
            logger.error("cannot write snapshots", metadata: ["error": "\(error)"])
        }
    }

    /// The game and period key of a snapshot's id: `space-runner` is the all-time board,
    /// `space-runner@2026-12-01` a period board (custom periods' keys hold an `@` too).
    static func boardOf(snapshotId: String) -> (gameId: String, periodKey: String?) {
        guard let separator = snapshotId.firstIndex(of: "@") else { return (snapshotId, nil) }
        return (String(snapshotId[..<separator]), String(snapshotId[snapshotId.index(after: separator)...]))
    }
}
