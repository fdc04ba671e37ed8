import Foundation
import Synchronization

/// Standard error for log lines, written in batches: a line is appended to a buffer, and
/// the buffer goes out in one `write` when a line is a warning or worse, when it holds
/// 64 KiB, every 100 ms, and at exit. A busy server thus makes one system call for many
/// request lines instead of one per line, and its event loops do not queue on a lock
/// held across a system call.
enum LogOutput {
    private static let pending = Mutex<[UInt8]>([])
    /// Held while a batch is written, so batches leave in the order they were taken.
    private static let writing = Mutex<Void>(())
    private static let batchSize = 64 * 1024
    private static let flushInterval: useconds_t = 100_000
    private static let flusher: Void = {
        atexit { LogOutput.flush() }
        Thread {
            while true {
                usleep(flushInterval)
                flush()
            }
        }.start()
    }()

    /// Queues one line (with its newline); `urgent` lines go out at once.
    static func write(_ line: some Collection<UInt8>, urgent: Bool) {
        _ = flusher
        let full = pending.withLock { buffer in
            buffer.append(contentsOf: line)
            return buffer.count >= batchSize
        }
        if urgent || full { flush() }
    }

    /// Writes what is queued.
    static func flush() {
        writing.withLock { _ in
            let batch = pending.withLock { buffer in
                defer { buffer.removeAll(keepingCapacity: true) }
                return buffer
            }
            guard !batch.isEmpty else { return }
            batch.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Foundation.write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                    if written <= 0 {
                        if written < 0 && errno == EINTR { continue }
                        return
                    }
                    offset += written
                }
            }
        }
    }
}
