import Foundation
import NIOCore
import PodiumEngine

/// A board's standings as a file, for `podium export` and `podium import`: CSV with the
/// header `rank,userId,displayName,countryCode,score,achievedAt`, or JSON
/// `{"gameId", "period", "version", "exportedAt", "players", "entries": [entry, …]}` with one
/// entry per line.
enum StandingsFile {
    enum Format: String, Sendable {
        case csv, json

        var contentType: String { self == .csv ? "text/csv; charset=utf-8" : "application/json; charset=utf-8" }
    }

    /// The columns of an export, in order; an import reads them by name.
    static let columns = ["rank", "userId", "displayName", "countryCode", "score", "achievedAt"]

    /// The entries of one board at one version, in rank order; `period` is `all-time` or a
    /// period's key.
    static func encode(
        _ entries: [RankedEntry], gameId: String, period: String, version: UInt64, exportedAt: Int64, as format: Format
    ) -> ByteBuffer {
        switch format {
        case .csv:
            var buffer = ByteBufferAllocator().buffer(capacity: 64 + entries.count * 64)
            buffer.writeString(CSV.line(columns))
            for entry in entries {
                buffer.writeString(
                    CSV.line([
                        String(entry.rank), entry.userId, entry.displayName, entry.countryCode?.description ?? "", String(entry.score),
                        Timestamp.format(entry.achievedAt),
                    ])
                )
            }
            return buffer
        case .json:
            var json = JSONWriter(capacity: 256 + entries.count * 140)
            json.beginObject()
            json.field("gameId", gameId)
            json.field("period", period)
            json.field("version", Int64(version))
            json.field("exportedAt", Timestamp.format(exportedAt))
            json.field("players", Int64(entries.count))
            json.key("entries")
            json.beginArray()
            for entry in entries {
                json.lineBreak()
                entry.write(to: &json)
            }
            json.lineBreak()
            json.endArray()
            json.endObject()
            json.lineBreak()
            return json.buffer
        }
    }

    /// One row of an import: a player's entry, before it is logged.
    struct Row: Equatable {
        var line: Int
        var event: ScoreEvent
    }

    /// A refused row and why.
    struct Problem: Equatable, CustomStringConvertible {
        var line: Int
        var message: String
        var description: String { "line \(line): \(message)" }
    }

    /// The rows of `text` for `game` and every problem found, each with its line. Rows
    /// need `userId` and `score`; `displayName` defaults to the user id, `achievedAt` to
    /// `now`, `countryCode` to none; `rank` is ignored (ranks follow from the scores).
    static func rows(_ text: [UInt8], format: Format, game: Game, now: Int64) -> (rows: [Row], problems: [Problem]) {
        var text = text
        if text.starts(with: [0xEF, 0xBB, 0xBF]) { text.removeFirst(3) }
        let fields: [(line: Int, values: [String: String])]
        switch format {
        case .csv:
            switch csvFields(text) {
            case .success(let rows): fields = rows
            case .failure(let problem): return ([], [problem])
            }
        case .json:
            switch jsonFields(text) {
            case .success(let rows): fields = rows
            case .failure(let problem): return ([], [problem])
            }
        }
        var rows: [Row] = []
        var problems: [Problem] = []
        var lineOfUser: [String: Int] = [:]
        for (line, values) in fields {
            do {
                let event = try self.event(values, game: game, now: now)
                if let earlier = lineOfUser.updateValue(line, forKey: event.userId) {
                    throw Problem(line: line, message: "userId '\(event.userId)' is on line \(earlier) already")
                }
                rows.append(Row(line: line, event: event))
            } catch let problem as Problem {
                problems.append(Problem(line: line, message: problem.message))
            } catch {
                problems.append(Problem(line: line, message: "\(error)"))
            }
        }
        if rows.isEmpty && problems.isEmpty { problems.append(Problem(line: 1, message: "the file has no rows")) }
        return (rows, problems)
    }

    private static func csvFields(_ text: [UInt8]) -> Result<[(line: Int, values: [String: String])], Problem> {
        let (records, openQuote) = CSV.records(text)
        if let openQuote { return .failure(Problem(line: openQuote, message: "a quote opened here is never closed")) }
        guard let header = records.first else { return .failure(Problem(line: 1, message: "the file is empty")) }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        if let unknown = names.first(where: { !columns.contains($0) }) {
            return .failure(Problem(line: header.line, message: "unknown column '\(unknown)' (columns: \(columns.joined(separator: ",")))"))
        }
        for required in ["userId", "score"] where !names.contains(required) {
            return .failure(Problem(line: header.line, message: "the header needs a '\(required)' column"))
        }
        if Set(names).count != names.count { return .failure(Problem(line: header.line, message: "a column is named twice")) }
        var rows: [(line: Int, values: [String: String])] = []
        for record in records.dropFirst() {
            guard record.fields.count == names.count else {
                return .failure(Problem(line: record.line, message: "\(record.fields.count) fields where the header has \(names.count)"))
            }
            rows.append((record.line, Dictionary(uniqueKeysWithValues: zip(names, record.fields))))
        }
        return .success(rows)
    }

    private static func jsonFields(_ text: [UInt8]) -> Result<[(line: Int, values: [String: String])], Problem> {
        if let (line, message) = JSONLines.syntaxError(in: text) { return .failure(Problem(line: line, message: "not JSON: \(message)")) }
        let file: JSONFile
        do {
            file = try JSONDecoder().decode(JSONFile.self, from: Data(text))
        } catch {
            let (path, message) = DecodingError.place(of: error)
            return .failure(Problem(line: JSONLines.line(of: path, in: JSONLines.lines(of: text)) ?? 1, message: message))
        }
        let lines = JSONLines.lines(of: text)
        var rows: [(line: Int, values: [String: String])] = []
        for (index, entry) in file.entries.enumerated() {
            let line = JSONLines.line(of: "\(file.prefix)[\(index)]", in: lines) ?? 1
            switch entry.values {
            case .success(let values): rows.append((line, values))
            case .failure(let problem): return .failure(Problem(line: line, message: problem.message))
            }
        }
        return .success(rows)
    }

    /// An import in JSON: an export (`{"entries": […]}`) or a bare array of entries.
    private struct JSONFile: Decodable {
        var entries: [Entry]
        /// The path of the entries array: `entries`, or empty for a bare array.
        var prefix: String

        enum Keys: String, CodingKey { case entries }

        init(from decoder: any Decoder) throws {
            if let container = try? decoder.container(keyedBy: Keys.self) {
                entries = try container.decode([Entry].self, forKey: .entries)
                prefix = "entries"
            } else {
                entries = try decoder.singleValueContainer().decode([Entry].self)
                prefix = ""
            }
        }
    }

    /// One entry's fields as text, or why it cannot be read.
    private struct Entry: Decodable {
        var values: Result<[String: String], Problem>

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            guard let container = try? decoder.container(keyedBy: Key.self) else {
                values = .failure(Problem(line: 0, message: "an entry must be an object"))
                return
            }
            var values: [String: String] = [:]
            for key in container.allKeys {
                guard StandingsFile.columns.contains(key.stringValue) else {
                    self.values = .failure(Problem(line: 0, message: "unknown field '\(key.stringValue)'"))
                    return
                }
                if try container.decodeNil(forKey: key) { continue }
                if let text = try? container.decode(String.self, forKey: key) {
                    values[key.stringValue] = text
                } else if let number = try? container.decode(Int64.self, forKey: key) {
                    values[key.stringValue] = String(number)
                } else {
                    self.values = .failure(Problem(line: 0, message: "'\(key.stringValue)' must be a string or an integer"))
                    return
                }
            }
            self.values = .success(values)
        }
    }

    private static func event(_ values: [String: String], game: Game, now: Int64) throws -> ScoreEvent {
        func problem(_ message: String) -> Problem { Problem(line: 0, message: message) }
        let userId = values["userId"] ?? ""
        guard !userId.isEmpty, userId.utf8.count <= 128 else { throw problem("userId must be 1-128 bytes") }
        let displayName = values["displayName"].flatMap { $0.isEmpty ? nil : $0 } ?? String(userId.prefix(64))
        guard displayName.count <= 64 else { throw problem("displayName must be 1-64 characters") }
        var country: CountryCode?
        if let code = values["countryCode"], !code.isEmpty {
            guard let assigned = CountryCode.assigned(code) else { throw problem("countryCode '\(code)' is not an ISO 3166-1 alpha-2 code") }
            country = assigned
        }
        let scoreText = values["score"] ?? ""
        guard let score = Int64(scoreText) ?? Self.integralDecimal(scoreText) else {
            throw problem("score '\(scoreText)' is not an integer")
        }
        guard score >= 0 else { throw problem("score must not be negative") }
        if let maxScore = game.maxScore, score > maxScore { throw problem("score \(score) is above the game's maxScore \(maxScore)") }
        var achievedAt = now
        if let time = values["achievedAt"], !time.isEmpty {
            guard let parsed = Timestamp.parse(time) else { throw problem("achievedAt '\(time)' is not an RFC 3339 time") }
            achievedAt = parsed
        }
        return ScoreEvent(userId: userId, displayName: displayName, countryCode: country, score: score, achievedAt: achievedAt)
    }

    /// `4200.0` or `4200.00` (how some tools print integral scores, Redis among them
    /// for large ones) as 4200; nil for anything with a fraction.
    private static func integralDecimal(_ text: String) -> Int64? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].isEmpty, parts[1].allSatisfy({ $0 == "0" }) else { return nil }
        return Int64(parts[0])
    }
}

extension StandingsFile.Problem: Error {}
