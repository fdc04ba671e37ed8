import PodiumEngine
import Synchronization

/// One game's definition and board. The board is guarded by its own lock, so games do
/// not contend with each other.
final class GameBoard: Sendable {
    let game: Game
    private let state: Mutex<State>

    private struct State {
        var board: Board
        /// When the board last changed (milliseconds since 1970).
        var updatedAt: Int64
    }

    init(game: Game, board: sending Board, updatedAt: Int64) {
        self.game = game
        self.state = Mutex(State(board: board, updatedAt: updatedAt))
    }

    /// Runs `body` with the board locked. Keep it short: every read of this game waits.
    func withBoard<Result: Sendable, Failure: Error>(
        _ body: (Board, _ updatedAt: Int64) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try state.withLock { (state) throws(Failure) -> Result in try body(state.board, state.updatedAt) }
    }

    /// Applies an event; on an effective change stamps the board's `updatedAt` with `now`.
    func apply(_ event: ScoreEvent, now: Int64) throws(BoardError) -> (BoardChange, PlayerStanding?) {
        try state.withLock { (state) throws(BoardError) -> (BoardChange, PlayerStanding?) in
            let change = try state.board.apply(event)
            if change.isEffective { state.updatedAt = now }
            return (change, state.board.standing(of: event.userId))
        }
    }

    /// Removes a player (moderation).
    func remove(userId: String, now: Int64) -> BoardChange? {
        state.withLock { state in
            let change = state.board.remove(userId: userId)
            if change != nil { state.updatedAt = now }
            return change
        }
    }

    /// The live state of `partition`: its top N.
    func topView(of partition: Partition) -> LeaderboardView {
        withBoard { board, updatedAt in
            LeaderboardView(
                gameId: game.id, scope: partition == .global ? .global : .local, countryCode: partition.country, userId: nil,
                entries: board.top(partition, limit: game.topN), updatedAt: updatedAt,
                version: board.topVersion(of: partition), total: board.count(in: partition), nextCursor: nil
            )
        }
    }

    /// The personal state of `userId`: their entry with its global rank, if any.
    func personalView(of userId: String) -> LeaderboardView {
        withBoard { board, updatedAt in
            let entry = board.entry(of: userId, in: .global)
            return LeaderboardView(
                gameId: game.id, scope: .personal, countryCode: entry?.countryCode, userId: userId,
                entries: entry.map { [$0] } ?? [], updatedAt: updatedAt, version: board.version,
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
