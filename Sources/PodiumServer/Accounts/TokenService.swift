import Foundation
import JWTKit
import Synchronization

/// Signs and checks Podium's access tokens.
public struct TokenService: Sendable {
    let keys: JWTKeyCollection
    /// Seconds an access token stays valid.
    public let lifetime: Int
    /// Tokens already verified, so a client's next requests skip the signature check and
    /// the claims' decoding until the token expires.
    private let verified = VerifiedTokens()

    /// - Parameter secret: the HS256 key, at least 32 bytes.
    public init(secret: String, lifetime: Int) async throws {
        guard secret.utf8.count >= 32 else { throw ConfigurationError("the JWT secret must be at least 32 bytes long") }
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        self.lifetime = lifetime
    }

    /// A signed access token for `user`.
    func issue(for user: UserRecord, now: Date = Date()) async throws -> String {
        let claims = AccessTokenClaims(
            sub: .init(value: user.id), exp: .init(value: now.addingTimeInterval(TimeInterval(lifetime))), iat: .init(value: now),
            iss: .init(value: AccessTokenClaims.issuer), name: user.displayName, country: user.countryCode?.description,
            role: user.role.rawValue
        )
        return try await keys.sign(claims)
    }

    /// The identity of a valid token.
    /// - Throws: ``APIError`` `TOKEN_EXPIRED` or `UNAUTHORIZED`.
    func verify(_ token: String) async throws(APIError) -> Identity {
        let now = Date()
        switch verified.lookUp(token, now: now) {
        case .valid(let identity): return identity
        case .expired: throw .tokenExpired
        case .unknown: break
        }
        guard UnverifiedToken(token)?.algorithm == "HS256" else { throw .unauthorized("The access token is not valid.") }
        do {
            let claims = try await keys.verify(token, as: AccessTokenClaims.self)
            verified.remember(token, identity: claims.identity, expiresAt: claims.exp.value)
            return claims.identity
        } catch let error as JWTError where error.errorType == .claimVerificationFailure && error.failedClaim is ExpirationClaim {
            throw .tokenExpired
        } catch {
            throw .unauthorized("The access token is not valid.")
        }
    }
}

/// A bounded map of verified access tokens to their identity and expiry. Only a token
/// byte-identical to one that passed the signature check is found here.
final class VerifiedTokens: Sendable {
    enum LookUp {
        case valid(Identity)
        case expired
        case unknown
    }

    private static let capacity = 50_000
    private let tokens = Mutex<[String: (identity: Identity, expiresAt: Date)]>([:])

    func lookUp(_ token: String, now: Date) -> LookUp {
        tokens.withLock { tokens in
            guard let known = tokens[token] else { return .unknown }
            guard known.expiresAt > now else {
                tokens[token] = nil
                return .expired
            }
            return .valid(known.identity)
        }
    }

    func remember(_ token: String, identity: Identity, expiresAt: Date) {
        tokens.withLock { tokens in
            if tokens.count >= Self.capacity {
                let now = Date()
                tokens = tokens.filter { $0.value.expiresAt > now }
                if tokens.count >= Self.capacity { tokens.removeAll(keepingCapacity: true) }
            }
            tokens[token] = (identity, expiresAt)
        }
    }
}

extension APIError {
    static let tokenExpired = APIError(.tokenExpired, "The access token has expired; sign in again.")
}
