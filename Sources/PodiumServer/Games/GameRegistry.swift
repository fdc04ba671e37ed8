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

    /// Reads and checks a registry file.
    public static func load(from path: String) throws -> GameRegistry {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigurationError("cannot read the games file \(path): \(error.localizedDescription)")
        }
        let registry: GameRegistry
        do {
            registry = try JSONDecoder().decode(GameRegistry.self, from: data)
        } catch {
            throw ConfigurationError("the games file \(path) is not valid: \(error)")
        }
        try registry.validate()
        return registry
    }

    func validate() throws {
        var seen = Set<String>()
        for game in games {
            if let problem = game.problems.first { throw ConfigurationError("game '\(game.id)': \(problem)") }
            if !seen.insert(game.id).inserted { throw ConfigurationError("game '\(game.id)' is defined twice") }
        }
        if let defaultGame, !seen.contains(defaultGame) {
            throw ConfigurationError("defaultGame '\(defaultGame)' is not one of the games")
        }
    }
}

/// A setting or file that keeps the server from starting, with the reason.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}
