import ArgumentParser
import Foundation
import NIOCore

/// `podium import`: loads standings into an empty game of a running server, through its log.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load standings (CSV or JSON, as podium export writes them) into an empty game of a running server.",
        discussion: """
            Columns: userId and score are required; displayName (default: the user id), countryCode and \
            achievedAt (RFC 3339; default: now) are optional; rank is ignored. Every row becomes a score \
            event in the log, so it is durable, replayed at start and pushed live. Bad rows are refused \
            with their line numbers and nothing is imported.
            """
    )

    @Option(help: "The game to load; its board must be empty.")
    var game: String

    @Option(help: "csv or json. Default: from the file's extension, else csv.")
    var format: String?

    @Argument(help: "The file to load.")
    var file: String

    @OptionGroup var connection: AdminConnection

    func run() async throws {
        let format = format ?? (file.lowercased().hasSuffix(".json") ? "json" : "csv")
        guard ["csv", "json"].contains(format) else { throw ValidationError("--format must be csv or json.") }
        guard let data = FileManager.default.contents(atPath: file) else { throw ExitCode.refusal("cannot read \(file).") }
        let answer = try await connection.withSession { session in
            try await session.send(
                "POST", "/api/admin/games/\(game)/import", body: ByteBuffer(bytes: data),
                contentType: format == "csv" ? "text/csv" : "application/json"
            )
        }
        guard answer.status == 200 else { throw AdminConnection.Failure("the import into \(game) failed", answer) }
        let object = try JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [String: Any]
        print("imported \(object?["imported"] ?? "?") players into \(game)")
    }
}
