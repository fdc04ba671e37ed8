import PodiumEngine

/// How far a restore has already folded: a game's board loaded from a snapshot holds its
/// events up to the snapshot's sequence, and the administrative state holds every
/// administrative event up to the newest snapshot's.
struct RestoredPositions {
    var boards: [String: Int64]
    var administrative: Int64

    func holds(_ event: LoggedEvent, onBoardOf gameId: String) -> Bool {
        event.sequence <= boards[gameId] ?? 0
    }
}

extension LogFollower {
    /// Folds one event; says whether it changed a board. During a restore, `restoring`
    /// says what the loaded snapshots already hold, and nothing is published.
    func fold(_ event: LoggedEvent, restoring restored: RestoredPositions?) async -> Bool {
        switch event.kind {
        case .score, .removal:
            guard let gameBoard = try? leaderboards.gameBoard(event.gameId),
                restored?.holds(event, onBoardOf: event.gameId) != true
            else { return false }
            return apply(event, to: gameBoard, publishing: restored == nil)
        case .ban:
            bans.ban(event.userId)
            var changed = false
            for game in leaderboards.games where restored?.holds(event, onBoardOf: game.id) != true {
                guard let gameBoard = try? leaderboards.gameBoard(game.id) else { continue }
                changed = apply(event, to: gameBoard, publishing: restored == nil) || changed
            }
            return changed
        case .gameDefinition:
            guard event.sequence > restored?.administrative ?? 0 else { return false }
            guard let game = event.definedGame else {
                logger.error("a game definition in the log cannot be read", metadata: ["sequence": "\(event.sequence)"])
                return false
            }
            await define(game, at: event.sequence)
            return true
        case .announcement:
            guard event.sequence > restored?.administrative ?? 0 else { return false }
            if let announcement = event.savedAnnouncement { announcements.save(announcement) }
            return false
        case .announcementRemoval:
            guard event.sequence > restored?.administrative ?? 0, let id = event.payload else { return false }
            announcements.remove(id: id)
            return false
        }
    }

    private func apply(_ event: LoggedEvent, to gameBoard: GameBoard, publishing: Bool) -> Bool {
        guard let change = gameBoard.apply(event, now: Timestamp.now()) else { return false }
        metrics.recordApplied(gameId: gameBoard.game.id, count: 1)
        if publishing { hub.publish(gameId: gameBoard.game.id, change: change) }
        return true
    }

    /// Folds the administrative events a restore needs before it loads snapshots: games,
    /// bans and announcements, without touching boards.
    func foldAdministrativeState(_ event: LoggedEvent) {
        switch event.kind {
        case .ban: bans.ban(event.userId)
        case .gameDefinition:
            if let game = event.definedGame { leaderboards.setGame(game, board: Board(configuration: game.boardConfiguration)) }
        case .announcement: if let announcement = event.savedAnnouncement { announcements.save(announcement) }
        case .announcementRemoval: if let id = event.payload { announcements.remove(id: id) }
        case .score, .removal: break
        }
    }

    /// Adds or redefines a game at log position `sequence`. Under the same ranking rules the
    /// board is kept; under new rules it is refolded from the log up to `sequence`. Either
    /// way every view of the game takes the version `sequence` and its subscribers get it.
    func define(_ game: Game, at sequence: Int64) async {
        let board: Board
        if let current = try? leaderboards.gameBoard(game.id), current.game.rulesFingerprint == game.rulesFingerprint {
            board = (try? Board(configuration: game.boardConfiguration, snapshot: current.snapshot()))
                ?? Board(configuration: game.boardConfiguration)
        } else if (try? leaderboards.gameBoard(game.id)) == nil {
            board = Board(configuration: game.boardConfiguration)
        } else {
            board = await refold(game, through: sequence)
        }
        board.markEverythingChanged(at: UInt64(sequence))
        leaderboards.setGame(game, board: board)
        hub.publishEverything(gameId: game.id)
    }

    /// `game`'s board folded from its events (and the bans) up to `sequence`. A read that
    /// fails is retried until it succeeds: every instance must fold the same board.
    private func refold(_ game: Game, through sequence: Int64) async -> Board {
        while true {
            do {
                let board = Board(configuration: game.boardConfiguration)
                var after: Int64 = 0
                reading: while after < sequence {
                    let events = try await store.events(after: after, limit: configuration.readLimit)
                    guard let last = events.last else { break }
                    for event in events {
                        guard event.sequence <= sequence else { break reading }
                        switch event.kind {
                        case .score, .removal: if event.gameId == game.id { _ = event.apply(to: board) }
                        case .ban: _ = event.apply(to: board)
                        default: break
                        }
                    }
                    after = last.sequence
                }
                return board
            } catch {
                metrics.followerReadErrors.increment()
                logger.warning("cannot read the log to refold a game; retrying", metadata: ["game": "\(game.id)", "error": "\(error)"])
                try? await Task.sleep(for: configuration.pollInterval)
            }
        }
    }
}
