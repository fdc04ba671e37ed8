import Hummingbird
import NIOCore

/// Spec 004 (technical specification): `GET /api/leaderboard` (``LeaderboardController``,
/// the contract game's top 10 from the page cache), `POST /api/action/complete` with the
/// spec's 400 `ALREADY_COMPLETED` and `INVALID_ACTION`, and the `LEADERBOARD_UPDATE`
/// messages of `/api/leaderboard/live` (``LiveDialect/spec004``).
struct TechnicalSpecContract {
    let board: ContractBoard
    let actions: ActionController

    func addRoutes(to router: Router<PodiumRequestContext>) {
        router.post("api/action/complete", use: complete)
    }

    /// Podium's action completion on the contract game, with a repeat answered 400.
    @Sendable func complete(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        try await actions.completeAction(request, context: context, repeatStatus: .badRequest, defaultGame: try board.game().id)
    }

    /// `{"type":"LEADERBOARD_UPDATE","data":{"users":[{userId, username, score, rank}],"updatedAt":"…"}}`
    /// (on connect too: the full board after every reconnect).
    static func leaderboardUpdate(_ view: LeaderboardView) -> ByteBuffer {
        var json = JSONWriter(capacity: 128 + view.contractEntries.count * 96)
        json.beginObject()
        json.field("type", "LEADERBOARD_UPDATE")
        json.key("data")
        view.writeUsers(view.contractEntries, to: &json)
        json.endObject()
        return json.buffer
    }
}
