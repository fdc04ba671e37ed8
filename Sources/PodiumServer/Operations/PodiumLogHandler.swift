import Foundation
import Logging
import Synchronization

/// A swift-log handler that writes one line per event to standard error, as text
/// (`2026-11-23T10:00:00.000Z info podium: message key=value …`) or as one JSON object
/// (`{"time":…,"level":…,"label":…,"message":…, …metadata}`).
///
/// Unlike swift-log's `StreamLogHandler`, it renders metadata only when a line is written,
/// so a request that adds its id to the logger pays nothing until it logs, and lines are
/// written in batches (``LogOutput``).
public struct PodiumLogHandler: LogHandler {
    public enum Format: String, Sendable {
        case text
        case json
    }

    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let format: Format

    /// A handler for `label`'s logger that writes lines of `level` and above.
    public init(label: String, format: Format, level: Logger.Level = .info) {
        self.label = label
        self.format = format
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        let time = Timestamp.format(Timestamp.now())
        let urgent = event.level >= .warning
        switch format {
        case .text:
            var text = time + " " + event.level.rawValue + " " + label + ": " + event.message.description
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) { text += " " + key + "=" + Self.quoted(value.description) }
            text += "\n"
            LogOutput.write(text.utf8, urgent: urgent)
        case .json:
            var fields: [String: Any] = ["time": time, "level": event.level.rawValue, "label": label, "message": event.message.description]
            for (key, value) in merged { fields[key] = Self.json(value) }
            guard let line = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return }
            LogOutput.write(line + [0x0A], urgent: urgent)
        }
    }

    /// A text value as logfmt writes it: quoted when it is empty or holds a space, a
    /// quote, `=` or a control character; inside quotes `\\`, `\"`, `\n`, `\r`, `\t` and
    /// other controls (`\u{…}`) are escaped, so no value can start a line of its own.
    static func quoted(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.unicodeScalars.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\\" || isControl($0) }
        guard needsQuotes else { return value }
        var escaped = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case _ where isControl(scalar): escaped += "\\u{\(String(scalar.value, radix: 16))}"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped + "\""
    }

    /// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(json)
        case .dictionary(let values): values.mapValues(json)
        }
    }
}
