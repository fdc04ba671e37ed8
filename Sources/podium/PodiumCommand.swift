import ArgumentParser

/// The `podium` command line: `podium serve`, `podium bench …`.
@main
struct PodiumCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "podium",
        abstract: "A self-hosted real-time leaderboard server.",
        subcommands: [ServeCommand.self, BenchCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
