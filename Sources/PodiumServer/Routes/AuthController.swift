import Foundation
import Hummingbird
import HummingbirdBcrypt
import NIOPosix
import PodiumEngine
import Synchronization

/// `POST /api/auth/register`, `POST /api/auth/login`, `GET /api/me`.
struct AuthController {
    let accounts: any AccountStore
    let bans: BanList
    let tokens: TokenService
    let attempts: RateLimiter
    let bcryptCost: UInt8
    let decoyHash: DecoyPasswordHash
    /// Lower-cased admin usernames, which nobody can register.
    let adminUsers: Set<String>
    let maxBodySize: Int

    struct Registration: Decodable {
        var username: String
        var password: String
        var displayName: String
        var countryCode: String
    }

    struct Credentials: Decodable {
        var username: String
        var password: String
    }

    func addRoutes(to router: Router<PodiumRequestContext>) {
        let auth = router.group("api/auth")
        auth.post("register", use: register)
        auth.post("login", use: login)
        router.get("api/me", use: me)
    }

    @Sendable func register(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        try await attempts.take(context.remoteAddress?.ipAddress ?? "unknown")
        let body = try await request.decodeJSON(as: Registration.self, limit: maxBodySize)
        guard UserRecord.isValid(username: body.username) else {
            throw APIError.validation("username must be 3-32 letters, digits, dots, dashes or underscores.")
        }
        guard UserRecord.isValid(password: body.password) else { throw APIError.validation("password must be 8-128 characters.") }
        let displayName = body.displayName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...64).contains(displayName.count) else { throw APIError.validation("displayName must be 1-64 characters.") }
        guard let country = CountryCode.assigned(body.countryCode) else {
            throw APIError.validation("countryCode '\(body.countryCode)' is not an ISO 3166-1 alpha-2 code.")
        }
        let hash = try await NIOThreadPool.singleton.runIfActive { [bcryptCost] in Bcrypt.hash(body.password, cost: bcryptCost) }
        // Refused after the hash, like any taken name, so timing does not tell admins apart.
        guard !adminUsers.contains(body.username.lowercased()) else { throw Self.usernameTaken(body.username) }
        let user = UserRecord(
            id: UUID().uuidString.lowercased(), username: body.username, passwordHash: hash, displayName: displayName,
            countryCode: country, role: .player, createdAt: Timestamp.now()
        )
        guard try await accounts.createUser(user) else { throw Self.usernameTaken(body.username) }
        return try await tokenResponse(for: user, status: .created)
    }

    @Sendable func login(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        try await attempts.take(context.remoteAddress?.ipAddress ?? "unknown")
        let body = try await request.decodeJSON(as: Credentials.self, limit: maxBodySize)
        let user = try await accounts.user(username: body.username)
        let hash = user?.passwordHash
        let matches = try await NIOThreadPool.singleton.runIfActive { [decoyHash] in
            // Unknown users are checked against a decoy hash of the same cost, so timing
            // does not reveal which names exist.
            Bcrypt.verify(body.password, hash: hash ?? decoyHash.value)
        }
        guard let user, hash != nil, matches else { throw APIError.unauthorized("Wrong username or password.") }
        guard !bans.isBanned(user.id) else { throw APIError(.banned, "This account is banned.") }
        return try await tokenResponse(for: user, status: .ok)
    }

    @Sendable func me(_ request: Request, context: PodiumRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        guard let user = try await accounts.user(id: identity.userId) else { throw APIError.unauthorized("The account no longer exists.") }
        var json = JSONWriter()
        json.beginObject()
        json.field("userId", user.id)
        json.field("username", user.username)
        json.field("displayName", user.displayName)
        if let country = user.countryCode { json.field("countryCode", country.description) }
        json.field("role", user.role.rawValue)
        json.endObject()
        return .json(json.buffer)
    }

    private static func usernameTaken(_ username: String) -> APIError {
        APIError(.usernameTaken, "The username '\(username)' is taken.")
    }

    private func tokenResponse(for user: UserRecord, status: HTTPResponse.Status) async throws -> Response {
        var json = JSONWriter()
        json.beginObject()
        json.field("accessToken", try await tokens.issue(for: user))
        json.field("expiresIn", Int64(tokens.lifetime))
        json.field("userId", user.id)
        json.endObject()
        return .json(json.buffer, status: status)
    }
}

/// A bcrypt hash of a random password at the accounts' cost, made once, off the request
/// path when ``prepare()`` is called at start-up.
final class DecoyPasswordHash: Sendable {
    private let cost: UInt8
    private let hash = Mutex<String?>(nil)

    init(cost: UInt8) { self.cost = cost }

    /// Computes the hash on the thread pool, so the first login does not pay for it.
    func prepare() {
        Task { _ = try? await NIOThreadPool.singleton.runIfActive { self.value } }
    }

    /// The hash; the first call computes it (as slow as a login).
    var value: String {
        if let hash = hash.withLock({ $0 }) { return hash }
        let made = Bcrypt.hash(Hex.random(), cost: cost)
        return hash.withLock { hash in
            if hash == nil { hash = made }
            return hash!
        }
    }
}
