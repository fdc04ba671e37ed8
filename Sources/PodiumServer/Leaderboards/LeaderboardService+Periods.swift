import PodiumEngine

/// A game's period boards: the current one of each schedule, fed by every score accepted
/// in its period, and the archived ones, which keep their final standings.
///
/// Which period a score counts in is decided by the time the writer accepted it
/// (``LoggedEvent/acceptedAt``), never by the clock at the time of the fold, so every
/// instance and every replay folds each score into the same periods. The clock only
/// decides which period is current for reads and live subscriptions (``rollOver()``).
extension LeaderboardService {
    /// Where an event is applied: the board, and the live topic it is published under
    /// (nil for a period that is not the current one).
    struct Target {
        var board: GameBoard
        var topic: String?
    }

    /// The board of `period` of game `gameId`: the all-time board for nil or `all-time`,
    /// the current period of a schedule by its name (`daily`), or any kept period by its
    /// key (`2026-12-01`, `2026-W49`, `2026-12`).
    /// - Throws: ``APIError`` 404 `GAME_NOT_FOUND` or `PERIOD_NOT_FOUND`.
    func board(_ gameId: String, period name: String?) throws(APIError) -> GameBoard {
        let allTime = try gameBoard(gameId)
        guard let name, name != PeriodSchedule.allTime.name else { return allTime }
        let game = allTime.game
        let now = clock.now()
        if let schedule = game.periodSchedules.first(where: { $0.name == name }), let current = schedule.period(containing: now) {
            if let board = periodBoard(of: game, for: current, now: now) { return board }
        }
        let found = boards.withLock { $0.periods[gameId]?[name] }
        guard let found else { throw .periodNotFound(name, gameId: gameId) }
        return found
    }

    /// The boards `event` is applied to: for a score, the all-time board and the board of
    /// each schedule's period that holds its acceptance time; for a removal or a ban,
    /// every board of the game, archived ones included (moderation reaches the archives;
    /// scores never do once their period is over).
    func targets(of event: LoggedEvent, in gameId: String) -> [Target] {
        guard let allTime = try? gameBoard(gameId) else { return [] }
        var targets = [Target(board: allTime, topic: gameId)]
        let game = allTime.game
        let now = clock.now()
        switch event.kind {
        case .score:
            for (period, found) in periodBoards(of: game, holding: event.acceptedAt) {
                // A score for a period already dropped from the archives is counted nowhere.
                guard let board = found ?? periodBoard(of: game, for: period, now: now, creatingArchives: false) else { continue }
                let isCurrent = period.start <= now && now < period.end
                targets.append(Target(board: board, topic: isCurrent ? Self.topic(gameId: gameId, period: period.schedule.name) : nil))
            }
        default:
            let current = Set(game.periodSchedules.compactMap { $0.period(containing: now) })
            for board in periodBoards(of: gameId) {
                let topic = board.period.flatMap { current.contains($0) ? Self.topic(gameId: gameId, period: $0.schedule.name) : nil }
                targets.append(Target(board: board, topic: topic))
            }
        }
        return targets
    }

    /// The period of each of `game`'s schedules that holds `time`, with its board if it has
    /// one, under one lock. Scores come in time order, so each schedule's last period is
    /// kept and reused while `time` falls in it (no key to format, no calendar to read).
    private func periodBoards(of game: Game, holding time: Int64) -> [(Period, GameBoard?)] {
        let schedules = game.periodSchedules
        return boards.withLock { boards in
            var recent = boards.recentPeriods[game.id] ?? []
            if recent.count != schedules.count || zip(recent, schedules).contains(where: { $0.schedule != $1 }) { recent = [] }
            var found: [(Period, GameBoard?)] = []
            for (index, schedule) in schedules.enumerated() {
                let period: Period
                if index < recent.count, recent[index].start <= time, time < recent[index].end {
                    period = recent[index]
                } else {
                    guard let containing = schedule.period(containing: time) else { continue }
                    period = containing
                    if index < recent.count { recent[index] = period } else { recent.append(period) }
                }
                found.append((period, boards.periods[game.id]?[period.key]))
            }
            boards.recentPeriods[game.id] = recent
            return found
        }
    }

    /// Every period board of `gameId`, current and archived, oldest first.
    func periodBoards(of gameId: String) -> [GameBoard] {
        boards.withLock { Array(($0.periods[gameId] ?? [:]).values) }.sorted { ($0.period?.start ?? 0, $0.boardId) < ($1.period?.start ?? 0, $1.boardId) }
    }

    /// Puts a period board loaded from a snapshot in place.
    func setPeriodBoard(_ game: Game, period: Period, board: sending Board) {
        let gameBoard = GameBoard(game: game, period: period, board: board, updatedAt: clock.now())
        boards.withLock { $0.periods[game.id, default: [:]][period.key] = gameBoard }
    }

    /// Makes each schedule's period that the clock has entered since the last call the
    /// current one (empty until a score of it is folded), drops archives beyond each game's
    /// `keepArchives`, and returns the live topics whose period changed.
    func rollOver() -> [String] {
        let now = clock.now()
        var changed: [String] = []
        for game in games {
            for schedule in game.periodSchedules {
                guard let period = schedule.period(containing: now) else { continue }
                let topic = Self.topic(gameId: game.id, period: schedule.name)
                let previous = boards.withLock { boards in
                    defer { boards.current[topic] = period.key }
                    return boards.current[topic]
                }
                guard previous != period.key else { continue }
                _ = periodBoard(of: game, for: period, now: now)
                if previous != nil { changed.append(topic) }
            }
        }
        return changed
    }

    /// The board of `period`, created empty if the game has none yet; nil when
    /// `creatingArchives` is false and the period is over and not kept.
    private func periodBoard(of game: Game, for period: Period, now: Int64, creatingArchives: Bool = true) -> GameBoard? {
        boards.withLock { boards -> GameBoard? in
            if let existing = boards.periods[game.id]?[period.key] { return existing }
            let kept = (boards.periods[game.id] ?? [:]).values.filter { $0.period?.schedule == period.schedule && $0.period!.end <= now }
            let isArchive = period.end <= now
            if isArchive, !creatingArchives,
                kept.count >= game.keepArchives && kept.allSatisfy({ $0.period!.start > period.start })
            {
                return nil
            }
            let board = GameBoard(game: game, period: period, board: Board(configuration: game.boardConfiguration), updatedAt: now)
            boards.periods[game.id, default: [:]][period.key] = board
            Self.dropArchives(of: game, schedule: period.schedule, now: now, in: &boards)
            return board
        }
    }

    /// Drops the finished periods of `schedule` beyond the newest `keepArchives`.
    static func dropArchives(of game: Game, schedule: PeriodSchedule, now: Int64, in boards: inout Boards) {
        let finished = (boards.periods[game.id] ?? [:]).values.compactMap(\.period)
            .filter { $0.schedule == schedule && $0.end <= now }
            .sorted { $0.start > $1.start }
        for period in finished.dropFirst(game.keepArchives) {
            boards.periods[game.id]?[period.key] = nil
            boards.droppedArchives.append("\(game.id)@\(period.key)")
        }
    }

    /// The ids (`gameId@periodKey`) of the archives dropped since the last call, for the
    /// copies kept elsewhere (the DynamoDB replica).
    func takeDroppedArchives() -> [String] {
        boards.withLock { boards in
            defer { boards.droppedArchives.removeAll() }
            return boards.droppedArchives
        }
    }
}

extension APIError {
    static func periodNotFound(_ name: String, gameId: String) -> APIError {
        APIError(.periodNotFound, "Game '\(gameId)' has no period '\(name)' (a schedule's name such as daily, or a kept period's key such as 2026-12-01).")
    }
}
