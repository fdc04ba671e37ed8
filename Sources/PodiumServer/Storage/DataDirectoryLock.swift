import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A write lock on `podium.lock` in a SQLite data directory, held by the process that
/// serves (or restores) it, so a second server or a restore cannot write under a running
/// one. A POSIX record lock: the kernel drops it when the process ends, even by SIGKILL.
public final class DataDirectoryLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock of `directory` (created if missing).
    /// - Throws: ``ConfigurationError`` when another process holds it or the file cannot be opened.
    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent("podium.lock")
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ConfigurationError("cannot open \(path): \(String(cString: strerror(errno)))") }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        guard fcntl(descriptor, F_SETLK, &lock) == 0 else {
            close(descriptor)
            throw ConfigurationError("another podium process is using the data directory \(directory) (it holds \(path))")
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}
