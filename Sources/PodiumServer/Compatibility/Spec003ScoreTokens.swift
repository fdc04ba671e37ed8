import Foundation
import Hummingbird
import JWTKit
import NIOCore
import PodiumEngine

/// Spec 003 (score tokens): `POST /api/v1/actions/complete` issues a server-signed score
/// token, `POST /api/v1/scores/update {scoreToken}` redeems it once, `GET
/// /api/v1/scores/leaderboard` reads the board, and `/api/v1/scores/live` pushes
/// `leaderboard:initial`, `leaderboard:update` and `score:personal`
/// (``LiveDialect/spec003``).
///
/// A score token is an HS256 JWT (`SCORE_TOKEN_SECRET`) naming the user, the action and
/// its catalogue points; its id is a run session of the contract game, spent in the same
/// transaction that logs the points, so it is single-use over a fleet like a run token.
struct ScoreTokenContract {
    let board: ContractBoard
    let leaderboards: LeaderboardService
    let accounts: any AccountStore
    let actions: ActionController
    let bans: BanList
    let issues: RateLimiter
    let submissions: RateLimiter
    let tokens: ScoreTokenSigner
    let maxBodySize: Int

    struct Completion: Decodable {
        var actionType: String
        // `actionData` and `clientTimestamp` are accepted and not used: points come from the
        // catalogue.
    }

    func addRoutes(to router: Router<PodiumRequestContext>) {
        router.post("api/v1/actions/complete", use: complete)
        router.get("api/v1/scores/leaderboard", use: leaderboard)
    }

    /// `{scoreToken, pointsEarned, tokenExpiresAt, actionId}`.
    @Sendable func complete(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try bans.check(identity)
        try await issues.take(identity.userId)
        let body = try await request.decodeJSON(as: Completion.self, limit: maxBodySize)
        let (game, action) = try board.action(body.actionType)
        guard !action.requiresRun else { throw APIError.validation("Action '\(action.id)' needs a run: POST /api/actions/complete.") }
        let tokenId = Hex.random()
        let session = try await accounts.startSession(token: tokenId, for: identity, game: game.id, lifetime: Int64(tokens.lifetime) * 1000)
        let actionId = UUID().uuidString.lowercased()
        let token = try await tokens.sign(
            ScoreTokenClaims(
                sub: .init(value: identity.userId), exp: .init(value: Date(timeIntervalSince1970: Double(session.expiresAt) / 1000)),
                jti: .init(value: tokenId), actionId: actionId, actionType: action.id, points: action.points
            )
        )
        var json = JSONWriter()
        json.beginObject()
        json.field("scoreToken", token)
        json.field("pointsEarned", action.points)
        json.field("tokenExpiresAt", Timestamp.format(session.expiresAt))
        json.field("actionId", actionId)
        json.endObject()
        return .json(json.buffer)
    }

    /// Redeems a score token: `{previousScore, pointsAwarded, newScore, newRank}`.
    func redeem(_ scoreToken: String, context: PodiumRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try bans.check(identity)
        try await submissions.take(identity.userId)
        let claims = try await tokens.verify(scoreToken)
        guard claims.sub.value == identity.userId else {
            throw APIError(.tokenUserMismatch, "The score token was issued to another user.")
        }
        let (game, action) = try board.action(claims.actionType)
        guard let session = try await accounts.session(tokenHash: RunSession.hash(claims.jti.value)), session.userId == identity.userId else {
            throw APIError.scoreTokenExpired
        }
        guard session.consumedAt == nil else { throw APIError.scoreTokenUsed }
        guard session.expiresAt > Timestamp.now() else { throw APIError.scoreTokenExpired }
        let result: LogWriter.Result
        do {
            result = try await actions.record(action, of: game, for: identity, sessionTokenHash: session.tokenHash)
        } catch let error as APIError where error == .sessionConsumed {
            throw APIError.scoreTokenUsed
        }
        let newScore = result.standing?.entry.score ?? action.points
        var json = JSONWriter()
        json.beginObject()
        json.field("previousScore", newScore - action.points)
        json.field("pointsAwarded", action.points)
        json.field("newScore", newScore)
        json.field("newRank", Int64(result.standing?.entry.rank ?? 0))
        json.endObject()
        return .json(json.buffer)
    }

    /// `{success, data: {leaderboard: [{rank, userId, username, score, avatarUrl}]},
    /// timestamp}`, the top `limit` (1-100, default 10).
    @Sendable func leaderboard(_ request: Request, context: PodiumRequestContext) throws -> Response {
        let limit = try LeaderboardController.integer(
            request.uri.queryParameters["limit"].map(String.init), name: "limit", default: 10, range: 1...LeaderboardController.maxLimit
        )
        return .json(try leaderboards.encodedFirstPage(.scoresLeaderboard(limit: limit)))
    }

    /// The body of `GET /api/v1/scores/leaderboard` showing `view`.
    static func leaderboard(_ view: LeaderboardView) -> ByteBuffer {
        var json = JSONWriter(capacity: 128 + view.entries.count * 120)
        json.beginObject()
        json.field("success", true)
        json.key("data")
        json.beginObject()
        Self.writeLeaderboard(view.entries[...], to: &json)
        json.endObject()
        json.field("timestamp", Timestamp.format(view.updatedAt))
        json.endObject()
        return json.buffer
    }

    private static func writeLeaderboard(_ entries: ArraySlice<RankedEntry>, to json: inout JSONWriter) {
        json.key("leaderboard")
        ContractBoard.writeEntries(entries, userId: "userId", avatarUrl: "avatarUrl", to: &json)
    }

    /// `{"event":"leaderboard:initial"|"leaderboard:update","data":{"leaderboard":[…]},"timestamp":"…"}`.
    static func leaderboardMessage(_ view: LeaderboardView, isInitial: Bool) -> ByteBuffer {
        var json = JSONWriter(capacity: 128 + view.contractEntries.count * 120)
        json.beginObject()
        json.field("event", isInitial ? "leaderboard:initial" : "leaderboard:update")
        json.key("data")
        json.beginObject()
        writeLeaderboard(view.contractEntries, to: &json)
        json.endObject()
        json.field("timestamp", Timestamp.format(view.updatedAt))
        json.endObject()
        return json.buffer
    }

    /// `{"event":"score:personal","data":{userId, previousScore, newScore, newRank},"timestamp":"…"}`
    /// to the player's own sockets when their score or rank moved (`newRank` null once they
    /// are off the board).
    static func personalScore(_ view: LeaderboardView, previous: PlayerStanding?) -> ByteBuffer {
        var json = JSONWriter(capacity: 192)
        json.beginObject()
        json.field("event", "score:personal")
        json.key("data")
        json.beginObject()
        json.field("userId", view.userId ?? "")
        json.field("previousScore", previous?.entry.score ?? 0)
        json.field("newScore", view.standing?.entry.score ?? 0)
        if let previous { json.field("previousRank", Int64(previous.entry.rank)) } else { json.nullField("previousRank") }
        if let standing = view.standing { json.field("newRank", Int64(standing.entry.rank)) } else { json.nullField("newRank") }
        json.endObject()
        json.field("timestamp", Timestamp.format(view.updatedAt))
        json.endObject()
        return json.buffer
    }

    /// `{"event":"error","data":{code, message},"timestamp":"…"}`.
    static func errorMessage(code: ErrorCode, message: String) -> ByteBuffer {
        var json = JSONWriter(capacity: 128)
        json.beginObject()
        json.field("event", "error")
        json.key("data")
        json.beginObject()
        json.field("code", code.rawValue)
        json.field("message", message)
        json.endObject()
        json.field("timestamp", Timestamp.format(Timestamp.now()))
        json.endObject()
        return json.buffer
    }
}

/// The claims of a score token.
struct ScoreTokenClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    /// The run session that makes it single-use.
    var jti: IDClaim
    var actionId: String
    var actionType: String
    var points: Int64

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Signs and checks score tokens with `SCORE_TOKEN_SECRET` (HS256), a key apart from the
/// access tokens'.
struct ScoreTokenSigner: Sendable {
    let keys: JWTKeyCollection
    /// Seconds a score token stays valid.
    let lifetime: Int

    /// - Parameter secret: at least 32 bytes.
    init(secret: String, lifetime: Int) async throws {
        guard secret.utf8.count >= 32 else { throw ConfigurationError("the score token secret must be at least 32 bytes long") }
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        self.lifetime = lifetime
    }

    func sign(_ claims: ScoreTokenClaims) async throws -> String {
        try await keys.sign(claims)
    }

    /// - Throws: `TOKEN_EXPIRED` (401) or `INVALID_TOKEN` (400).
    func verify(_ token: String) async throws(APIError) -> ScoreTokenClaims {
        guard UnverifiedToken(token)?.algorithm == "HS256" else { throw .invalidScoreToken }
        do {
            return try await keys.verify(token, as: ScoreTokenClaims.self)
        } catch let error as JWTError where error.errorType == .claimVerificationFailure && error.failedClaim is ExpirationClaim {
            throw .scoreTokenExpired
        } catch {
            throw .invalidScoreToken
        }
    }
}

extension APIError {
    static let invalidScoreToken = APIError(.invalidToken, "The score token is not valid.")
    static let scoreTokenExpired = APIError(.tokenExpired, "The score token has expired; complete the action again.")
    static let scoreTokenUsed = APIError(.tokenAlreadyUsed, "The score token was already redeemed.")
}
