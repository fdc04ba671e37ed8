import NIOCore
import PodiumEngine
import Synchronization

/// One game's definition and board. The board is guarded by its own lock, so games do
/// not contend with each other.
final class GameBoard: Sendable {
    let game: Game
    /// Added to the board's versions wherever a client sees them. It is the time the board
    /// was made, in microseconds, and above every version of the board it replaced: a
    /// client that resumes with a version from an earlier process or an earlier fold of
    /// this game never matches this board by chance, and gets its state again.
    private let versionBase: UInt64
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
    }

    /// A first page as found under the lock: encoded already, or a view to encode.
    private enum Found {
        case cached(ByteBuffer)
        case fresh(LeaderboardView, version: UInt64)
    }

    /// Cached first pages per board version; reads of other shapes past it are encoded
    /// each time.
    private static let maxCachedPages = 64

    /// A board for `game`, whose versions follow those of `previous`, the board it replaces.
    init(game: Game, board: sending Board, updatedAt: Int64, replacing previous: GameBoard? = nil) {
        self.game = game
        let now = UInt64(clamping: Timestamp.now()) * 1000
        self.versionBase = max(now, previous.map { $0.versionBase + $0.withBoard { board, _ in board.version } + 1 } ?? 0)
        self.state = Mutex(State(board: board, updatedAt: updatedAt))
    }

    /// Runs `body` with the board locked. Keep it short: every read of this game waits.
    func withBoard<Result: Sendable, Failure: Error>(
        _ body: (Board, _ updatedAt: Int64) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try state.withLock { (state) throws(Failure) -> Result in try body(state.board, state.updatedAt) }
    }

    /// The encoded first page of `partition`: from the cache when the board has not changed
    /// since it was encoded, else made by `view` (under the lock) and encoded outside it.
    func encodedFirstPage<Failure: Error>(
        of partition: Partition, limit: Int, _ view: (Board, _ updatedAt: Int64) throws(Failure) -> LeaderboardView
    ) throws(Failure) -> ByteBuffer {
        let key = PageKey(partition: partition, limit: limit)
        let found = try state.withLock { (state) throws(Failure) -> Found in
            if state.pagesVersion == state.board.version, let page = state.pages[key] { return .cached(page) }
            return .fresh(try view(state.board, state.updatedAt), version: state.board.version)
        }
        let version: UInt64
        let encoded: ByteBuffer
        switch found {
        case .cached(let page): return page
        case .fresh(let view, let freshVersion): (encoded, version) = (view.encoded, freshVersion)
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

    /// Applies a logged event (on replay and after commit); nil if it changed nothing.
    func apply(_ event: LoggedEvent, now: Int64) -> BoardChange? {
        state.withLock { state in
            let change = event.apply(to: state.board)
            guard let change, change.isEffective else { return nil }
            state.updatedAt = now
            return change
        }
    }

    /// The player's current standing.
    func standing(of userId: String) -> PlayerStanding? {
        withBoard { board, _ in board.standing(of: userId) }
    }

    /// The board's snapshot bytes.
    func snapshot() -> [UInt8] {
        withBoard { board, _ in board.snapshot() }
    }

    /// Removes a player (moderation).
    func remove(userId: String, now: Int64) -> BoardChange? {
        state.withLock { state in
            let change = state.board.remove(userId: userId)
            if change != nil { state.updatedAt = now }
            return change
        }
    }

    /// The version clients see of `partition`'s top N; `board` is this game's board, read
    /// under its lock.
    func clientTopVersion(of partition: Partition, in board: Board) -> UInt64 {
        versionBase + board.topVersion(of: partition)
    }

    /// The live state of `partition`: its top N.
    func topView(of partition: Partition) -> LeaderboardView {
        withBoard { board, updatedAt in
            LeaderboardView(
                gameId: game.id, scope: partition == .global ? .global : .local, countryCode: partition.country, userId: nil,
                entries: board.top(partition, limit: game.topN), updatedAt: updatedAt,
                version: clientTopVersion(of: partition, in: board), total: board.count(in: partition), nextCursor: nil
            )
        }
    }

    /// The personal state of `userId`: their entry with its global rank, if any.
    func personalView(of userId: String) -> LeaderboardView {
        withBoard { board, updatedAt in
            let entry = board.entry(of: userId, in: .global)
            return LeaderboardView(
                gameId: game.id, scope: .personal, countryCode: entry?.countryCode, userId: userId,
                entries: entry.map { [$0] } ?? [], updatedAt: updatedAt, version: versionBase + board.version,
                total: board.count(in: .global), nextCursor: nil
            )
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
