import ArgumentParser
import PodiumServer

/// The `podium` command line: `podium serve`, operations on a server's data, `podium bench …`.
@main
struct PodiumCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "podium",
        abstract: "A self-hosted real-time leaderboard server.",
        version: "podium \(PodiumVersion.description)",
        subcommands: [
            ServeCommand.self, CheckConfigCommand.self, BackupCommand.self, RestoreCommand.self, ExportCommand.self,
            ImportCommand.self, BenchCommand.self,
        ],
        defaultSubcommand: ServeCommand.self
    )
}
