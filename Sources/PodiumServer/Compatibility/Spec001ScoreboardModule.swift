import Hummingbird
import NIOCore
import PodiumEngine

/// Spec 001 (scoreboard module): `POST /auth/login`, `GET /top-scores` (a bare array),
/// the action lifecycle `POST /users/:userId/actions` → `PUT …/:actionId`, and the
/// `top_scores_update` messages of `/ws/top-scores` (``LiveDialect/spec001``).
///
/// An action instance is a run session of the contract game: created by the start, bound
/// to the user, spent once by the completion in the same transaction that logs its points,
/// so once-only holds over a fleet like every run token. Its id is the action type (a
/// catalogue entry) and a random part, hashed whole: changing the type makes it unknown.
struct ScoreboardModuleContract {
    let board: ContractBoard
    let accounts: any AccountStore
    let actions: ActionController
    let bans: BanList
    let starts: RateLimiter
    let completions: RateLimiter
    /// Milliseconds an action instance may stay open (the run token lifetime).
    let actionLifetime: Int64
    let maxBodySize: Int

    struct Start: Decodable {
        var status: String?
        /// The catalogue action; the game's first repeatable action that needs no run when
        /// absent.
        var type: String?
    }

    struct Completion: Decodable {
        var status: String?
        /// The spec's own example body is `{"started": "completed"}`.
        var started: String?
    }

    func addRoutes(to router: Router<PodiumRequestContext>, login: @escaping @Sendable (Request, PodiumRequestContext) async throws -> Response) {
        router.post("auth/login", use: login)
        router.get("top-scores", use: topScores)
        router.post("users/:userId/actions", use: start)
        router.put("users/:userId/actions/:actionId", use: complete)
    }

    /// `[{userId, username, score}]`, the top 10, best first.
    @Sendable func topScores(_ request: Request, context: PodiumRequestContext) throws -> Response {
        .json(try board.leaderboards.encodedFirstPage(.topScores))
    }

    @Sendable func start(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try bans.check(identity)
        try await requireOwner(try context.parameters.require("userId"), identity: identity)
        try await starts.take(identity.userId)
        let body = try await request.decodeJSON(as: Start.self, limit: maxBodySize, whenEmpty: Start())
        guard body.status == nil || body.status == "started" else { throw APIError.validation("A new action's status is \"started\".") }
        let game = try board.game()
        let action: GameAction
        if let type = body.type {
            action = try board.action(type).1
        } else {
            guard let first = game.actions.first(where: { $0.repeatable && !$0.requiresRun }) else {
                throw APIError.validation("Name the action's type: game '\(game.id)' has no repeatable action.")
            }
            action = first
        }
        let actionId = action.id + "." + Hex.random(bytes: 16)
        let session = try await accounts.startSession(token: actionId, for: identity, game: game.id, lifetime: actionLifetime)
        var json = Self.beginAction(actionId, of: identity, type: action.id, status: "started")
        json.field("startAt", Timestamp.format(session.issuedAt))
        json.field("expiresAt", Timestamp.format(session.expiresAt))
        json.endObject()
        return .json(json.buffer, status: .created)
    }

    @Sendable func complete(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try bans.check(identity)
        let actionId = try context.parameters.require("actionId")
        try await requireOwner(try context.parameters.require("userId"), identity: identity)
        try await completions.take(identity.userId)
        let body = try await request.decodeJSON(as: Completion.self, limit: maxBodySize, whenEmpty: Completion())
        guard (body.status ?? body.started ?? "completed") == "completed" else {
            throw APIError.validation("An action is completed with {\"status\": \"completed\"}.")
        }
        let unknown = APIError.notFound("There is no action '\(actionId)'.")
        guard let dot = actionId.lastIndex(of: "."), let found = try? board.action(String(actionId[..<dot])) else { throw unknown }
        let (game, action) = found
        guard let session = try await accounts.session(tokenHash: RunSession.hash(actionId)), session.gameId == game.id else { throw unknown }
        guard session.userId == identity.userId else { throw APIError.forbidden("Action '\(actionId)' belongs to another user.") }
        guard session.consumedAt == nil else { throw APIError.alreadyCompleted(actionId) }
        guard session.expiresAt > Timestamp.now() else {
            throw APIError(.sessionExpired, "Action '\(actionId)' expired before it was completed.")
        }
        let result: LogWriter.Result
        do {
            result = try await actions.record(action, of: game, for: identity, sessionTokenHash: session.tokenHash)
        } catch let error as APIError where error == .sessionConsumed {
            throw APIError.alreadyCompleted(actionId)
        }
        var json = Self.beginAction(actionId, of: identity, type: action.id, status: "completed")
        json.field("score", action.points)
        json.field("totalScore", result.standing?.entry.score ?? action.points)
        json.field("rank", Int64(result.standing?.entry.rank ?? 0))
        json.endObject()
        return .json(json.buffer)
    }

    /// An action object's first fields; the caller adds the rest and ends it.
    private static func beginAction(_ actionId: String, of identity: Identity, type: String, status: String) -> JSONWriter {
        var json = JSONWriter()
        json.beginObject()
        json.field("actionId", actionId)
        json.field("userId", identity.userId)
        json.field("type", type)
        json.field("status", status)
        return json
    }

    /// 403 for another user's path, 404 when no such user exists.
    private func requireOwner(_ userId: String, identity: Identity) async throws {
        guard userId != identity.userId else { return }
        guard try await accounts.user(id: userId) != nil else { throw APIError.notFound("There is no user '\(userId)'.") }
        throw APIError.forbidden("Only the user themself may start or complete their actions.")
    }

    /// The bare array of `GET /top-scores` and of the live message's payload.
    static func topScores(_ view: LeaderboardView) -> ByteBuffer {
        var json = JSONWriter(capacity: 64 + view.contractEntries.count * 80)
        writeTopScores(view, to: &json)
        return json.buffer
    }

    private static func writeTopScores(_ view: LeaderboardView, to json: inout JSONWriter) {
        json.beginArray()
        for entry in view.contractEntries {
            json.beginObject()
            json.field("userId", entry.userId)
            json.field("username", entry.displayName)
            json.field("score", entry.score)
            json.endObject()
        }
        json.endArray()
    }

    /// `{"type":"top_scores_update","payload":[…],"timestamp":"…"}` (on connect too).
    static func topScoresUpdate(_ view: LeaderboardView) -> ByteBuffer {
        var json = JSONWriter(capacity: 128 + view.contractEntries.count * 80)
        json.beginObject()
        json.field("type", "top_scores_update")
        json.key("payload")
        writeTopScores(view, to: &json)
        json.field("timestamp", Timestamp.format(view.updatedAt))
        json.endObject()
        return json.buffer
    }
}
