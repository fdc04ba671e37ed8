import Logging
import NIOCore
import PodiumEngine
import Synchronization

/// Every game's board: applies score events and answers reads.
///
/// Boards live in memory; this service is the only place that touches them, so a store
/// behind it can replay the log into it and the live hub can read from it.
public final class LeaderboardService: Sendable {
    private let boards: Mutex<[String: GameBoard]>
    private let defaultGameId: Mutex<String?>

    public init(registry: GameRegistry) {
        let now = Timestamp.now()
        var boards: [String: GameBoard] = [:]
        for game in registry.games {
            boards[game.id] = GameBoard(game: game, board: Board(configuration: game.boardConfiguration), updatedAt: now)
        }
        self.boards = Mutex(boards)
        self.defaultGameId = Mutex(registry.defaultGame ?? registry.games.first?.id)
    }

    /// Every game, by id.
    public var games: [Game] {
        boards.withLock { $0.values.map(\.game) }.sorted { $0.id < $1.id }
    }

    /// The game `GET /api/leaderboard` serves.
    public var defaultGame: String? { defaultGameId.withLock { $0 } }

    func gameBoard(_ gameId: String) throws(APIError) -> GameBoard {
        guard let board = boards.withLock({ $0[gameId] }) else { throw .gameNotFound(gameId) }
        return board
    }

    /// Adds a game, or replaces its definition and board (after an admin edit, a restore).
    func setGame(_ game: Game, board: sending Board) {
        let replacement = GameBoard(game: game, board: board, updatedAt: Timestamp.now())
        boards.withLock { $0[game.id] = replacement }
    }

    func game(_ gameId: String) throws(APIError) -> Game {
        try gameBoard(gameId).game
    }

    /// A page of the global or a local scope.
    func page(
        _ gameId: String, scope: LeaderboardScope, country: CountryCode?, limit: Int, cursor: String?
    ) throws(APIError) -> LeaderboardView {
        let gameBoard = try gameBoard(gameId)
        let partition = try Self.partition(scope: scope, country: country)
        return try gameBoard.withBoard { (board, updatedAt) throws(APIError) -> LeaderboardView in
            try Self.view(of: board, in: gameBoard, partition: partition, limit: limit, cursor: cursor, updatedAt: updatedAt)
        }
    }

    /// A page of the global or a local scope as the JSON body of a read. First pages come
    /// from the board's cache while the board has not changed since they were encoded.
    func encodedPage(
        _ gameId: String, scope: LeaderboardScope, country: CountryCode?, limit: Int, cursor: String?
    ) throws(APIError) -> ByteBuffer {
        guard cursor == nil else { return try page(gameId, scope: scope, country: country, limit: limit, cursor: cursor).encoded }
        let gameBoard = try gameBoard(gameId)
        let partition = try Self.partition(scope: scope, country: country)
        return try gameBoard.encodedFirstPage(of: partition, limit: limit) { (board, updatedAt) throws(APIError) in
            try Self.view(of: board, in: gameBoard, partition: partition, limit: limit, cursor: nil, updatedAt: updatedAt)
        }
    }

    /// Seed 004's top 10 of the default game (`GET /api/leaderboard`), from the page cache.
    func encodedDefaultLeaderboard() throws(APIError) -> ByteBuffer {
        guard let gameId = defaultGame else { throw APIError.notFound("No games are configured.") }
        let gameBoard = try gameBoard(gameId)
        return try gameBoard.encodedFirstPage(of: .global, limit: 10, format: .users) { (board, updatedAt) throws(APIError) in
            try Self.view(of: board, in: gameBoard, partition: .global, limit: 10, cursor: nil, updatedAt: updatedAt)
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
            nextCursor: page.nextCursor
        )
    }

    /// A player's standing; nil if they have no entry.
    func standing(_ gameId: String, userId: String) throws(APIError) -> PlayerStanding? {
        try gameBoard(gameId).withBoard { board, _ in board.standing(of: userId) }
    }

    /// The player's entry and up to `radius` neighbours on each side.
    func around(_ gameId: String, userId: String, scope: LeaderboardScope, radius: Int) throws(APIError) -> LeaderboardView {
        let gameBoard = try gameBoard(gameId)
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
                version: board.topVersion(of: partition), total: board.count(in: partition), nextCursor: nil
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
