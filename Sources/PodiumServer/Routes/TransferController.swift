import Foundation
import Hummingbird
import NIOCore
import PodiumEngine
import Synchronization

/// Boards in and out (admin role): `GET /api/admin/games/{gameId}/export` writes a board's
/// standings at one version; `POST /api/admin/games/{gameId}/import` loads standings into
/// an empty game as score events through the log, so they are durable, replayed at every
/// start and pushed live like any score.
final class TransferController: Sendable {
    let leaderboards: LeaderboardService
    let writer: LogWriter
    let bans: BanList
    /// Largest import body, in bytes.
    let maxImportSize: Int
    /// Games with an import under way on this instance.
    let importing = Mutex(Set<String>())

    init(leaderboards: LeaderboardService, writer: LogWriter, bans: BanList, maxImportSize: Int) {
        self.leaderboards = leaderboards
        self.writer = writer
        self.bans = bans
        self.maxImportSize = maxImportSize
    }

    /// Rows logged per batch of an import (one group commit each), and batches in flight:
    /// the writer commits one while the follower applies the other. Larger batches write
    /// fewer index pages per row (a Redis dump sorted by score has its user ids in random
    /// order) but hold other games' submissions behind a longer commit.
    static let importBatch = 8192
    static let importBatchesInFlight = 2

    func addRoutes(to router: Router<PodiumRequestContext>) {
        let admin = router.group("api/admin")
        admin.get("games/:gameId/export", use: export)
        admin.post("games/:gameId/import", use: importStandings)
    }

    @Sendable func export(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        _ = try context.requireAdmin()
        let gameId = try context.parameters.require("gameId")
        let query = request.uri.queryParameters
        let gameBoard = try leaderboards.board(gameId, period: query["period"].map(String.init))
        let format = try Self.format(query["format"].map(String.init) ?? "csv")
        let (entries, version) = gameBoard.withBoard { board, _ in
            (board.entries(in: .global, fromRank: 1, limit: board.playerCount), board.version)
        }
        let period = gameBoard.period?.key ?? PeriodSchedule.allTime.name
        let body = StandingsFile.encode(entries, gameId: gameId, period: period, version: version, exportedAt: Timestamp.now(), as: format)
        let name = gameBoard.period.map { "\(gameId)-\($0.key)" } ?? gameId
        return Response(
            status: .ok,
            headers: [
                .contentType: format.contentType, .contentDisposition: #"attachment; filename="\#(name).\#(format.rawValue)""#,
            ],
            body: .init(byteBuffer: body)
        )
    }

    @Sendable func importStandings(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        _ = try context.requireAdmin()
        let gameId = try context.parameters.require("gameId")
        let gameBoard = try leaderboards.gameBoard(gameId)
        let format: StandingsFile.Format
        if let name = request.uri.queryParameters["format"] {
            format = try Self.format(String(name))
        } else if let type = request.headers[.contentType], type.hasPrefix("text/csv") || type.hasPrefix("application/json") {
            format = type.hasPrefix("text/csv") ? .csv : .json
        } else {
            throw APIError.validation("Say the format: Content-Type text/csv or application/json, or ?format=csv|json.")
        }
        guard importing.withLock({ $0.insert(gameId).inserted }) else {
            throw APIError(.importInProgress, "An import into '\(gameId)' is under way.")
        }
        defer { _ = importing.withLock { $0.remove(gameId) } }
        let players = gameBoard.withBoard { board, _ in board.playerCount }
        guard players == 0 else {
            throw APIError(.gameNotEmpty, "Game '\(gameId)' has \(players) players; imports go into an empty game only."
            )
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxImportSize)
        } catch is NIOTooManyBytesError {
            throw APIError.payloadTooLarge(limit: maxImportSize)
        }
        let (rows, problems) = StandingsFile.rows(Array(buffer: body), format: format, game: gameBoard.game, now: Timestamp.now())
        let refused = problems + rows.filter { bans.isBanned($0.event.userId) }.map {
            StandingsFile.Problem(line: $0.line, message: "user '\($0.event.userId)' is banned")
        }
        if !refused.isEmpty {
            let listed = refused.sorted { $0.line < $1.line }.prefix(20).map(\.description).joined(separator: "; ")
            let more = refused.count > 20 ? "; and \(refused.count - 20) more" : ""
            throw APIError.validation("\(refused.count) row(s) refused, nothing imported: \(listed)\(more).")
        }
        let imported = try await submit(rows, to: gameId)
        var json = JSONWriter(capacity: 128)
        json.beginObject()
        json.field("ok", true)
        json.field("gameId", gameId)
        json.field("imported", Int64(imported))
        json.field("players", Int64(gameBoard.withBoard { board, _ in board.playerCount }))
        json.endObject()
        return .json(json.buffer)
    }

    /// Logs every row as a score event, a batch at a time, and returns how many were
    /// logged. A store failure stops the import and says how far it got.
    private func submit(_ rows: [StandingsFile.Row], to gameId: String) async throws -> Int {
        // In user id order (each user is on one row, so the boards do not depend on it):
        // the log's per-player index then grows at its end instead of at a random page per
        // row, as it would for a file sorted by score.
        let events = rows.sorted { $0.event.userId.utf8.lexicographicallyPrecedes($1.event.userId.utf8) }.map { row in
            let event = row.event
            return LoggedEvent(
                gameId: gameId, userId: event.userId, displayName: event.displayName, countryCode: event.countryCode, score: event.score,
                achievedAt: event.achievedAt, source: .admin
            )
        }
        let batches = stride(from: 0, to: events.count, by: Self.importBatch).map { Array(events[$0..<min($0 + Self.importBatch, events.count)]) }
        return try await withThrowingTaskGroup(of: Int.self) { group in
            var logged = 0
            var failure: (any Error)?
            var pending = batches.makeIterator()
            var inFlight = 0
            while true {
                while failure == nil, inFlight < Self.importBatchesInFlight, let batch = pending.next() {
                    group.addTask { [writer] in try await writer.submitAll(batch) }
                    inFlight += 1
                }
                guard inFlight > 0 else { break }
                do {
                    logged += try await group.next() ?? 0
                } catch {
                    failure = failure ?? error
                }
                inFlight -= 1
            }
            if let failure {
                let reason = (failure as? APIError)?.message ?? "\(failure)"
                throw APIError.storageUnavailable("\(logged) of \(rows.count) rows were imported before the import stopped: \(reason)")
            }
            return logged
        }
    }

    static func format(_ name: String) throws(APIError) -> StandingsFile.Format {
        guard let format = StandingsFile.Format(rawValue: name) else { throw APIError.validation("format must be csv or json.") }
        return format
    }
}
