import Hummingbird

/// Admin routes: the flagged submissions.
struct AdminController {
    let accounts: any AccountStore

    func addRoutes(to router: Router<PodiumRequestContext>) {
        router.get("api/admin/flags", use: flags)
    }

    @Sendable func flags(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        _ = try context.requireAdmin()
        let limit = try LeaderboardController.integer(
            request.uri.queryParameters["limit"].map(String.init), name: "limit", default: 100, range: 1...1000
        )
        var json = JSONWriter(capacity: 2048)
        json.beginObject()
        json.key("flags")
        json.beginArray()
        for flag in try await accounts.flags(limit: limit) {
            json.beginObject()
            json.field("userId", flag.userId)
            json.field("gameId", flag.gameId)
            json.field("score", flag.score)
            json.field("reason", flag.reason)
            json.field("flaggedAt", Timestamp.format(flag.flaggedAt))
            json.endObject()
        }
        json.endArray()
        json.endObject()
        return .json(json.buffer)
    }
}
