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
        let urgent = event.level >= .warning
        switch format {
        case .text:
            // Built as bytes, in one buffer: a busy server writes a line per request.
            var line: [UInt8] = []
            line.reserveCapacity(256)
            Timestamp.write(Timestamp.now(), to: &line)
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: event.level.rawValue.utf8)
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: label.utf8)
            line.append(contentsOf: ": ".utf8)
            line.append(contentsOf: event.message.description.utf8)
            var fields: [(key: String, value: Logger.Metadata.Value)] = []
            fields.reserveCapacity(metadata.count + (event.metadata?.count ?? 0))
            for field in metadata where event.metadata?[field.key] == nil { fields.append(field) }
            for field in event.metadata ?? [:] { fields.append(field) }
            fields.sort { $0.key < $1.key }
            for (key, value) in fields {
                line.append(UInt8(ascii: " "))
                line.append(contentsOf: key.utf8)
                line.append(UInt8(ascii: "="))
                Self.appendQuoted(value.description, to: &line)
            }
            line.append(0x0A)
            LogOutput.write(line, urgent: urgent)
        case .json:
            let merged = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
            let time = Timestamp.format(Timestamp.now())
            var fields: [String: Any] = ["time": time, "level": event.level.rawValue, "label": label, "message": event.message.description]
            for (key, value) in merged { fields[key] = Self.json(value) }
            guard let line = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return }
            LogOutput.write(line + [0x0A], urgent: urgent)
        }
    }

    /// Appends `value` as ``quoted(_:)`` writes it; a value of printable ASCII with nothing
    /// to quote, the common case, is copied as it is.
    private static func appendQuoted(_ value: String, to line: inout [UInt8]) {
        let plain = !value.isEmpty && value.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: "\\") }
        line.append(contentsOf: (plain ? value : quoted(value)).utf8)
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
