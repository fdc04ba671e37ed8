import Foundation
import Logging
import Synchronization

/// A swift-log handler that writes one readable line per event to standard error:
/// `2026-11-23T10:00:00.000Z info podium: message key=value …`.
///
/// Unlike swift-log's `StreamLogHandler`, it renders metadata only when a line is written,
/// so a request that adds its id to the logger pays nothing until it logs.
public struct TextLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = Timestamp.format(Timestamp.now()) + " " + event.level.rawValue + " " + label + ": " + event.message.description
        let merged = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += " " + key + "=" + value.description
        }
        line += "\n"
        LogOutput.write(Data(line.utf8))
    }
}

/// Standard error, shared by the log handlers so lines never interleave.
enum LogOutput {
    private static let output = Mutex(FileHandle.standardError)

    static func write(_ line: Data) {
        output.withLock { $0.write(line) }
    }
}
