import HTTPTypes
import Hummingbird
import PodiumEngine

/// Seed 000's server-to-server ingest: `POST /score` from a trusted game server, with
/// the shared secret in `x-realtime-secret`.
struct IngestController {
    let leaderboards: LeaderboardService
    let writer: LogWriter
    /// The shared secret; nil accepts callers on this machine only.
    let secret: String?
    let maxBodySize: Int

    static let secretHeader = HTTPField.Name("x-realtime-secret")!

    struct Body: Decodable {
        var gameId: String
        var userId: String
        var displayName: String
        var countryCode: String?
        var score: Int64
        var achievedAt: String
    }

    func addRoutes(to router: Router<PodiumRequestContext>) {
        router.post("score", use: ingest)
    }

    @Sendable func ingest(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        try authorize(request, context: context)
        let body = try await request.decodeJSON(as: Body.self, limit: maxBodySize)
        let event = try Self.validate(body)
        _ = try leaderboards.game(body.gameId)
        let result = try await writer.submit(
            LoggedEvent(
                gameId: body.gameId, userId: event.userId, displayName: event.displayName, countryCode: event.countryCode,
                score: event.score, achievedAt: event.achievedAt, source: .ingest
            )
        )
        return .json(result.encoded(gameId: body.gameId))
    }

    private func authorize(_ request: Request, context: PodiumRequestContext) throws(APIError) {
        guard let secret else {
            guard context.isLoopback else {
                throw .unauthorized("Ingest without REALTIME_INGEST_SECRET accepts callers on this machine only.")
            }
            return
        }
        guard let given = request.headers[Self.secretHeader], ConstantTime.equals(given, secret) else {
            throw .unauthorized("Missing or wrong x-realtime-secret.")
        }
    }

    /// Checks seed 000's body and turns it into an engine event.
    static func validate(_ body: Body) throws(APIError) -> ScoreEvent {
        guard Game.isValidID(body.gameId) else { throw .validation("gameId must be a game's id.") }
        guard !body.userId.isEmpty, body.userId.utf8.count <= 128 else { throw .validation("userId must be 1-128 bytes.") }
        guard !body.displayName.isEmpty, body.displayName.count <= 64 else {
            throw .validation("displayName must be 1-64 characters.")
        }
        var country: CountryCode?
        if let code = body.countryCode {
            guard let parsed = CountryCode.assigned(code) else {
                throw .validation("countryCode '\(code)' is not an ISO 3166-1 alpha-2 code.")
            }
            country = parsed
        }
        guard body.score >= 0 else { throw APIError(.scoreOutOfRange, "score must not be negative.") }
        guard let achievedAt = Timestamp.parse(body.achievedAt) else {
            throw .validation("achievedAt must be an RFC 3339 time such as 2026-11-23T10:00:00Z.")
        }
        return ScoreEvent(userId: body.userId, displayName: body.displayName, countryCode: country, score: body.score, achievedAt: achievedAt)
    }
}
