import Foundation
import GRDB

/// `podium backup` and `podium restore` of a SQLite data directory.
///
/// A backup is SQLite's online backup of `podium.sqlite`, copied in one step inside one
/// read transaction: a consistent copy at one commit while a server goes on writing (WAL
/// readers do not block the writer). It is written beside its destination and renamed
/// into place once checked, as one self-contained file (rollback journal, no `-wal`).
/// A restore puts such a file in place of a stopped server's database.
public enum SQLiteBackup {
    /// What a backup or a restored file holds.
    public struct Summary: Sendable, CustomStringConvertible {
        /// Events in the log and the last one's sequence.
        public var events: Int
        public var lastSequence: Int64?
        public var users: Int
        public var bytes: Int

        public var description: String {
            "\(events) log events (last sequence \(lastSequence.map(String.init) ?? "none")), \(users) accounts, \(bytes) bytes"
        }
    }

    /// Copies the database `source` (a running server's, or a stopped one's) to the new
    /// file `destination`.
    /// - Throws: ``ConfigurationError`` when there is nothing to copy or `destination` exists.
    public static func backup(database source: String, to destination: String) throws -> Summary {
        guard FileManager.default.fileExists(atPath: source) else { throw ConfigurationError("there is no database at \(source)") }
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw ConfigurationError("\(destination) exists; a backup does not overwrite a file")
        }
        let partial = destination + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        do {
            let reader = try DatabaseQueue(path: source, configuration: configuration(readonly: true))
            let copy = try DatabaseQueue(path: partial, configuration: configuration(readonly: false))
            try reader.backup(to: copy)
            try reader.close()
            _ = try copy.writeWithoutTransaction { try String.fetchOne($0, sql: "PRAGMA journal_mode = DELETE") }
            let summary = try check(copy, path: partial)
            try copy.close()
            guard rename(partial, destination) == 0 else { throw ConfigurationError("cannot rename \(partial) to \(destination)") }
            return summary
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw failure(error, of: "the backup to \(destination)", leaving: "nothing was written")
        }
    }

    /// Puts the backup `file` in place of the database of `directory`, whose server must
    /// be stopped. The database it replaces is kept, complete, as
    /// `podium.sqlite.before-restore`.
    /// - Throws: ``ConfigurationError`` when a server uses the directory or `file` is not a
    ///   sound Podium database.
    public static func restore(from file: String, into directory: String) throws -> Summary {
        let lock = try DataDirectoryLock(directory: directory)
        defer { withExtendedLifetime(lock) {} }
        guard FileManager.default.fileExists(atPath: file) else { throw ConfigurationError("there is no backup at \(file)") }
        let database = (directory as NSString).appendingPathComponent("podium.sqlite")
        let incoming = database + ".restoring"
        try? FileManager.default.removeItem(atPath: incoming)
        let summary: Summary
        do {
            try FileManager.default.copyItem(atPath: file, toPath: incoming)
            let queue = try DatabaseQueue(path: incoming, configuration: configuration(readonly: false))
            summary = try check(queue, path: incoming)
            try queue.close()
            try synchronize(incoming)
            if FileManager.default.fileExists(atPath: database) {
                // Folds the replaced database's WAL into it, so the kept copy is whole.
                let replaced = try DatabaseQueue(path: database, configuration: configuration(readonly: false))
                _ = try replaced.writeWithoutTransaction { try Row.fetchOne($0, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
                try replaced.close()
                guard rename(database, database + ".before-restore") == 0 else { throw ConfigurationError("cannot set \(database) aside") }
            }
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
            guard rename(incoming, database) == 0 else { throw ConfigurationError("cannot rename \(incoming) to \(database)") }
        } catch {
            try? FileManager.default.removeItem(atPath: incoming)
            throw failure(error, of: "the restore of \(file)", leaving: "\(database) is unchanged")
        }
        return summary
    }

    /// `error` as a ``ConfigurationError`` that says what failed and what was left: SQLite's
    /// and the file system's errors name the code, with the likely cause of an I/O error.
    private static func failure(_ error: any Error, of work: String, leaving left: String) -> ConfigurationError {
        switch error {
        case let error as ConfigurationError:
            return error
        case let error as DatabaseError:
            let full = [.SQLITE_FULL, .SQLITE_IOERR].contains(error.resultCode) ? " (is the disk full?)" : ""
            return ConfigurationError("\(work) failed: SQLite error \(error.extendedResultCode)\(full); \(left)")
        default:
            // Foundation's copy wraps the system's reason (`File too large`) in a bare code.
            let underlying = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? any Error).map { $0 as NSError }
            let reason = underlying.flatMap { $0.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32($0.code))) : nil }
                ?? error.localizedDescription
            return ConfigurationError("\(work) failed: \(reason); \(left)")
        }
    }

    private static func configuration(readonly: Bool) -> Configuration {
        var configuration = Configuration()
        configuration.readonly = readonly
        configuration.busyMode = .timeout(10)
        return configuration
    }

    /// Checks that `queue` is a sound Podium database and sums it up.
    private static func check(_ queue: DatabaseQueue, path: String) throws -> Summary {
        try queue.read { db in
            let verdict = try String.fetchOne(db, sql: "PRAGMA quick_check") ?? "no answer"
            guard verdict == "ok" else { throw ConfigurationError("\(path) fails SQLite's check: \(verdict)") }
            guard try db.tableExists("score_events"), try db.tableExists("users") else {
                throw ConfigurationError("\(path) is not a Podium database (it has no log)")
            }
            let row = try Row.fetchOne(db, sql: "SELECT COUNT(*), MAX(sequence) FROM score_events")
            let users = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users") ?? 0
            let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            return Summary(events: row.map { $0[0] as Int } ?? 0, lastSequence: row.flatMap { $0[1] as Int64? }, users: users, bytes: bytes)
        }
    }

    /// Flushes `path` to the disk before it replaces anything.
    private static func synchronize(_ path: String) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.synchronize()
        try handle.close()
    }
}
