import Crypto
import Foundation
import Hummingbird
import PodiumEngine

/// The admin API: games, announcements, moderation (removals and bans) and flagged
/// submissions. Every route needs the admin role (``AdminOnlyMiddleware`` on the group). Every change is a log event, so every
/// instance folds it in the same order as the scores around it.
struct AdminController {
    let leaderboards: LeaderboardService
    let accounts: any AccountStore
    let announcements: Announcements
    let follower: LogFollower
    let writer: LogWriter
    let maxBodySize: Int

    struct AnnouncementBody: Decodable {
        var title: String
        var body: String
    }

    func addRoutes(to router: Router<PodiumRequestContext>) {
        router.get("api/announcements", use: listAnnouncements)
        let admin = router.group("api/admin").add(middleware: AdminOnlyMiddleware())
        admin.get("flags", use: flags)
        admin.get("boards", use: boards)
        admin.post("games", use: createGame)
        admin.put("games/:gameId", use: updateGame)
        admin.post("announcements", use: createAnnouncement)
        admin.put("announcements/:id", use: updateAnnouncement)
        admin.delete("announcements/:id", use: deleteAnnouncement)
        admin.delete("players/:gameId/:userId", use: removePlayer)
        admin.post("users/:userId/ban", use: ban)
    }

    // MARK: Games

    @Sendable func createGame(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        let game = try await decodeGame(request)
        guard (try? leaderboards.game(game.id)) == nil else {
            throw APIError(.gameExists, "A game '\(game.id)' exists; edit it with PUT.")
        }
        try await save(game)
        return gameResponse(game, status: .created)
    }

    @Sendable func updateGame(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        let gameId = try context.parameters.require("gameId")
        _ = try leaderboards.game(gameId)
        var game = try await decodeGame(request, defaultId: gameId)
        guard game.id == gameId else { throw APIError.validation("A game's id cannot change.") }
        game.id = gameId
        try await save(game)
        return gameResponse(game, status: .ok)
    }

    private func decodeGame(_ request: Request, defaultId: String? = nil) async throws -> Game {
        let game = try await request.decodeJSON(as: Game.self, limit: maxBodySize)
        if let problem = game.problems.first { throw APIError.validation(problem) }
        return game
    }

    private func save(_ game: Game) async throws {
        _ = try await writer.submit(.administrative(.gameDefinition, gameId: game.id, payload: try LoggedEvent.payload(game)))
    }

    private func gameResponse(_ game: Game, status: HTTPResponse.Status) -> Response {
        var json = JSONWriter(capacity: 512)
        game.write(to: &json, leader: nil, players: 0)
        return .json(json.buffer, status: status)
    }

    // MARK: Announcements

    @Sendable func listAnnouncements(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        var json = JSONWriter(capacity: 1024)
        json.beginObject()
        json.key("announcements")
        json.beginArray()
        for announcement in announcements.all { announcement.write(to: &json) }
        json.endArray()
        json.endObject()
        return .json(json.buffer)
    }

    @Sendable func createAnnouncement(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        let body = try await validAnnouncement(request)
        let now = Timestamp.now()
        let announcement = Announcement(id: UUID().uuidString.lowercased(), title: body.title, body: body.body, createdAt: now, updatedAt: now)
        try await save(announcement)
        return announcementResponse(announcement, status: .created)
    }

    @Sendable func updateAnnouncement(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard var announcement = announcements.announcement(id: id) else {
            throw APIError.notFound("There is no announcement '\(id)'.")
        }
        let body = try await validAnnouncement(request)
        announcement.title = body.title
        announcement.body = body.body
        announcement.updatedAt = Timestamp.now()
        try await save(announcement)
        return announcementResponse(announcement, status: .ok)
    }

    @Sendable func deleteAnnouncement(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard announcements.announcement(id: id) != nil else { throw APIError.notFound("There is no announcement '\(id)'.") }
        _ = try await writer.submit(.administrative(.announcementRemoval, payload: id))
        return Response(status: .noContent)
    }

    private func save(_ announcement: Announcement) async throws {
        _ = try await writer.submit(.administrative(.announcement, payload: try LoggedEvent.payload(announcement)))
    }

    private func validAnnouncement(_ request: Request) async throws -> AnnouncementBody {
        var body = try await request.decodeJSON(as: AnnouncementBody.self, limit: maxBodySize)
        body.title = body.title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(body.title.count) else { throw APIError.validation("title must be 1-200 characters.") }
        guard body.body.count <= 10_000 else { throw APIError.validation("body must be at most 10,000 characters.") }
        return body
    }

    private func announcementResponse(_ announcement: Announcement, status: HTTPResponse.Status) -> Response {
        var json = JSONWriter(capacity: 512)
        announcement.write(to: &json)
        return .json(json.buffer, status: status)
    }

    // MARK: Moderation

    @Sendable func removePlayer(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        let gameId = try context.parameters.require("gameId")
        let userId = try context.parameters.require("userId")
        _ = try leaderboards.game(gameId)
        guard try leaderboards.standing(gameId, userId: userId) != nil else { throw APIError.playerNotFound(userId) }
        _ = try await writer.submit(.administrative(.removal, gameId: gameId, userId: userId))
        return .json(ByteBuffer(string: #"{"ok":true}"#))
    }

    @Sendable func ban(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        let userId = try context.parameters.require("userId")
        guard try await accounts.user(id: userId) != nil else { throw APIError.notFound("There is no user '\(userId)'.") }
        _ = try await writer.submit(.administrative(.ban, userId: userId))
        return .json(ByteBuffer(string: #"{"ok":true}"#))
    }

    // MARK: Convergence

    /// The applied log position and each board's fingerprint, read while the position
    /// stays put (a few tries while the log moves).
    @Sendable func boards(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        var json = JSONWriter(capacity: 1024)
        for _ in 0..<10 {
            let sequence = follower.appliedSequence
            json = JSONWriter(capacity: 1024)
            json.beginObject()
            json.field("appliedSequence", sequence)
            json.key("boards")
            json.beginArray()
            for game in leaderboards.games {
                guard let allTime = try? leaderboards.gameBoard(game.id) else { continue }
                for gameBoard in [allTime] + leaderboards.periodBoards(of: game.id) {
                    let (players, version, bytes) = gameBoard.withBoard { board, _ in (board.playerCount, board.version, board.snapshot()) }
                    json.beginObject()
                    json.field("gameId", game.id)
                    if let period = gameBoard.period { json.field("period", period.key) }
                    json.field("players", Int64(players))
                    json.field("version", Int64(version))
                    json.field("sha256", Hex.encode(SHA256.hash(data: bytes)))
                    json.endObject()
                }
            }
            json.endArray()
            json.endObject()
            if follower.appliedSequence == sequence { break }
        }
        return .json(json.buffer)
    }

    // MARK: Flags

    @Sendable func flags(_ request: Request, context: PodiumRequestContext) async throws -> Response {
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

extension Announcement {
    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.field("id", id)
        json.field("title", title)
        json.field("body", body)
        json.field("createdAt", Timestamp.format(createdAt))
        json.field("updatedAt", Timestamp.format(updatedAt))
        json.endObject()
    }
}
