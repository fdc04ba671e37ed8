import Hummingbird

/// `POST /api/v1/scores/update`, named by both spec 002 (`{action_type, score_increment}`)
/// and spec 003 (`{scoreToken}`): the body tells which contract the client speaks.
struct ScoreUpdateRoute {
    let spec002: LiveScoreboardContract
    let spec003: ScoreTokenContract
    let maxBodySize: Int

    struct Body: Decodable {
        var scoreToken: String?
        var action_type: String?
        var score_increment: Int64?
    }

    func addRoutes(to router: Router<PodiumRequestContext>) {
        router.post("api/v1/scores/update", use: update)
    }

    @Sendable func update(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        _ = try context.requireIdentity()
        let body = try await request.decodeJSON(as: Body.self, limit: maxBodySize)
        switch (body.scoreToken, body.action_type) {
        case (let token?, nil): return try await spec003.redeem(token, context: context)
        case (nil, let actionType?): return try await spec002.update(actionType: actionType, increment: body.score_increment, context: context)
        default:
            throw APIError.validation("Send {\"scoreToken\"} (spec 003) or {\"action_type\", \"score_increment\"} (spec 002).")
        }
    }
}
