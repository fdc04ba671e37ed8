import PodiumEngine

/// One game (a board family) as the registry and the admin API describe it.
public struct Game: Codable, Sendable, Equatable {
    /// URL-safe slug: lower-case letters, digits and dashes.
    public var id: String
    public var name: String
    public var sortOrder: SortOrder
    public var scoreOperator: ScoreOperator
    /// Largest score a single submission may carry.
    public var maxScore: Int64?
    /// Largest score per second of play, checked against the run's server-side duration.
    public var maxScorePerSecond: Int64?
    /// Smallest score a run may carry: on an ascending board (times), the fastest possible.
    public var minScore: Int64?
    /// Shortest plausible run, in milliseconds by the server's clock from the run token's
    /// issue: a token spent at once is refused.
    public var minRunMilliseconds: Int64?
    /// Entries pushed live to subscribers of the global and local scopes.
    public var topN: Int
    /// Point-earning actions of `incr` games.
    public var actions: [GameAction]
    /// The boards kept beside the all-time board (which every game has): daily, weekly,
    /// monthly or custom periods, each starting empty at its boundary.
    public var periods: [PeriodSchedule]
    /// Finished periods kept per schedule, readable and exportable; older ones are dropped.
    public var keepArchives: Int

    public init(
        id: String, name: String, sortOrder: SortOrder = .desc, scoreOperator: ScoreOperator = .best, maxScore: Int64? = nil,
        maxScorePerSecond: Int64? = nil, minScore: Int64? = nil, minRunMilliseconds: Int64? = nil, topN: Int = 10,
        actions: [GameAction] = [], periods: [PeriodSchedule] = [.allTime], keepArchives: Int = 7
    ) {
        self.id = id
        self.name = name
        self.sortOrder = sortOrder
        self.scoreOperator = scoreOperator
        self.maxScore = maxScore
        self.maxScorePerSecond = maxScorePerSecond
        self.minScore = minScore
        self.minRunMilliseconds = minRunMilliseconds
        self.topN = topN
        self.actions = actions
        self.periods = periods
        self.keepArchives = keepArchives
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, sortOrder, scoreOperator = "operator", maxScore, maxScorePerSecond, minScore, minRunMilliseconds, topN, actions, periods,
            keepArchives
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        name = try container.decode(String.self, forKey: .name)
        sortOrder = try container.decodeChoice(SortOrder.self, forKey: .sortOrder) ?? .desc
        scoreOperator = try container.decodeChoice(ScoreOperator.self, forKey: .scoreOperator) ?? .best
        maxScore = try container.decodeIfPresent(Int64.self, forKey: .maxScore)
        maxScorePerSecond = try container.decodeIfPresent(Int64.self, forKey: .maxScorePerSecond)
        minScore = try container.decodeIfPresent(Int64.self, forKey: .minScore)
        minRunMilliseconds = try container.decodeIfPresent(Int64.self, forKey: .minRunMilliseconds)
        topN = try container.decodeIfPresent(Int.self, forKey: .topN) ?? decoder.userInfo[Self.defaultTopNKey] as? Int ?? Self.standardTopN
        actions = try container.decodeIfPresent([GameAction].self, forKey: .actions) ?? []
        periods = try container.decodeIfPresent([PeriodSchedule].self, forKey: .periods) ?? [.allTime]
        keepArchives = try container.decodeIfPresent(Int.self, forKey: .keepArchives) ?? 7
    }

    /// `topN` of a definition that sets none, unless the decoder's `defaultTopNKey` says
    /// otherwise (`TOP_N`).
    public static let standardTopN = 10
    public static let defaultTopNKey = CodingUserInfoKey(rawValue: "podium.defaultTopN")!

    /// The schedules of the game's period boards (all but all-time).
    public var periodSchedules: [PeriodSchedule] { periods.filter { $0 != .allTime } }

    /// The engine's view of this game.
    public var boardConfiguration: BoardConfiguration {
        BoardConfiguration(sortOrder: sortOrder, scoreOperator: scoreOperator, maxScore: maxScore, topN: topN)
    }

    /// The settings a board's contents depend on: a snapshot folded under other rules
    /// cannot be reused.
    public var rulesFingerprint: String {
        "\(sortOrder.rawValue)/\(scoreOperator.rawValue)/\(maxScore.map(String.init) ?? "-")"
    }

    /// Problems that make this definition unusable, empty when it is valid.
    public var problems: [String] {
        var problems: [String] = []
        if !Self.isValidID(id) { problems.append("id '\(id)' must be 1-64 lower-case letters, digits or dashes") }
        if name.isEmpty || name.count > 100 { problems.append("name must be 1-100 characters") }
        if !(1...500).contains(topN) { problems.append("topN must be between 1 and 500") }
        if let maxScore, maxScore < 0 { problems.append("maxScore must not be negative") }
        if let maxScorePerSecond, maxScorePerSecond <= 0 { problems.append("maxScorePerSecond must be positive") }
        if let minScore, minScore < 0 || minScore > (maxScore ?? .max) { problems.append("minScore must be between 0 and maxScore") }
        if let minRunMilliseconds, minRunMilliseconds <= 0 { problems.append("minRunMilliseconds must be positive") }
        if !actions.isEmpty && scoreOperator != .incr { problems.append("actions need the incr operator") }
        if Set(periods.map(\.name)).count != periods.count { problems.append("periods must have distinct names") }
        for case .custom(let name, let days, _) in periods {
            if !Self.isValidID(name) || ["all-time", "daily", "weekly", "monthly"].contains(name) {
                problems.append("a custom period's name must be a slug other than all-time, daily, weekly and monthly")
            }
            if !(1...366).contains(days) { problems.append("a custom period's everyDays must be between 1 and 366") }
        }
        if !(0...100).contains(keepArchives) { problems.append("keepArchives must be between 0 and 100") }
        if Set(actions.map(\.id)).count != actions.count { problems.append("action ids must be unique") }
        for action in actions where !GameAction.isValidID(action.id) || action.points <= 0 {
            problems.append("action '\(action.id)' needs an id of letters, digits, dashes, dots or underscores and positive points")
        }
        return problems
    }

    static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64
            && id.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 45 }
    }
}

/// An action of an `incr` game and the points it earns.
public struct GameAction: Codable, Sendable, Equatable {
    /// 1-64 letters, digits, dashes, dots or underscores (`daily-login`, spec 004's
    /// `quiz_123`).
    public var id: String
    public var name: String?
    public var points: Int64
    /// Whether a player may complete it more than once.
    public var repeatable: Bool
    /// Whether completing it needs a run token from `POST /api/game-sessions`.
    public var requiresRun: Bool

    public init(id: String, name: String? = nil, points: Int64, repeatable: Bool = true, requiresRun: Bool = false) {
        self.id = id
        self.name = name
        self.points = points
        self.repeatable = repeatable
        self.requiresRun = requiresRun
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case id, name, points, repeatable, requiresRun }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        points = try container.decode(Int64.self, forKey: .points)
        repeatable = try container.decodeIfPresent(Bool.self, forKey: .repeatable) ?? true
        requiresRun = try container.decodeIfPresent(Bool.self, forKey: .requiresRun) ?? false
    }

    static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64
            && id.utf8.allSatisfy { (65...90).contains($0) || (97...122).contains($0) || (48...57).contains($0) || [45, 46, 95].contains($0) }
    }
}

extension KeyedDecodingContainer {
    /// A value of a string enumeration (`"best"`, `"asc"`), nil when absent; any other
    /// string fails with the accepted values (`expected best, incr or set, not 'max'`).
    func decodeChoice<Choice: RawRepresentable & CaseIterable>(_ type: Choice.Type, forKey key: Key) throws -> Choice?
    where Choice.RawValue == String {
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let choice = Choice(rawValue: text) else {
            let names = Choice.allCases.map(\.rawValue)
            let listed = names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "expected \(listed), not '\(text)'")
        }
        return choice
    }
}
