import Foundation
import JWTKit

/// Signs and checks Podium's access tokens.
public struct TokenService: Sendable {
    let keys: JWTKeyCollection
    /// Seconds an access token stays valid.
    public let lifetime: Int

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
        do {
            return try await keys.verify(token, as: AccessTokenClaims.self).identity
        } catch let error as JWTError where error.errorType == .claimVerificationFailure && error.failedClaim is ExpirationClaim {
            throw APIError(.unauthorized, code: "TOKEN_EXPIRED", message: "The access token has expired; sign in again.")
        } catch {
            throw .unauthorized("The access token is not valid.")
        }
    }
}
