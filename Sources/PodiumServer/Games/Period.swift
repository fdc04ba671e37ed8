/// How often a game's board starts again: never (all-time), at UTC midnight, on ISO 8601
/// Mondays, on the first of the month, or every few days from a start of the game's
/// choosing. Written in a game's `periods` as `"all-time"`, `"daily"`, `"weekly"`,
/// `"monthly"`, or `{"name": "raid-week", "everyDays": 7, "from": "2026-12-07T18:00:00Z"}`.
public enum PeriodSchedule: Hashable, Sendable {
    case allTime
    case daily
    case weekly
    case monthly
    /// Periods of `days` days, the first starting at `from` (milliseconds since 1970).
    case custom(name: String, days: Int, from: Int64)

    /// The name a read or a subscription gives for the schedule's current period.
    public var name: String {
        switch self {
        case .allTime: "all-time"
        case .daily: "daily"
        case .weekly: "weekly"
        case .monthly: "monthly"
        case .custom(let name, _, _): name
        }
    }

    static let dayMilliseconds: Int64 = 86_400_000

    /// The period that contains `time` (milliseconds since 1970); nil for all-time.
    public func period(containing time: Int64) -> Period? {
        let day = Self.floorDivide(time, Self.dayMilliseconds)
        switch self {
        case .allTime:
            return nil
        case .daily:
            let start = day * Self.dayMilliseconds
            let (year, month, dayOfMonth) = Timestamp.civilDate(fromDays: day)
            return Period(schedule: self, key: "\(Self.pad(year, 4))-\(Self.pad(month, 2))-\(Self.pad(dayOfMonth, 2))", start: start,
                end: start + Self.dayMilliseconds)
        case .weekly:
            // Day 0 (1970-01-01) was a Thursday; ISO weeks start on Monday and belong to
            // the year of their Thursday.
            let monday = day - Self.floorModulo(day + 3, 7)
            let thursday = monday + 3
            let (year, _, _) = Timestamp.civilDate(fromDays: thursday)
            let week = (thursday - Timestamp.daysFromCivil(year: year, month: 1, day: 1)) / 7 + 1
            return Period(schedule: self, key: "\(Self.pad(year, 4))-W\(Self.pad(week, 2))", start: monday * Self.dayMilliseconds,
                end: (monday + 7) * Self.dayMilliseconds)
        case .monthly:
            let (year, month, _) = Timestamp.civilDate(fromDays: day)
            let first = Timestamp.daysFromCivil(year: year, month: month, day: 1)
            let next = month == 12 ? Timestamp.daysFromCivil(year: year + 1, month: 1, day: 1)
                : Timestamp.daysFromCivil(year: year, month: month + 1, day: 1)
            return Period(schedule: self, key: "\(Self.pad(year, 4))-\(Self.pad(month, 2))", start: first * Self.dayMilliseconds,
                end: next * Self.dayMilliseconds)
        case .custom(let name, let days, let from):
            let length = Int64(days) * Self.dayMilliseconds
            let start = from + Self.floorDivide(time - from, length) * length
            let text = Timestamp.format(start)
            // `raid-week@2026-12-07T18:00Z`: the name and the start to the minute.
            return Period(schedule: self, key: "\(name)@\(text.prefix(16))Z", start: start, end: start + length)
        }
    }

    /// Whether `key` names a period of this schedule (its start, parsed back).
    func period(named key: String) -> Period? {
        let start: Int64?
        switch self {
        case .allTime:
            return nil
        case .daily:
            start = key.count == 10 ? Timestamp.parse(key + "T00:00:00Z") : nil
        case .weekly:
            let parts = key.split(separator: "-W")
            guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let year = Int64(parts[0]), let week = Int64(parts[1]),
                (1...53).contains(week)
            else { return nil }
            // The Monday of ISO week 1 is the Monday of the week holding January 4th.
            let january4 = Timestamp.daysFromCivil(year: year, month: 1, day: 4)
            start = (january4 - Self.floorModulo(january4 + 3, 7) + (week - 1) * 7) * Self.dayMilliseconds
        case .monthly:
            start = key.count == 7 ? Timestamp.parse(key + "-01T00:00:00Z") : nil
        case .custom(let name, _, _):
            guard key.hasPrefix(name + "@"), key.hasSuffix("Z") else { return nil }
            start = Timestamp.parse(String(key.dropFirst(name.count + 1).dropLast()) + ":00Z")
        }
        guard let start, let period = period(containing: start), period.key == key, period.start == start else { return nil }
        return period
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? quotient - 1 : quotient
    }

    private static func floorModulo(_ value: Int64, _ divisor: Int64) -> Int64 {
        let remainder = value % divisor
        return remainder < 0 ? remainder + divisor : remainder
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// One period of a schedule: `2026-12-01` of `daily`, from its start (inclusive) to its
/// end (exclusive), in milliseconds since 1970.
public struct Period: Hashable, Sendable {
    public let schedule: PeriodSchedule
    /// `2026-12-01`, `2026-W49`, `2026-12`, `raid-week@2026-12-07T18:00Z`.
    public let key: String
    public let start: Int64
    public let end: Int64
}

extension PeriodSchedule: Codable {
    enum CustomKeys: String, CodingKey, CaseIterable { case name, everyDays, from }

    public init(from decoder: any Decoder) throws {
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            switch text {
            case "all-time": self = .allTime
            case "daily": self = .daily
            case "weekly": self = .weekly
            case "monthly": self = .monthly
            default:
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "expected all-time, daily, weekly, monthly or a custom schedule")
                )
            }
            return
        }
        let container = try decoder.container(keyedBy: CustomKeys.self)
        let fromText = try container.decode(String.self, forKey: .from)
        guard let from = Timestamp.parse(fromText) else {
            throw DecodingError.dataCorruptedError(forKey: .from, in: container, debugDescription: "expected an RFC 3339 time")
        }
        self = .custom(name: try container.decode(String.self, forKey: .name), days: try container.decode(Int.self, forKey: .everyDays), from: from)
    }

    public func encode(to encoder: any Encoder) throws {
        if case .custom(let name, let days, let from) = self {
            var container = encoder.container(keyedBy: CustomKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(days, forKey: .everyDays)
            try container.encode(Timestamp.format(from), forKey: .from)
        } else {
            var container = encoder.singleValueContainer()
            try container.encode(name)
        }
    }
}
