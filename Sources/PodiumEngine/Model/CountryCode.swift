/// An ISO 3166-1 alpha-2 country code such as `GB`, stored in two bytes.
///
/// This type checks the shape (two ASCII letters, upper-cased); whether the code is
/// assigned is the caller's policy.
public struct CountryCode: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The two upper-case ASCII letters, first letter in the high byte.
    public let rawValue: UInt16

    /// Parses two ASCII letters in either case; nil for anything else.
    public init?(_ text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count == 2, let first = Self.upper(bytes[0]), let second = Self.upper(bytes[1]) else { return nil }
        rawValue = UInt16(first) << 8 | UInt16(second)
    }

    /// Decodes a ``rawValue``; nil if it is not two upper-case letters.
    public init?(rawValue: UInt16) {
        let first = UInt8(rawValue >> 8)
        let second = UInt8(rawValue & 0xFF)
        guard (65...90).contains(first), (65...90).contains(second) else { return nil }
        self.rawValue = rawValue
    }

    public var description: String {
        String(decoding: [UInt8(rawValue >> 8), UInt8(rawValue & 0xFF)], as: UTF8.self)
    }

    public static func < (lhs: CountryCode, rhs: CountryCode) -> Bool { lhs.rawValue < rhs.rawValue }

    private static func upper(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 65...90: byte
        case 97...122: byte - 32
        default: nil
        }
    }
}
