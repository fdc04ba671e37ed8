import ArgumentParser

/// `podium bench …`: benchmarks that print their figures, one per line.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Podium's speed and size (build with -c release).",
        subcommands: [EngineBenchCommand.self, SubmissionBenchCommand.self, LogBenchCommand.self, SnapshotBenchCommand.self, ConstantHTTPBenchCommand.self]
    )
}
