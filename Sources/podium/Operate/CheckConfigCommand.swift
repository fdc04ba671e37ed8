import ArgumentParser
import Foundation
import PodiumServer

/// `podium check-config`: checks a games registry and prints every problem with its line.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a games registry and print every problem with its place in the file (exit 1 if any)."
    )

    @Option(help: "The games registry (JSON). Env: PODIUM_GAMES_FILE. Default: the sample registry built into podium.")
    var games: String?

    func run() throws {
        let path = games ?? ProcessInfo.processInfo.environment["PODIUM_GAMES_FILE"]
        let (registry, problems): (GameRegistry?, [RegistryProblem])
        do {
            (registry, problems) = try GameRegistry.check(path)
        } catch let error as ConfigurationError {
            throw ExitCode.refusal(error.description)
        }
        for problem in problems { print(problem) }
        guard problems.isEmpty, let registry else {
            print("\(problems.count) problem(s) in \(path ?? "the built-in registry")")
            throw ExitCode.failure
        }
        print("\(path ?? "the built-in registry"): \(registry.games.count) games, no problems")
    }
}
