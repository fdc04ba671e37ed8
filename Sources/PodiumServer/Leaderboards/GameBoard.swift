import NIOCore
import PodiumEngine
import Synchronization

/// One game's definition and board. The board is guarded by its own lock, so games do
/// not contend with each other. Its versions are log positions (the sequence of the event
/// that last changed a view), so every instance that folded the same log reports the same
/// version for the same state.
final class GameBoard: Sendable {
    let game: Game
    /// The period of a period board; nil for the all-time board.
    let period: Period?
    private let state: Mutex<State>

    private struct State {
        var board: Board
        /// When the board last changed (milliseconds since 1970).
        var updatedAt: Int64
        /// Encoded first pages, valid while the board's version is `pagesVersion`.
        var pages: [PageKey: ByteBuffer] = [:]
        var pagesVersion: UInt64 = 0
    }

    private struct PageKey: Hashable {
        var partition: Partition
        var limit: Int
        var format: PageFormat
    }

    /// A first page as found under the lock: encoded already, or a view to encode.
    private enum Found {
        case cached(ByteBuffer)
        case fresh(LeaderboardView, version: UInt64)
    }

    /// Cached first pages per board version; reads of other shapes past it are encoded
    /// each time.
    private static let maxCachedPages = 64

    init(game: Game, period: Period? = nil, board: sending Board, updatedAt: Int64) {
        self.game = game
        self.period = period
        self.state = Mutex(State(board: board, updatedAt: updatedAt))
    }

    /// Runs `body` with the board locked. Keep it short: every read of this game waits.
    func withBoard<Result: Sendable, Failure: Error>(
        _ body: (Board, _ updatedAt: Int64) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try state.withLock { (state) throws(Failure) -> Result in try body(state.board, state.updatedAt) }
    }

    /// The encoded first page of `partition` in `format`: from the cache when the board has
    /// not changed since it was encoded, else made by `view` (under the lock) and encoded
    /// outside it.
    func encodedFirstPage<Failure: Error>(
        of partition: Partition, limit: Int, format: PageFormat = .state,
        _ view: (Board, _ updatedAt: Int64) throws(Failure) -> LeaderboardView
    ) throws(Failure) -> ByteBuffer {
        let key = PageKey(partition: partition, limit: limit, format: format)
        let found = try state.withLock { (state) throws(Failure) -> Found in
            if state.pagesVersion == state.board.version, let page = state.pages[key] { return .cached(page) }
            return .fresh(try view(state.board, state.updatedAt), version: state.board.version)
        }
        let version: UInt64
        let encoded: ByteBuffer
        switch found {
        case .cached(let page): return page
        case .fresh(let view, let freshVersion): (encoded, version) = (format.encode(view), freshVersion)
        }
        state.withLock { state in
            guard state.board.version == version else { return }
            if state.pagesVersion != version || state.pages.count >= Self.maxCachedPages {
                state.pages.removeAll(keepingCapacity: true)
                state.pagesVersion = version
            }
            state.pages[key] = encoded
        }
        return encoded
    }

    /// Applies a logged score or removal; nil if it changed nothing.
    func apply(_ event: LoggedEvent, now: Int64) -> BoardChange? {
        state.withLock { state in
            let change = event.apply(to: state.board)
            guard let change, change.isEffective else { return nil }
            state.updatedAt = now
            return change
        }
    }

    /// Gives every view the version `version` (a game redefined at that log position).
    func markEverythingChanged(at version: UInt64) {
        state.withLock { $0.board.markEverythingChanged(at: version) }
    }

    /// The player's current standing.
    func standing(of userId: String) -> PlayerStanding? {
        withBoard { board, _ in board.standing(of: userId) }
    }

    /// The id of its snapshot and of its topic in the log's fold: the game's id for the
    /// all-time board, `gameId@periodKey` for a period board.
    var boardId: String { period.map { "\(game.id)@\($0.key)" } ?? game.id }

    /// The board's snapshot bytes.
    func snapshot() -> [UInt8] {
        withBoard { board, _ in board.snapshot() }
    }

    /// The live state of `partition`: its top N.
    func topView(of partition: Partition) -> LeaderboardView {
        withBoard { board, updatedAt in
            LeaderboardView(
                gameId: game.id, scope: partition == .global ? .global : .local, countryCode: partition.country, userId: nil,
                entries: board.top(partition, limit: game.topN), updatedAt: updatedAt,
                version: board.topVersion(of: partition), total: board.count(in: partition), nextCursor: nil, period: period
            )
        }
    }

    /// The personal state of `userId`: their entry with its global rank and their standing
    /// (global and local rank and totals), if they are on the board.
    func personalView(of userId: String) -> LeaderboardView {
        withBoard { board, updatedAt in
            let standing = board.standing(of: userId)
            var view = LeaderboardView(
                gameId: game.id, scope: .personal, countryCode: standing?.entry.countryCode, userId: userId,
                entries: standing.map { [$0.entry] } ?? [], updatedAt: updatedAt, version: board.version,
                total: board.count(in: .global), nextCursor: nil
            )
            view.standing = standing
            view.period = period
            return view
        }
    }
}

extension Partition {
    /// The country of a local partition.
    var country: CountryCode? {
        if case .local(let country) = self { return country }
        return nil
    }
}
