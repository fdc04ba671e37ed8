import Crypto
import Foundation
import PodiumEngine

/// A Podium account.
public struct UserRecord: Sendable, Equatable {
    public var id: String
    public var username: String
    /// bcrypt hash; nil for users who sign in through an OpenID issuer.
    public var passwordHash: String?
    public var displayName: String
    public var countryCode: CountryCode?
    public var role: Role
    /// Milliseconds since 1970.
    public var createdAt: Int64

    public enum Role: String, Sendable {
        case player
        case admin
    }

    /// Whether `username` is 3-32 letters, digits, dots, dashes or underscores.
    public static func isValid(username: String) -> Bool {
        username.range(of: #"^[A-Za-z0-9_.-]{3,32}$"#, options: .regularExpression) != nil
    }

    /// Whether `password` is 8-128 characters.
    static func isValid(password: String) -> Bool {
        (8...128).contains(password.count)
    }
}

/// A single-use run token, stored by the SHA-256 of its value.
public struct RunSession: Sendable, Equatable {
    public var tokenHash: String
    public var userId: String
    public var gameId: String
    /// Milliseconds since 1970, by the server's clock.
    public var issuedAt: Int64
    public var expiresAt: Int64
    public var consumedAt: Int64?

    /// The stored form of a token.
    static func hash(_ token: String) -> String {
        Hex.encode(SHA256.hash(data: Array(token.utf8)))
    }
}

/// A refused submission that failed a plausibility rule.
public struct FlaggedSubmission: Sendable, Equatable {
    public var userId: String
    public var gameId: String
    public var score: Int64
    public var reason: String
    /// Milliseconds since 1970.
    public var flaggedAt: Int64
}
