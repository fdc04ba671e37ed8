import Logging
import NIOCore
import PodiumEngine
import Synchronization

/// Every game's board: applies score events and answers reads.
///
/// Boards live in memory; this service is the only place that touches them, so a store
/// behind it can replay the log into it and the live hub can read from it.
public final class LeaderboardService: Sendable {
    /// The boards of every game, under one lock (each board has its own for its contents).
    struct Boards {
        /// The all-time board of each game, by game id.
        var allTime: [String: GameBoard] = [:]
        /// The period boards of each game: game id → period key → board (current and archived).
        var periods: [String: [String: GameBoard]] = [:]
        /// The current period key of each topic (`gameId@schedule`) at the last ``rollOver()``.
        var current: [String: String] = [:]
        /// Of each game, the period of each schedule the last score fell in.
        var recentPeriods: [String: [Period]] = [:]
        /// Archives dropped since ``takeDroppedArchives()`` last took them, by board id.
        var droppedArchives: [String] = []
    }

    let boards: Mutex<Boards>
    private let defaultGameId: Mutex<String?>
    /// The clock of acceptance times and of the current periods.
    public let clock: WallClock

    public init(registry: GameRegistry, clock: WallClock = .system) {
        let now = clock.now()
        var boards = Boards()
        for game in registry.games {
            boards.allTime[game.id] = GameBoard(game: game, board: Board(configuration: game.boardConfiguration), updatedAt: now)
        }
        self.boards = Mutex(boards)
        self.defaultGameId = Mutex(registry.defaultGame ?? registry.games.first?.id)
        self.clock = clock
    }

    /// Every game, by id.
    public var games: [Game] {
        boards.withLock { $0.allTime.values.map(\.game) }.sorted { $0.id < $1.id }
    }

    /// The game `GET /api/leaderboard` serves.
    public var defaultGame: String? { defaultGameId.withLock { $0 } }

    /// The live topic of a game's board of `period`: the game's id for all-time,
    /// `gameId@daily` for the current period of a schedule (read by ``gameBoard(_:)``).
    static func topic(gameId: String, period: String?) -> String {
        guard let period, period != PeriodSchedule.allTime.name else { return gameId }
        return "\(gameId)@\(period)"
    }

    /// The board of a live topic: a game's all-time board (`gameId`), or the current board
    /// of one of its period schedules (`gameId@daily`).
    func gameBoard(_ topic: String) throws(APIError) -> GameBoard {
        guard let separator = topic.firstIndex(of: "@") else {
            guard let board = boards.withLock({ $0.allTime[topic] }) else { throw .gameNotFound(topic) }
            return board
        }
        return try board(String(topic[..<separator]), period: String(topic[topic.index(after: separator)...]))
    }

    /// Adds a game, or replaces its definition and boards (after an admin edit, a restore):
    /// `board` is the all-time board, `periodBoards` the period boards.
    func setGame(_ game: Game, board: sending Board, periodBoards: [GameBoard] = []) {
        let replacement = GameBoard(game: game, board: board, updatedAt: clock.now())
        var periods: [String: GameBoard] = [:]
        for periodBoard in periodBoards { if let period = periodBoard.period { periods[period.key] = periodBoard } }
        let now = clock.now()
        boards.withLock { boards in
            boards.allTime[game.id] = replacement
            boards.periods[game.id] = periods
            for schedule in game.periodSchedules { Self.dropArchives(of: game, schedule: schedule, now: now, in: &boards) }
        }
    }

    func game(_ gameId: String) throws(APIError) -> Game {
        try gameBoard(gameId).game
    }

    /// A page of the global or a local scope of the board of `period` (all-time when nil).
    func page(
        _ gameId: String, period: String? = nil, scope: LeaderboardScope, country: CountryCode?, limit: Int, cursor: String?
    ) throws(APIError) -> LeaderboardView {
        let gameBoard = try board(gameId, period: period)
        let partition = try Self.partition(scope: scope, country: country)
        return try gameBoard.withBoard { (board, updatedAt) throws(APIError) -> LeaderboardView in
            try Self.view(of: board, in: gameBoard, partition: partition, limit: limit, cursor: cursor, updatedAt: updatedAt)
        }
    }

    /// A page of the global or a local scope as the JSON body of a read. First pages come
    /// from the board's cache while the board has not changed since they were encoded.
    func encodedPage(
        _ gameId: String, period: String? = nil, scope: LeaderboardScope, country: CountryCode?, limit: Int, cursor: String?
    ) throws(APIError) -> ByteBuffer {
        guard cursor == nil else {
            return try page(gameId, period: period, scope: scope, country: country, limit: limit, cursor: cursor).encoded
        }
        let gameBoard = try board(gameId, period: period)
        let partition = try Self.partition(scope: scope, country: country)
        return try gameBoard.encodedFirstPage(of: partition, limit: limit) { (board, updatedAt) throws(APIError) in
            try Self.view(of: board, in: gameBoard, partition: partition, limit: limit, cursor: nil, updatedAt: updatedAt)
        }
    }

    /// The answer to a first-page read, from the page cache: Podium's own page, or the top
    /// of the contract board (the default game) in a contract's shape.
    func encodedFirstPage(_ request: FirstPageRequest) throws(APIError) -> ByteBuffer {
        let (format, limit): (PageFormat, Int)
        switch request {
        case .board(let gameId, let period, let scope, let country, let limit):
            return try encodedPage(gameId, period: period, scope: scope, country: country, limit: limit, cursor: nil)
        case .defaultLeaderboard: (format, limit) = (.users, LiveDialect.contractTopCount)
        case .scoresLeaderboard(let pageLimit): (format, limit) = (.scoresLeaderboard, pageLimit)
        // As their live messages: the first 10 of the game's top N.
        case .topScores: (format, limit) = (.topScores, LiveDialect.contractTopCount)
        case .top10: (format, limit) = (.top10, LiveDialect.contractTopCount)
        }
        guard let gameId = defaultGame else { throw APIError.notFound("No games are configured.") }
        let gameBoard = try gameBoard(gameId)
        let shown = format == .topScores || format == .top10 ? min(limit, gameBoard.game.topN) : limit
        return try gameBoard.encodedFirstPage(of: .global, limit: shown, format: format) { (board, updatedAt) throws(APIError) in
            try Self.view(of: board, in: gameBoard, partition: .global, limit: shown, cursor: nil, updatedAt: updatedAt)
        }
    }

    private static func partition(scope: LeaderboardScope, country: CountryCode?) throws(APIError) -> Partition {
        switch (scope, country) {
        case (.global, _): .global
        case (.local, let country?): .local(country)
        case (.local, nil): throw .validation("The local scope needs a country (ISO 3166-1 alpha-2 code).")
        case (.personal, _): throw .validation("Read a player's own entry at /api/leaderboards/{gameId}/players/{userId}.")
        }
    }

    /// A page of `board`, the board of `gameBoard` read under its lock.
    private static func view(
        of board: Board, in gameBoard: GameBoard, partition: Partition, limit: Int, cursor: String?, updatedAt: Int64
    ) throws(APIError) -> LeaderboardView {
        let page = try Result { () throws(BoardError) in try board.page(partition, limit: limit, after: cursor) }
            .mapError(APIError.init).get()
        return LeaderboardView(
            gameId: gameBoard.game.id, scope: partition == .global ? .global : .local, countryCode: partition.country, userId: nil,
            entries: page.entries, updatedAt: updatedAt, version: board.topVersion(of: partition), total: page.total,
            nextCursor: page.nextCursor, period: gameBoard.period
        )
    }

    /// A player's standing on the all-time board; nil if they have no entry.
    func standing(_ gameId: String, userId: String) throws(APIError) -> PlayerStanding? {
        try gameBoard(gameId).standing(of: userId)
    }

    /// The player's entry and up to `radius` neighbours on each side.
    func around(
        _ gameId: String, period: String? = nil, userId: String, scope: LeaderboardScope, radius: Int
    ) throws(APIError) -> LeaderboardView {
        let gameBoard = try board(gameId, period: period)
        return try gameBoard.withBoard { (board, updatedAt) throws(APIError) -> LeaderboardView in
            guard let standing = board.standing(of: userId) else { throw .playerNotFound(userId) }
            var partition = Partition.global
            if scope == .local {
                guard let country = standing.entry.countryCode else {
                    throw .validation("Player '\(userId)' has no country, so has no local board.")
                }
                partition = .local(country)
            }
            return LeaderboardView(
                gameId: gameId, scope: scope, countryCode: partition.country, userId: userId,
                entries: board.around(userId, in: partition, radius: radius) ?? [], updatedAt: updatedAt,
                version: board.topVersion(of: partition), total: board.count(in: partition), nextCursor: nil, period: gameBoard.period
            )
        }
    }
}

extension APIError {
    /// The HTTP form of an engine refusal.
    init(_ error: BoardError) {
        switch error {
        case .scoreOutOfRange: self.init(.scoreOutOfRange, error.description)
        case .scoreOverflow: self.init(.scoreOutOfRange, error.description)
        case .invalidCursor: self.init(.validationError, "The cursor is not valid for this board.")
        case .invalidSnapshot: self.init(.internalError, error.description)
        }
    }
}
