import ArgumentParser
import Foundation

/// `podium export`: one board's standings from a running server, as CSV or JSON.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a board's standings (rank, userId, displayName, countryCode, score, achievedAt) from a running server."
    )

    @Option(help: "The game whose board is written.")
    var game: String

    @Option(help: "The board: all-time, a schedule's current period (daily, weekly, monthly) or a kept period's key (2026-12-01, 2026-W49, 2026-12).")
    var period = "all-time"

    @Option(help: "csv or json.")
    var format = "csv"

    @Option(name: .customLong("to"), help: "The file to write. Default: standard output.")
    var output: String?

    @OptionGroup var connection: AdminConnection

    func validate() throws {
        guard ["csv", "json"].contains(format) else { throw ValidationError("--format must be csv or json.") }
    }

    func run() async throws {
        let answer = try await connection.withSession { session in
            try await session.send("GET", "/api/admin/games/\(game)/export?format=\(format)&period=\(period)")
        }
        guard answer.status == 200 else { throw AdminConnection.Failure("the export of \(game) failed", answer) }
        let data = Data(buffer: answer.body)
        if let output {
            try data.write(to: URL(fileURLWithPath: output), options: .atomic)
        } else {
            FileHandle.standardOutput.write(data)
        }
    }
}
