import Foundation

/// The games file read at start-up: every game and the one `GET /api/leaderboard` serves.
public struct GameRegistry: Codable, Sendable {
    /// The game of seed 004's `GET /api/leaderboard`; the first game when absent.
    public var defaultGame: String?
    public var games: [Game]

    public init(defaultGame: String? = nil, games: [Game]) {
        self.defaultGame = defaultGame
        self.games = games
    }

    /// Reads and checks a registry file, or the sample registry built into the binary
    /// when `path` is nil.
    /// - Throws: ``ConfigurationError`` naming every problem with its line.
    /// `defaultTopN` is the `topN` of games that set none (`TOP_N`).
    public static func load(from path: String?, defaultTopN: Int = Game.standardTopN) throws -> GameRegistry {
        let (registry, problems) = try check(path, defaultTopN: defaultTopN)
        guard let registry, problems.isEmpty else {
            throw ConfigurationError(
                "the games file \(path ?? "built in") has \(problems.count) problem(s):\n"
                    + problems.map(\.description).joined(separator: "\n")
            )
        }
        return registry
    }

    /// Reads a registry (nil: the built-in sample) and lists every problem in it, each
    /// with its place; the registry is nil when it cannot be decoded at all.
    public static func check(_ path: String?, defaultTopN: Int = Game.standardTopN) throws -> (GameRegistry?, [RegistryProblem]) {
        guard let path else {
            return check(BundledFiles.file(BundledFiles.gamesPath) ?? [], file: "config/games.json (built in)", defaultTopN: defaultTopN)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("cannot read the games file \(path)")
        }
        return check(Array(data), file: path, defaultTopN: defaultTopN)
    }

    /// Every problem of the registry `text`, each with the line and path of its place.
    static func check(_ text: [UInt8], file: String, defaultTopN: Int = Game.standardTopN) -> (GameRegistry?, [RegistryProblem]) {
        let lines = JSONLines.lines(of: text)
        func problem(_ path: String, _ message: String) -> RegistryProblem {
            RegistryProblem(file: file, line: JSONLines.line(of: path, in: lines), path: path, message: message)
        }
        if let (line, message) = JSONLines.syntaxError(in: text) {
            return (nil, [RegistryProblem(file: file, line: line, path: "", message: "not JSON: \(message)")])
        }
        let lenient: LenientRegistry
        do {
            let decoder = JSONDecoder()
            decoder.userInfo[Game.defaultTopNKey] = defaultTopN
            lenient = try decoder.decode(LenientRegistry.self, from: Data(text))
        } catch {
            let (path, message) = DecodingError.place(of: error)
            return (nil, [problem(path, message)])
        }
        var problems: [RegistryProblem] = []
        var games: [Game] = []
        var seen = Set<String>()
        for (index, entry) in lenient.games.enumerated() {
            switch entry.result {
            case .failure(let error):
                let (path, message) = DecodingError.place(of: error)
                problems.append(problem(path, message))
            case .success(let game):
                for message in game.problems { problems.append(problem("games[\(index)]", "game '\(game.id)': \(message)")) }
                if !seen.insert(game.id).inserted {
                    problems.append(problem("games[\(index)].id", "game '\(game.id)' is defined twice"))
                }
                games.append(game)
            }
        }
        if let defaultGame = lenient.defaultGame, !seen.contains(defaultGame) {
            problems.append(problem("defaultGame", "defaultGame '\(defaultGame)' is not one of the games"))
        }
        for field in unknownFields(in: lines) { problems.append(problem(field.path, field.message)) }
        return (GameRegistry(defaultGame: lenient.defaultGame, games: games), problems)
    }

    /// The fields of `lines` (a registry's places) that no registry, game, action or
    /// period schedule has: a misspelt `maxScore` would otherwise be left out silently.
    static func unknownFields(in lines: [String: Int]) -> [(path: String, message: String)] {
        let known: [(pattern: Regex<Substring>, fields: [String])] = [
            (/[^.\[]+/, ["defaultGame", "games"]),
            (/games\[\d+\]\.[^.\[]+/, Game.CodingKeys.allCases.map(\.rawValue)),
            (/games\[\d+\]\.actions\[\d+\]\.[^.\[]+/, GameAction.CodingKeys.allCases.map(\.rawValue)),
            (/games\[\d+\]\.periods\[\d+\]\.[^.\[]+/, PeriodSchedule.CustomKeys.allCases.map(\.rawValue)),
        ]
        func simplified(_ name: some StringProtocol) -> String { name.lowercased().filter { $0 != "_" && $0 != "-" } }
        var unknown: [(line: Int, path: String, message: String)] = []
        for (path, line) in lines where !path.isEmpty {
            guard let fields = known.first(where: { path.wholeMatch(of: $0.pattern) != nil })?.fields else { continue }
            let name = path.split(separator: ".").last.map(String.init) ?? path
            guard !fields.contains(name) else { continue }
            let suggestion = fields.first { simplified($0) == simplified(name) }.map { " (did you mean '\($0)'?)" } ?? ""
            unknown.append((line, path, "unknown field '\(name)'\(suggestion)"))
        }
        return unknown.sorted { ($0.line, $0.path) < ($1.line, $1.path) }.map { ($0.path, $0.message) }
    }

    /// The registry with each game decoded on its own, so one bad game does not hide the
    /// problems of the others.
    private struct LenientRegistry: Decodable {
        struct Entry: Decodable {
            let result: Result<Game, any Error>
            init(from decoder: any Decoder) throws { result = Result { try Game(from: decoder) } }
        }

        var defaultGame: String?
        var games: [Entry]
    }
}

/// One problem of a games registry and where it is.
public struct RegistryProblem: Sendable, CustomStringConvertible {
    public var file: String
    /// 1-based line of the value at fault, when the text could be read that far.
    public var line: Int?
    /// Its JSON path, such as `games[2].actions[0].points`.
    public var path: String
    public var message: String

    /// `config/games.json:14: games[2].actions: action 'x' needs an id of letters, digits, dashes, dots or underscores and positive points`.
    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(path.isEmpty ? "" : path + ": ")\(message)"
    }
}

extension DecodingError {
    /// The JSON path and the reason of a decoding failure (any error: its description).
    static func place(of error: any Error) -> (path: String, message: String) {
        guard let error = error as? DecodingError else { return ("", "\(error)") }
        let (context, reason): (Context, String)
        switch error {
        case .typeMismatch(let type, let c): (context, reason) = (c, "expected \(type)")
        case .valueNotFound(let type, let c): (context, reason) = (c, "expected \(type), found null")
        case .keyNotFound(let key, let c): (context, reason) = (c, "'\(key.stringValue)' is missing")
        case .dataCorrupted(let c):
            let underlying = c.underlyingError.map { error in
                (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? String(describing: error)
            }
            (context, reason) = (c, underlying.map { "\(c.debugDescription) \($0)" } ?? c.debugDescription)
        @unknown default: return ("", "\(error)")
        }
        var path = ""
        for key in context.codingPath {
            if let index = key.intValue { path += "[\(index)]" } else { path += path.isEmpty ? key.stringValue : ".\(key.stringValue)" }
        }
        return (path, reason.isEmpty ? context.debugDescription : reason)
    }
}

/// A setting or file that keeps the server from starting, with the reason.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}
