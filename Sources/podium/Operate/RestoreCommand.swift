import ArgumentParser
import Foundation
import PodiumServer

/// `podium restore`: puts a backup in place of a stopped server's SQLite database.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put a backup of podium backup in place of the SQLite database of a stopped server.",
        discussion: """
            Refused while a server uses the data directory. The database it replaces is kept as \
            podium.sqlite.before-restore. Start the server afterwards: it restores the boards from the \
            backup's snapshots and log and answers as the server did when the backup was taken.
            """
    )

    @Option(help: "The backup file (made by podium backup).")
    var from: String

    @Option(help: "The data directory to restore into. Env: PODIUM_DATA_DIR. Default ./data.")
    var dataDirectory: String?

    func run() throws {
        let configuration = try StorageOptions.configuration(storage: "sqlite", dataDirectory: dataDirectory)
        do {
            let summary = try SQLiteBackup.restore(from: from, into: configuration.dataDirectory)
            print("restored \(from) into \(configuration.dataLocation): \(summary)")
        } catch let error as ConfigurationError {
            throw ExitCode.refusal(error.description)
        }
    }
}
