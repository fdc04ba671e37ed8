import PodiumEngine

/// A read of a board's first page, the answer the page cache holds: Podium's
/// `GET /api/leaderboards/{gameId}` (with at most `scope`, `country`, `limit` and `period`)
/// and every contract's top-N route. ``init(target:)`` reads one from a request target
/// without the router, for ``FirstPageHandler``; it claims only targets that read one way
/// (no percent-encoding, no repeated or unknown parameter, values the router would accept),
/// and anything it does not claim goes to the router, which answers the same and the errors.
enum FirstPageRequest: Equatable, Sendable {
    /// `GET /api/leaderboards/{gameId}`.
    case board(gameId: String, period: String?, scope: LeaderboardScope, country: CountryCode?, limit: Int)
    /// Spec 001's `GET /top-scores`.
    case topScores
    /// Spec 002's `GET /api/v1/leaderboard/top10`.
    case top10
    /// Spec 003's `GET /api/v1/scores/leaderboard?limit=`.
    case scoresLeaderboard(limit: Int)
    /// Spec 004's `GET /api/leaderboard`.
    case defaultLeaderboard

    private static let boardPrefix = "/api/leaderboards/"
    /// The route of each kind of first page, as the router names it.
    static let routes = ["/api/leaderboards/{gameId}", "/top-scores", "/api/v1/leaderboard/top10", "/api/v1/scores/leaderboard", "/api/leaderboard"]

    /// The position of the request's route in ``routes``.
    var routeIndex: Int {
        switch self {
        case .board: 0
        case .topScores: 1
        case .top10: 2
        case .scoresLeaderboard: 3
        case .defaultLeaderboard: 4
        }
    }

    /// The route of the request in metrics and log lines.
    var route: String { Self.routes[routeIndex] }

    /// The first page a request target (`/path?query`) asks for; nil to leave it to the router.
    init?(target: String) {
        let path: Substring
        let query: Substring?
        if let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
            path = target[..<mark]
            query = target[target.utf8.index(after: mark)...]
        } else {
            (path, query) = (target[...], nil)
        }
        // Anything that needs decoding or could be read two ways is left to the router.
        guard !path.utf8.contains(UInt8(ascii: "%")), !(query?.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) ?? false),
            let parameters = Parameters(query)
        else { return nil }
        switch path {
        case "/top-scores" where parameters.isEmpty:
            self = .topScores
        case "/api/v1/leaderboard/top10" where parameters.isEmpty:
            self = .top10
        case "/api/leaderboard" where parameters.isEmpty:
            self = .defaultLeaderboard
        case "/api/v1/scores/leaderboard":
            guard parameters.scope == nil, parameters.country == nil, parameters.period == nil, let limit = Self.limit(parameters.limit)
            else { return nil }
            self = .scoresLeaderboard(limit: limit)
        default:
            guard path.utf8.starts(with: Self.boardPrefix.utf8) else { return nil }
            let gameId = path.dropFirst(Self.boardPrefix.count)
            guard !gameId.isEmpty, !gameId.utf8.contains(UInt8(ascii: "/")), let limit = Self.limit(parameters.limit) else { return nil }
            var scope = LeaderboardScope.global
            if let text = parameters.scope {
                guard let parsed = LeaderboardScope(rawValue: String(text)), parsed != .personal else { return nil }
                scope = parsed
            }
            var country: CountryCode?
            if let text = parameters.country {
                guard let parsed = CountryCode.assigned(String(text)) else { return nil }
                country = parsed
            }
            guard scope == .global || country != nil else { return nil }
            self = .board(gameId: String(gameId), period: parameters.period.map(String.init), scope: scope, country: country, limit: limit)
        }
    }

    /// The query parameters a first page may have, each at most once.
    private struct Parameters {
        var scope: Substring?
        var country: Substring?
        var limit: Substring?
        var period: Substring?

        var isEmpty: Bool { scope == nil && country == nil && limit == nil && period == nil }

        /// Nil when a pair has no `=`, or a name is unknown or comes twice.
        init?(_ query: Substring?) {
            guard let query else { return }
            for pair in query.split(separator: "&", omittingEmptySubsequences: false) {
                guard let equals = pair.utf8.firstIndex(of: UInt8(ascii: "=")) else { return nil }
                let value = pair[pair.utf8.index(after: equals)...]
                switch pair[..<equals] {
                case "scope" where scope == nil: scope = value
                case "country" where country == nil: country = value
                case "limit" where limit == nil: limit = value
                case "period" where period == nil: period = value
                default: return nil
                }
            }
        }
    }

    /// A page size the router accepts (1 to ``LeaderboardController/maxLimit``, 10 unless given).
    private static func limit(_ text: Substring?) -> Int? {
        guard let text else { return 10 }
        guard text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let limit = Int(text),
            (1...LeaderboardController.maxLimit).contains(limit)
        else { return nil }
        return limit
    }
}
