import Foundation
import NIOCore
import PodiumEngine

/// The message contract of a live connection, chosen by the path it connected to:
/// Podium's own (`/ws`, and `/` for spec 000's `REALTIME_WS_URL=ws://host:4000`), or one
/// of specs 001-004. A contract connection follows the contract game's top 10 (and, for
/// spec 003, its own score) from the moment it opens, in its spec's messages; the hub,
/// its topics and its throttle are the same for all.
enum LiveDialect: Hashable, Sendable, CaseIterable {
    case podium
    /// Spec 001's `top_scores_update` (the spec names no path: `/ws/top-scores`).
    case spec001
    /// Spec 002's `leaderboard_update` at `/ws/leaderboard`.
    case spec002
    /// Spec 003's `leaderboard:initial`, `leaderboard:update`, `score:personal` at
    /// `/api/v1/scores/live` (and `/scores/live`).
    case spec003
    /// Spec 004's `LEADERBOARD_UPDATE` at `/api/leaderboard/live`.
    case spec004

    init?(path: String) {
        switch path {
        case "/ws", "/": self = .podium
        case "/ws/top-scores": self = .spec001
        case "/ws/leaderboard": self = .spec002
        case "/api/v1/scores/live", "/scores/live": self = .spec003
        case "/api/leaderboard/live": self = .spec004
        default: return nil
        }
    }

    /// How a connection's token is asked for.
    enum TokenPolicy {
        /// Anonymous connections are welcome; a refused token opens the socket, which is
        /// told why and closed with 1008 (browsers cannot read a refused upgrade).
        case optional
        /// The upgrade is refused with 401 without a valid token (specs 001-003: "reject
        /// unauthorized connections").
        case requiredAtUpgrade
        /// In the connection's parameters or its first frame (spec 004); a refused token is
        /// told and closed with 1008.
        case requiredAtUpgradeOrFirstFrame
    }

    var tokenPolicy: TokenPolicy {
        switch self {
        case .podium: .optional
        case .spec001, .spec002, .spec003: .requiredAtUpgrade
        case .spec004: .requiredAtUpgradeOrFirstFrame
        }
    }

    /// Whether connections follow the contract game on their own (no subscribe message).
    var followsContractGame: Bool { self != .podium }

    /// Whether the player's own standing is pushed too (spec 003's `score:personal`).
    var followsOwnScore: Bool { self == .spec003 }

    /// Whether the server's pings are also sent as spec 004's `{"type":"PING"}` text
    /// messages, which a browser's script can see and answer.
    var pingsInText: Bool { self == .spec004 }

    /// How many entries of the top N a contract's messages carry.
    static let contractTopCount = 10

    /// The message with the contract game's top entries: on connect (`isInitial`) and after
    /// each change. `previous` is the top last sent on this topic (for spec 002's changes).
    func topMessage(_ view: LeaderboardView, previous: [RankedEntry]?, isInitial: Bool) -> ByteBuffer {
        switch self {
        case .podium: LiveServerMessage.state(view, isUpdate: !isInitial)
        case .spec001: ScoreboardModuleContract.topScoresUpdate(view)
        case .spec002: LiveScoreboardContract.leaderboardUpdate(view, previous: previous ?? [])
        case .spec003: ScoreTokenContract.leaderboardMessage(view, isInitial: isInitial)
        case .spec004: TechnicalSpecContract.leaderboardUpdate(view)
        }
    }

    /// The message of a player's changed standing, for dialects that push it.
    func personalMessage(_ view: LeaderboardView, previous: PlayerStanding?) -> ByteBuffer? {
        switch self {
        case .podium: LiveServerMessage.state(view, isUpdate: true)
        case .spec003: ScoreTokenContract.personalScore(view, previous: previous)
        case .spec001, .spec002, .spec004: nil
        }
    }

    /// What a contract client's text message asks for.
    enum ClientRequest: Equatable {
        /// A keep-alive; answer with ``pong``.
        case ping
        /// The answer to the server's text ping (spec 004).
        case pong
        /// Nothing to do (spec 003's `subscribe`: connections are subscribed already; a
        /// repeated spec 004 `AUTH`).
        case nothing
        /// Not understood: answer with an error in the dialect's shape.
        case unknown(String)
    }

    /// Reads a contract client's text message.
    func request(in text: String) -> ClientRequest {
        guard let message = try? JSONDecoder().decode(ContractClientMessage.self, from: Data(text.utf8)) else {
            return .unknown("Messages must be JSON objects.")
        }
        switch (self, message.type, message.action) {
        case (.spec003, _, "ping"?): return .ping
        case (.spec003, _, "subscribe"?): return .nothing
        case (.spec004, "PING"?, _), (.spec001, "ping"?, _), (.spec002, "ping"?, _): return .ping
        case (.spec004, "PONG"?, _): return .pong
        case (.spec004, _, _) where message.token != nil: return .nothing
        default: return .unknown("Unknown message; this socket answers only its spec's ping.")
        }
    }

    /// The answer to a ``ClientRequest/ping``.
    var pong: ByteBuffer {
        switch self {
        case .spec003: Self.object(["action": "pong"])
        case .spec004: Self.object(["type": "PONG"])
        case .podium, .spec001, .spec002: LiveServerMessage.pong
        }
    }

    /// Spec 004's server ping, as text.
    static let textPing = object(["type": "PING"])

    /// An error in the dialect's shape; the connection stays open.
    func error(code: ErrorCode, message: String) -> ByteBuffer {
        switch self {
        case .spec003: ScoreTokenContract.errorMessage(code: code, message: message)
        case .podium, .spec001, .spec002, .spec004: LiveServerMessage.error(code: code, message: message)
        }
    }

    private static func object(_ fields: KeyValuePairs<String, String>) -> ByteBuffer {
        var json = JSONWriter(capacity: 32)
        json.beginObject()
        for (name, value) in fields { json.field(name, value) }
        json.endObject()
        return json.buffer
    }
}

/// The fields of a contract client's message that any dialect reads.
struct ContractClientMessage: Decodable {
    var type: String?
    var action: String?
    /// Spec 004's access token in the first frame.
    var token: String?
}

extension Array where Element == RankedEntry {
    /// Whether the first `count` entries differ from `other`'s in who, rank or score (the
    /// contracts push only changes of their top 10).
    func topDiffers(from other: [RankedEntry], count: Int) -> Bool {
        let mine = prefix(count)
        let theirs = other.prefix(count)
        guard mine.count == theirs.count else { return true }
        return zip(mine, theirs).contains { $0.userId != $1.userId || $0.score != $1.score || $0.rank != $1.rank }
    }
}
