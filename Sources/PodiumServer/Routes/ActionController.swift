import Hummingbird
import PodiumEngine

/// Seeds 001-004's `POST /api/actions/complete`: points come from the game's catalogue,
/// never from the client.
struct ActionController {
    let leaderboards: LeaderboardService
    let accounts: any AccountStore
    let writer: LogWriter
    let submissions: RateLimiter
    let bans: BanList
    let maxBodySize: Int

    struct Completion: Decodable {
        var actionId: String
        /// The game of the action; needed only when two games share an action id.
        var gameId: String?
        var sessionToken: String?
        // `data` (action-specific evidence) is accepted and ignored: no catalogue action checks it yet.
    }

    func addRoutes(to router: Router<PodiumRequestContext>) {
        router.post("api/actions/complete", use: complete)
        router.post("api/action/complete", use: complete)
    }

    @Sendable func complete(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try bans.check(identity)
        try await submissions.take(identity.userId)
        let body = try await request.decodeJSON(as: Completion.self, limit: maxBodySize)
        let (game, action) = try findAction(body.actionId, in: body.gameId)
        var sessionTokenHash: String?
        if action.requiresRun {
            guard let token = body.sessionToken else {
                throw APIError.validation("Action '\(action.id)' needs a sessionToken from POST /api/game-sessions.")
            }
            sessionTokenHash = try await SessionCheck(accounts: accounts).usableSession(token, for: identity, game: game.id).tokenHash
        }
        let result = try await writer.submit(
            LoggedEvent(
                gameId: game.id, userId: identity.userId, displayName: identity.displayName, countryCode: identity.countryCode,
                score: action.points, achievedAt: Timestamp.now(), source: .action,
                reference: action.repeatable ? nil : "action:" + action.id, sessionTokenHash: sessionTokenHash
            )
        )
        switch result.outcome {
        case .logged: break
        case .duplicate:
            throw APIError(.alreadyCompleted, "Action '\(action.id)' can be completed only once.")
        case .sessionRejected:
            throw APIError.sessionConsumed
        }
        var json = JSONWriter()
        json.beginObject()
        json.field("success", true)
        json.field("gameId", game.id)
        json.field("pointsEarned", action.points)
        json.field("newScore", result.standing?.entry.score ?? action.points)
        json.field("rank", Int64(result.standing?.entry.rank ?? 0))
        json.endObject()
        return .json(json.buffer)
    }

    private func findAction(_ actionId: String, in gameId: String?) throws(APIError) -> (Game, GameAction) {
        let games = try gameId.map { id throws(APIError) in [try leaderboards.game(id)] } ?? leaderboards.games
        let matches = games.compactMap { game in game.actions.first { $0.id == actionId }.map { (game, $0) } }
        guard let match = matches.first else {
            throw APIError(.invalidAction, "There is no action '\(actionId)'.")
        }
        guard matches.count == 1 else { throw APIError.validation("Several games have action '\(actionId)': send its gameId.") }
        return match
    }
}
