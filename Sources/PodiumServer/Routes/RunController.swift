import Foundation
import Hummingbird
import Logging
import PodiumEngine
import Synchronization

/// Seed 000's runs: `POST /api/game-sessions` issues a single-use token bound to the user
/// and the game; `POST /api/scores/submit` spends it on one score.
struct RunController {
    let leaderboards: LeaderboardService
    let accounts: any AccountStore
    let writer: LogWriter
    let submissions: RateLimiter
    /// Run starts per user, limited like submissions: tokens cost a row each.
    let starts: RateLimiter
    let bans: BanList
    /// Milliseconds a run token lives.
    let sessionLifetime: Int64
    let maxBodySize: Int
    let sweeper = ExpiredSessionSweeper()
    let logger: Logger

    struct SessionRequest: Decodable {
        var gameId: String
    }

    struct Submission: Decodable {
        var gameId: String
        var score: Int64
        var runId: String
        var sessionToken: String
        var durationMs: Int64?
    }

    func addRoutes(to router: Router<PodiumRequestContext>) {
        router.post("api/game-sessions", use: startSession)
        router.post("api/scores/submit", use: submit)
    }

    @Sendable func startSession(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try bans.check(identity)
        try await starts.take(identity.userId)
        let body = try await request.decodeJSON(as: SessionRequest.self, limit: maxBodySize)
        _ = try leaderboards.game(body.gameId)
        let token = Hex.random()
        let session = try await accounts.startSession(token: token, for: identity, game: body.gameId, lifetime: sessionLifetime)
        let now = session.issuedAt
        if sweeper.isDue(now: now) {
            do {
                let deleted = try await accounts.deleteSessions(expiredBefore: now - ExpiredSessionSweeper.retention)
                logger.debug("deleted expired run sessions", metadata: ["count": "\(deleted)"])
            } catch {
                logger.warning("cannot delete expired run sessions", metadata: ["error": "\(error)"])
            }
        }
        var json = JSONWriter()
        json.beginObject()
        json.field("token", token)
        json.field("issuedAt", Timestamp.format(session.issuedAt))
        json.field("expiresAt", Timestamp.format(session.expiresAt))
        json.endObject()
        return .json(json.buffer, status: .created)
    }

    @Sendable func submit(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try bans.check(identity)
        try await submissions.take(identity.userId)
        let body = try await request.decodeJSON(as: Submission.self, limit: maxBodySize)
        let game = try leaderboards.game(body.gameId)
        guard game.actions.isEmpty else {
            throw APIError.validation("Game '\(game.id)' earns points from its actions only: POST /api/actions/complete.")
        }
        guard !body.runId.isEmpty, body.runId.utf8.count <= 128 else { throw APIError.validation("runId must be 1-128 bytes.") }
        guard body.score >= 0 else { throw APIError.scoreOutOfRange("score must not be negative.") }
        guard (body.durationMs ?? 0) >= 0 else { throw APIError.validation("durationMs must not be negative.") }
        // Consumption is checked by the commit, after the runId: a retried run gets its
        // original answer even though its token is spent.
        let session = try await SessionCheck(accounts: accounts).usableSession(
            body.sessionToken, for: identity, game: game.id, allowingConsumed: true
        )
        // Flags are recorded only for a player's own run, so nobody can write them at will.
        if let maxScore = game.maxScore, body.score > maxScore {
            await flag(body.score, of: identity, in: game, reason: "score \(body.score) is above the maximum of \(maxScore)")
            throw APIError.scoreOutOfRange("score \(body.score) is above this game's maximum of \(maxScore).")
        }
        if let minScore = game.minScore, body.score < minScore {
            await flag(body.score, of: identity, in: game, reason: "score \(body.score) is below the minimum of \(minScore)")
            throw APIError.scoreOutOfRange("score \(body.score) is below this game's minimum of \(minScore).")
        }
        // The run's length by the server's clock; a client's durationMs may shorten it
        // (tightening every rule), never lengthen it.
        let now = Timestamp.now()
        let elapsed = min(now - session.issuedAt, body.durationMs ?? .max)
        if let shortest = game.minRunMilliseconds, elapsed < shortest {
            await flag(body.score, of: identity, in: game, reason: "run of \(elapsed) ms is shorter than the shortest plausible \(shortest) ms")
            throw APIError(.implausibleScore, "The run is shorter than this game's shortest plausible run.")
        }
        if let rate = game.maxScorePerSecond {
            let (product, overflow) = rate.multipliedReportingOverflow(by: max(elapsed, 1))
            if !overflow, body.score > product / 1000 {
                await flag(body.score, of: identity, in: game, reason: "score \(body.score) in \(elapsed) ms exceeds \(rate) points per second")
                throw APIError(.implausibleScore, "The score is not plausible for the time played.")
            }
        }
        let result = try await writer.submit(
            LoggedEvent(
                gameId: game.id, userId: identity.userId, displayName: identity.displayName, countryCode: identity.countryCode,
                score: body.score, achievedAt: now, source: .run, reference: "run:" + body.runId, sessionTokenHash: session.tokenHash
            )
        )
        switch result.outcome {
        case .logged:
            break
        case .duplicate(let original):
            guard original.score == body.score else {
                throw APIError(.runConflict, "runId '\(body.runId)' was already submitted with another score.")
            }
        case .sessionRejected:
            _ = try await SessionCheck(accounts: accounts).usableSession(body.sessionToken, for: identity, game: game.id)
            throw APIError.sessionConsumed
        }
        return .json(result.encoded(gameId: game.id, runId: body.runId))
    }

    /// Records a refused score for the admins; a store failure is logged, not answered.
    private func flag(_ score: Int64, of identity: Identity, in game: Game, reason: String) async {
        let flag = FlaggedSubmission(userId: identity.userId, gameId: game.id, score: score, reason: reason, flaggedAt: Timestamp.now())
        do {
            try await accounts.recordFlag(flag)
        } catch {
            logger.warning("cannot record a flagged submission", metadata: ["userId": "\(identity.userId)", "reason": "\(reason)"])
        }
    }
}

/// When expired run sessions are next deleted: at most every ten minutes, on a run start.
final class ExpiredSessionSweeper: Sendable {
    /// How long an expired session is kept, so a late retry is told it expired (ms).
    static let retention: Int64 = 24 * 3600 * 1000
    private static let interval: Int64 = 10 * 60 * 1000
    private let nextSweep = Mutex<Int64>(0)

    /// Whether a sweep is due at `now`; true once per interval.
    func isDue(now: Int64) -> Bool {
        nextSweep.withLock { next in
            guard now >= next else { return false }
            next = now + Self.interval
            return true
        }
    }
}

extension AccountStore {
    /// Stores a new run session of `token` (its hash), bound to the user and the game, valid
    /// `lifetime` milliseconds from now: a run token, spec 001's action instance, spec
    /// 003's score token.
    /// - Throws: `UNAUTHORIZED` when the token's account no longer exists (a memory store
    ///   restarted with the same secret).
    func startSession(token: String, for identity: Identity, game gameId: String, lifetime: Int64) async throws -> RunSession {
        let now = Timestamp.now()
        let session = RunSession(
            tokenHash: RunSession.hash(token), userId: identity.userId, gameId: gameId, issuedAt: now, expiresAt: now + lifetime
        )
        guard try await createSession(session) else { throw APIError.unauthorized("The account no longer exists.") }
        return session
    }
}

/// The checks a run token must pass before its score is committed (the commit checks
/// consumption and expiry again, atomically).
struct SessionCheck {
    let accounts: any AccountStore

    func usableSession(_ token: String, for identity: Identity, game gameId: String, allowingConsumed: Bool = false) async throws -> RunSession {
        guard let session = try await accounts.session(tokenHash: RunSession.hash(token)) else {
            throw APIError(.sessionMismatch, "The session token is not known.")
        }
        guard session.userId == identity.userId else {
            throw APIError(.sessionMismatch, "The session token belongs to another player.")
        }
        guard session.gameId == gameId else {
            throw APIError(.sessionMismatch, "The session token is for another game.")
        }
        guard session.consumedAt == nil || allowingConsumed else { throw APIError.sessionConsumed }
        guard session.expiresAt > Timestamp.now() || session.consumedAt != nil else {
            throw APIError(.sessionExpired, "The session token has expired; start a new run.")
        }
        return session
    }
}

extension APIError {
    static let sessionConsumed = APIError(.sessionConsumed, "The session token was already used.")

    static func scoreOutOfRange(_ message: String) -> APIError {
        APIError(.scoreOutOfRange, message)
    }
}
