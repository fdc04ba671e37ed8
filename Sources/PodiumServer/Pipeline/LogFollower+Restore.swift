import PodiumEngine

extension LogFollower {
    /// Loads the games, bans and announcements the log holds up to the newest snapshot,
    /// each game's latest snapshot taken under its current rules (from the replica over a
    /// memory store), then folds the log after them. Until it returns, `/ready` answers 503.
    func restore() async throws {
        let start = ContinuousClock.now
        let restoresFromReplica = replica?.restoresBoards ?? false
        let snapshots = try await restoresFromReplica ? replica!.store.snapshots() : store.snapshots()
        let newest = snapshots.map(\.sequence).max() ?? 0
        for event in try await store.administrativeEvents(through: newest) { foldAdministrativeState(event) }
        var restored = RestoredPositions(boards: [:], administrative: newest)
        for snapshot in snapshots {
            guard let game = try? leaderboards.game(snapshot.gameId) else { continue }
            guard snapshot.rules == game.rulesFingerprint else {
                logger.warning("ignoring a snapshot taken under other rules", metadata: ["game": "\(snapshot.gameId)"])
                continue
            }
            do {
                leaderboards.setGame(game, board: try Board(configuration: game.boardConfiguration, snapshot: snapshot.data))
                restored.boards[snapshot.gameId] = snapshot.sequence
            } catch {
                logger.warning("ignoring a damaged snapshot", metadata: ["game": "\(snapshot.gameId)", "error": "\(error)"])
            }
        }
        let games = leaderboards.games.map(\.id)
        let from = games.map { restored.boards[$0] ?? 0 }.min() ?? newest
        snapshotSequence.store(games.allSatisfy { restored.boards[$0] == newest } ? newest : 0, ordering: .releasing)
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
        let snapshots = leaderboards.games.compactMap { game -> BoardSnapshot? in
            guard let gameBoard = try? leaderboards.gameBoard(game.id) else { return nil }
            return BoardSnapshot(gameId: game.id, sequence: sequence, rules: game.rulesFingerprint, data: gameBoard.snapshot())
        }
        do {
            try await store.saveSnapshots(snapshots)
            snapshotSequence.store(sequence, ordering: .releasing)
            logger.info("boards snapshotted", metadata: ["sequence": "\(sequence)", "duration": "\(ContinuousClock.now - start)"])
        } catch {
            logger.error("cannot write snapshots", metadata: ["error": "\(error)"])
        }
    }
}
