import Hummingbird
import PodiumEngine

/// The read API: games, pages of a scope, one player's standing, around a player, and
/// seed 004's `GET /api/leaderboard`.
struct LeaderboardController {
    let leaderboards: LeaderboardService
    let history: any ScoreHistorySource
    static let maxLimit = 100
    static let maxRadius = 50

    func addRoutes(to router: Router<PodiumRequestContext>) {
        let api = router.group("api")
        api.get("games", use: listGames)
        api.get("games/:gameId", use: showGame)
        api.get("games/:gameId/periods", use: periods)
        api.get("leaderboards/:gameId", use: page)
        api.get("leaderboards/:gameId/players/:userId", use: player)
        api.get("leaderboards/:gameId/players/:userId/history", use: playerHistory)
        api.get("leaderboards/:gameId/around/:userId", use: around)
        api.get("leaderboard", use: defaultLeaderboard)
    }

    @Sendable func listGames(_ request: Request, context: PodiumRequestContext) throws -> Response {
        var json = JSONWriter(capacity: 1024)
        json.beginObject()
        json.key("games")
        json.beginArray()
        for game in leaderboards.games {
            let leader = try leaderboards.page(game.id, scope: .global, country: nil, limit: 1, cursor: nil)
            game.write(to: &json, leader: leader.entries.first, players: leader.total)
        }
        json.endArray()
        json.endObject()
        return .json(json.buffer)
    }

    @Sendable func showGame(_ request: Request, context: PodiumRequestContext) throws -> Response {
        let game = try leaderboards.game(try context.parameters.require("gameId"))
        let leader = try leaderboards.page(game.id, scope: .global, country: nil, limit: 1, cursor: nil)
        var json = JSONWriter(capacity: 512)
        game.write(to: &json, leader: leader.entries.first, players: leader.total)
        return .json(json.buffer)
    }

    @Sendable func page(_ request: Request, context: PodiumRequestContext) throws -> Response {
        let gameId = try context.parameters.require("gameId")
        let query = request.uri.queryParameters
        let scope = try Self.scope(query["scope"].map(String.init) ?? "global")
        let country = try query["country"].map { text throws(APIError) -> CountryCode in try Self.country(String(text)) }
        let limit = try Self.integer(query["limit"].map(String.init), name: "limit", default: 10, range: 1...Self.maxLimit)
        return .json(
            try leaderboards.encodedPage(
                gameId, period: query["period"].map(String.init), scope: scope, country: country, limit: limit,
                cursor: query["cursor"].map(String.init)
            )
        )
    }

    @Sendable func player(_ request: Request, context: PodiumRequestContext) throws -> Response {
        let gameId = try context.parameters.require("gameId")
        let userId = try context.parameters.require("userId")
        let period = request.uri.queryParameters["period"].map(String.init)
        let board = try leaderboards.board(gameId, period: period)
        guard let standing = board.standing(of: userId) else { throw APIError.playerNotFound(userId) }
        var json = JSONWriter(capacity: 512)
        standing.write(to: &json, gameId: gameId, period: board.period)
        return .json(json.buffer)
    }

    /// The player's accepted scores, newest first: `{gameId, userId, entries: [{score,
    /// achievedAt, displayName, countryCode?, source}]}`.
    @Sendable func playerHistory(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        let game = try leaderboards.game(try context.parameters.require("gameId"))
        let userId = try context.parameters.require("userId")
        let limit = try Self.integer(request.uri.queryParameters["limit"].map(String.init), name: "limit", default: 20, range: 1...Self.maxLimit)
        let events = try await history.scoreHistory(gameId: game.id, userId: userId, limit: limit)
        var json = JSONWriter(capacity: 128 + events.count * 128)
        json.beginObject()
        json.field("gameId", game.id)
        json.field("userId", userId)
        json.key("entries")
        json.beginArray()
        for event in events {
            json.beginObject()
            json.field("score", event.score)
            json.field("achievedAt", Timestamp.format(event.achievedAt))
            json.field("displayName", event.displayName)
            if let country = event.countryCode { json.field("countryCode", country.description) }
            json.field("source", event.source.rawValue)
            json.endObject()
        }
        json.endArray()
        json.endObject()
        return .json(json.buffer)
    }

    @Sendable func around(_ request: Request, context: PodiumRequestContext) throws -> Response {
        let gameId = try context.parameters.require("gameId")
        let userId = try context.parameters.require("userId")
        let query = request.uri.queryParameters
        let scope = try Self.scope(query["scope"].map(String.init) ?? "global")
        guard scope != .personal else { throw APIError.validation("Around a player works on the global or local scope.") }
        let radius = try Self.integer(query["radius"].map(String.init), name: "radius", default: 5, range: 0...Self.maxRadius)
        let period = query["period"].map(String.init)
        return .json(try leaderboards.around(gameId, period: period, userId: userId, scope: scope, radius: radius).encoded)
    }

    /// `{gameId, periods: [{name, key?, startsAt?, endsAt?, current, players}]}`: the all-time
    /// board, then each schedule's current and archived periods, newest first.
    @Sendable func periods(_ request: Request, context: PodiumRequestContext) throws -> Response {
        let gameId = try context.parameters.require("gameId")
        let allTime = try leaderboards.board(gameId, period: nil)
        for schedule in allTime.game.periodSchedules { _ = try leaderboards.board(gameId, period: schedule.name) }  // the current ones exist
        let now = leaderboards.clock.now()
        var json = JSONWriter(capacity: 1024)
        json.beginObject()
        json.field("gameId", gameId)
        json.key("periods")
        json.beginArray()
        for board in [allTime] + leaderboards.periodBoards(of: gameId).reversed() {
            json.beginObject()
            json.field("name", board.period?.schedule.name ?? PeriodSchedule.allTime.name)
            if let period = board.period {
                json.field("key", period.key)
                json.field("startsAt", Timestamp.format(period.start))
                json.field("endsAt", Timestamp.format(period.end))
            }
            json.field("current", board.period.map { $0.start <= now && now < $0.end } ?? true)
            json.field("players", Int64(board.withBoard { board, _ in board.count(in: .global) }))
            json.endObject()
        }
        json.endArray()
        json.endObject()
        return .json(json.buffer)
    }

    /// Seed 004: `{"users": [{userId, username, score, rank}], "updatedAt"}` for the default
    /// game's top 10 (usually answered by `FirstPageHandler` from the same cache).
    @Sendable func defaultLeaderboard(_ request: Request, context: PodiumRequestContext) throws -> Response {
        .json(try leaderboards.encodedFirstPage(.defaultLeaderboard))
    }

    static func scope(_ text: String) throws(APIError) -> LeaderboardScope {
        guard let scope = LeaderboardScope(rawValue: text) else {
            throw .validation("Unknown scope '\(text)'; use global, local or personal.")
        }
        return scope
    }

    static func country(_ text: String) throws(APIError) -> CountryCode {
        guard let country = CountryCode.assigned(text) else {
            throw .validation("'\(text)' is not an ISO 3166-1 alpha-2 country code.")
        }
        return country
    }

    static func integer(_ text: String?, name: String, default value: Int, range: ClosedRange<Int>) throws(APIError) -> Int {
        guard let text else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw .validation("'\(name)' must be an integer from \(range.lowerBound) to \(range.upperBound).")
        }
        return number
    }
}

extension Game {
    /// The game's definition, with its current leader and player count.
    func write(to json: inout JSONWriter, leader: RankedEntry?, players: Int) {
        json.beginObject()
        json.field("id", id)
        json.field("name", name)
        json.field("sortOrder", sortOrder.rawValue)
        json.field("operator", scoreOperator.rawValue)
        if let maxScore { json.field("maxScore", maxScore) }
        if let maxScorePerSecond { json.field("maxScorePerSecond", maxScorePerSecond) }
        if let minScore { json.field("minScore", minScore) }
        if let minRunMilliseconds { json.field("minRunMilliseconds", minRunMilliseconds) }
        json.field("topN", Int64(topN))
        json.key("periods")
        json.beginArray()
        for schedule in periods {
            if case .custom(let name, let days, let from) = schedule {
                json.beginObject()
                json.field("name", name)
                json.field("everyDays", Int64(days))
                json.field("from", Timestamp.format(from))
                json.endObject()
            } else {
                json.value(schedule.name)
            }
        }
        json.endArray()
        json.field("keepArchives", Int64(keepArchives))
        json.key("actions")
        json.beginArray()
        for action in actions {
            json.beginObject()
            json.field("id", action.id)
            if let name = action.name { json.field("name", name) }
            json.field("points", action.points)
            json.field("repeatable", action.repeatable)
            json.field("requiresRun", action.requiresRun)
            json.endObject()
        }
        json.endArray()
        json.field("players", Int64(players))
        if let leader {
            json.key("leader")
            leader.write(to: &json)
        }
        json.endObject()
    }
}

extension PlayerStanding {
    /// `{gameId, period?, entry, globalRank, localRank?, globalTotal, localTotal?}`; `period`
    /// is the key of a period board's standing.
    func write(to json: inout JSONWriter, gameId: String, period: Period? = nil) {
        json.beginObject()
        json.field("gameId", gameId)
        if let period { json.field("period", period.key) }
        json.key("entry")
        entry.write(to: &json)
        json.field("globalRank", Int64(entry.rank))
        if let localRank { json.field("localRank", Int64(localRank)) }
        json.field("globalTotal", Int64(globalTotal))
        if let localTotal { json.field("localTotal", Int64(localTotal)) }
        json.endObject()
    }
}
