import ArgumentParser
import Foundation
import PodiumServer

/// `podium backup`: a consistent copy of the store, taken while the server runs.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the SQLite store to a new file while the server runs (SQLite's online backup).",
        discussion: "For PostgreSQL storage use pg_dump; memory storage keeps nothing to back up. Restore with podium restore."
    )

    @Option(help: "The backup file to create (it must not exist).")
    var to: String

    @Option(help: "The server's storage: sqlite, memory or a postgres:// URL. Env: PODIUM_STORAGE, or DATABASE_URL. Default sqlite.")
    var storage: String?

    @Option(help: "The server's data directory. Env: PODIUM_DATA_DIR. Default ./data.")
    var dataDirectory: String?

    func run() throws {
        let configuration = try StorageOptions.configuration(storage: storage, dataDirectory: dataDirectory)
        switch configuration.storage {
        case .postgres:
            throw ExitCode.refusal(
                "PostgreSQL storage is backed up with PostgreSQL's tools, while the servers run: pg_dump --format=custom --file=\(to) '\(configuration.storage)' (and pg_restore to restore)."
            )
        case .memory:
            throw ExitCode.refusal("memory storage keeps nothing to back up.")
        case .sqlite:
            do {
                let summary = try SQLiteBackup.backup(database: configuration.sqliteFile, to: to)
                print("backed up \(configuration.dataLocation) to \(to): \(summary)")
            } catch let error as ConfigurationError {
                throw ExitCode.refusal(error.description)
            }
        }
    }
}

/// The storage settings shared by `podium serve`, `backup` and `restore`.
enum StorageOptions {
    static func configuration(storage: String?, dataDirectory: String?) throws -> ServerConfiguration {
        let environment = ProcessInfo.processInfo.environment
        var configuration = ServerConfiguration()
        let name = storage ?? environment["PODIUM_STORAGE"] ?? environment["DATABASE_URL"] ?? configuration.storage.description
        guard let storage = ServerConfiguration.Storage(argument: name) else {
            throw ValidationError("storage must be sqlite, memory or a postgres:// URL, not '\(name)'.")
        }
        configuration.storage = storage
        configuration.dataDirectory = dataDirectory ?? environment["PODIUM_DATA_DIR"] ?? configuration.dataDirectory
        return configuration
    }
}
