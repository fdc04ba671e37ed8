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

/// Accounts, run sessions and flags: kept in the same store as the score log, so a run
/// token is consumed in the same transaction that logs its score.
public protocol AccountStore: Sendable {
    /// Creates a user; false if the username is taken.
    func createUser(_ user: UserRecord) async throws -> Bool
    func user(username: String) async throws -> UserRecord?
    func user(id: String) async throws -> UserRecord?
    /// Gives the admin role to exactly the accounts named in `usernames` (any case) and
    /// takes it from every other; returns the admins' ids.
    func setAdmins(usernames: Set<String>) async throws -> Set<String>
    /// Stores a run session; false if its user does not exist.
    func createSession(_ session: RunSession) async throws -> Bool
    /// Deletes the run sessions that expired before `time` (milliseconds since 1970);
    /// returns how many.
    func deleteSessions(expiredBefore time: Int64) async throws -> Int
    func session(tokenHash: String) async throws -> RunSession?
    func recordFlag(_ flag: FlaggedSubmission) async throws
    /// The most recent flags, newest first.
    func flags(limit: Int) async throws -> [FlaggedSubmission]
}

/// Everything Podium keeps durably.
public typealias PodiumStore = EventStore & AccountStore & AdminStore
