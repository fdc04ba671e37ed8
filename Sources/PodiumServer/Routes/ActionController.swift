import Hummingbird
import PodiumEngine

/// `POST /api/actions/complete`: points come from the game's catalogue, never from the
/// client. The contracts of specs 001-004 complete actions through ``record(_:of:for:sessionTokenHash:repeatStatus:)``.
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
    }

    @Sendable func complete(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        try await completeAction(request, context: context, repeatStatus: .conflict)
    }

    /// Completes the body's action; a once-only action's repeat answers `repeatStatus`
    /// (409 here and for spec 001, 400 on spec 004's route).
    /// Without a `gameId` the action is looked up in `defaultGame` (spec 004's board), else
    /// in whichever game has it.
    func completeAction(
        _ request: Request, context: PodiumRequestContext, repeatStatus: HTTPResponse.Status, defaultGame: String? = nil
    ) async throws -> Response {
        let identity = try context.requireIdentity()
        try bans.check(identity)
        try await submissions.take(identity.userId)
        let body = try await request.decodeJSON(as: Completion.self, limit: maxBodySize)
        let (game, action) = try findAction(body.actionId, in: body.gameId ?? defaultGame)
        var sessionTokenHash: String?
        if action.requiresRun {
            guard let token = body.sessionToken else {
                throw APIError.validation("Action '\(action.id)' needs a sessionToken from POST /api/game-sessions.")
            }
            sessionTokenHash = try await SessionCheck(accounts: accounts).usableSession(token, for: identity, game: game.id).tokenHash
        }
        let result = try await record(action, of: game, for: identity, sessionTokenHash: sessionTokenHash, repeatStatus: repeatStatus)
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

    /// Logs one completion of `action` (its catalogue points) for `identity`, spending the
    /// run session of `sessionTokenHash` if given, and answers once it is applied.
    /// - Throws: `ALREADY_COMPLETED` (`repeatStatus`) for a once-only action done before,
    ///   `SESSION_CONSUMED` (409) when the session was spent.
    func record(
        _ action: GameAction, of game: Game, for identity: Identity, sessionTokenHash: String?,
        repeatStatus: HTTPResponse.Status = .conflict
    ) async throws -> LogWriter.Result {
        let result = try await writer.submit(
            LoggedEvent(
                gameId: game.id, userId: identity.userId, displayName: identity.displayName, countryCode: identity.countryCode,
                score: action.points, achievedAt: Timestamp.now(), source: .action,
                reference: action.repeatable ? nil : "action:" + action.id, sessionTokenHash: sessionTokenHash
            )
        )
        switch result.outcome {
        case .logged: return result
        case .duplicate: throw APIError.alreadyCompleted(action.id, status: repeatStatus)
        case .sessionRejected: throw APIError.sessionConsumed
        }
    }

    /// The game and catalogue entry of `actionId`: in `gameId`, else in whichever game has it.
    func findAction(_ actionId: String, in gameId: String?) throws(APIError) -> (Game, GameAction) {
        let games = try gameId.map { id throws(APIError) in [try leaderboards.game(id)] } ?? leaderboards.games
        let matches = games.compactMap { game in game.actions.first { $0.id == actionId }.map { (game, $0) } }
        guard let match = matches.first else { throw APIError.invalidAction(actionId) }
        guard matches.count == 1 else { throw APIError.validation("Several games have action '\(actionId)': send its gameId.") }
        return match
    }
}

extension APIError {
    static func invalidAction(_ actionId: String) -> APIError {
        APIError(.invalidAction, "There is no action '\(actionId)'.")
    }

    /// A once-only action's repeat: 409, or `status` where a contract's spec says so.
    static func alreadyCompleted(_ actionId: String, status: HTTPResponse.Status = .conflict) -> APIError {
        var error = APIError(.alreadyCompleted, "Action '\(actionId)' can be completed only once.")
        if status != error.status { error.statusOverride = status }
        return error
    }
}
