import PodiumEngine

/// How far a restore has already folded: a board loaded from a snapshot holds its events
/// up to the snapshot's sequence (by ``GameBoard/boardId``), and the administrative state
/// holds every administrative event up to the newest snapshot's.
struct RestoredPositions {
    var boards: [String: Int64]
    var administrative: Int64

    func holds(_ event: LoggedEvent, onBoard boardId: String) -> Bool {
        event.sequence <= boards[boardId] ?? 0
    }
}

extension LogFollower {
    /// Folds one event; says whether it changed a board. During a restore, `restoring`
    /// says what the loaded snapshots already hold, and nothing is published.
    func fold(_ event: LoggedEvent, restoring restored: RestoredPositions?) async -> Bool {
        switch event.kind {
        case .score, .removal:
            return apply(event, to: leaderboards.targets(of: event, in: event.gameId), restoring: restored)
        case .ban:
            bans.ban(event.userId)
            var changed = false
            for game in leaderboards.games {
                changed = apply(event, to: leaderboards.targets(of: event, in: game.id), restoring: restored) || changed
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

    /// Applies `event` to each target board a restore has not loaded it into, publishing
    /// unless restoring; says whether it changed the first (the all-time board).
    private func apply(_ event: LoggedEvent, to targets: [LeaderboardService.Target], restoring restored: RestoredPositions?) -> Bool {
        var changedAllTime = false
        let now = leaderboards.clock.now()
        for (index, target) in targets.enumerated() where restored?.holds(event, onBoard: target.board.boardId) != true {
            guard let change = target.board.apply(event, now: now) else { continue }
            if index == 0 {
                changedAllTime = true
                metrics.recordApplied(gameId: target.board.game.id, count: 1)
            }
            if restored == nil, let topic = target.topic { hub.publish(gameId: topic, change: change) }
        }
        return changedAllTime
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

    /// Adds or redefines a game at log position `sequence`. Under the same ranking rules and
    /// periods the boards are kept; under new rules or periods they are refolded from the
    /// log up to `sequence` (so a schedule's boards always hold every score accepted in
    /// their periods, whether folded live or replayed).
    /// Either way every view of the game takes the version `sequence` and its subscribers
    /// get it.
    func define(_ game: Game, at sequence: Int64) async {
        let board: Board
        var periodBoards: [GameBoard] = []
        let now = leaderboards.clock.now()
        if let current = try? leaderboards.gameBoard(game.id), current.game.rulesFingerprint == game.rulesFingerprint,
            current.game.periodSchedules == game.periodSchedules
        {
            board = Self.copy(current, as: game)
            for periodBoard in leaderboards.periodBoards(of: game.id) {
                guard let period = periodBoard.period else { continue }
                periodBoards.append(GameBoard(game: game, period: period, board: Self.copy(periodBoard, as: game), updatedAt: now))
            }
        } else if (try? leaderboards.gameBoard(game.id)) == nil {
            board = Board(configuration: game.boardConfiguration)
        } else {
            board = await refold(game, through: sequence, periodBoards: &periodBoards)
        }
        board.markEverythingChanged(at: UInt64(sequence))
        for periodBoard in periodBoards { periodBoard.markEverythingChanged(at: UInt64(sequence)) }
        let topics = [game.id] + leaderboards.periodBoards(of: game.id).compactMap { $0.period.map { LeaderboardService.topic(gameId: game.id, period: $0.schedule.name) } }
        leaderboards.setGame(game, board: board, periodBoards: periodBoards)
        for topic in Set(topics) { hub.publishEverything(gameId: topic) }
    }

    /// A board with the contents of `gameBoard`, for `game`'s new definition.
    private static func copy(_ gameBoard: GameBoard, as game: Game) -> Board {
        (try? Board(configuration: game.boardConfiguration, snapshot: gameBoard.snapshot())) ?? Board(configuration: game.boardConfiguration)
    }

    /// `game`'s all-time board folded from its events (and the bans) up to `sequence`, its
    /// period boards in `periodBoards`. A read that fails is retried until it succeeds:
    /// every instance must fold the same boards.
    private func refold(_ game: Game, through sequence: Int64, periodBoards: inout [GameBoard]) async -> Board {
        while true {
            do {
                let board = Board(configuration: game.boardConfiguration)
                var periods: [Period: GameBoard] = [:]
                let now = leaderboards.clock.now()
                func periodBoard(_ period: Period) -> GameBoard {
                    if let board = periods[period] { return board }
                    let board = GameBoard(game: game, period: period, board: Board(configuration: game.boardConfiguration), updatedAt: now)
                    periods[period] = board
                    return board
                }
                var after: Int64 = 0
                reading: while after < sequence {
                    let events = try await store.events(after: after, limit: configuration.readLimit)
                    guard let last = events.last else { break }
                    for event in events {
                        guard event.sequence <= sequence else { break reading }
                        switch event.kind {
                        case .score where event.gameId == game.id:
                            _ = event.apply(to: board)
                            for schedule in game.periodSchedules {
                                if let period = schedule.period(containing: event.acceptedAt) { _ = periodBoard(period).apply(event, now: now) }
                            }
                        case .removal where event.gameId == game.id, .ban:
                            _ = event.apply(to: board)
                            for periodBoard in periods.values { _ = periodBoard.apply(event, now: now) }
                        default: break
                        }
                    }
                    after = last.sequence
                }
                periodBoards = Array(periods.values)
                return board
            } catch {
                metrics.followerReadErrors.increment()
                logger.warning("cannot read the log to refold a game; retrying", metadata: ["game": "\(game.id)", "error": "\(error)"])
                try? await Task.sleep(for: configuration.pollInterval)
            }
        }
    }
}
