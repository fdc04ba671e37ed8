import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import NIOCore
import Synchronization

/// Checks ID tokens of one OpenID issuer (Google: `https://accounts.google.com`) against
/// the issuer's JWKS (RS256 and ES256), with the keys cached and fetched again when a
/// token names an unknown key.
public final class OpenIDVerifier: Sendable {
    public struct Configuration: Sendable {
        /// The `iss` of accepted tokens.
        public var issuer: String
        /// The `aud` of accepted tokens: this application's client id.
        public var audience: String
        /// Where the issuer publishes its keys (Google: https://www.googleapis.com/oauth2/v3/certs).
        public var jwksURL: String

        public init(issuer: String, audience: String, jwksURL: String) {
            self.issuer = issuer
            self.audience = audience
            self.jwksURL = jwksURL
        }
    }

    /// The claims Podium reads from an ID token.
    struct Claims: JWTPayload {
        var iss: IssuerClaim
        var sub: SubjectClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var name: String?

        func verify(using algorithm: some JWTAlgorithm) async throws {
            try exp.verifyNotExpired()
        }
    }

    let configuration: Configuration
    private let keys = Mutex<(collection: JWTKeyCollection?, fetchedAt: ContinuousClock.Instant?)>((nil, nil))
    private let logger: Logger
    /// The shortest time between two fetches of the key set.
    static let refetchInterval = Duration.seconds(10)

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// The subject and name of a valid ID token.
    func verify(_ token: String) async throws(APIError) -> (subject: String, name: String?) {
        do {
            let claims: Claims
            do {
                claims = try await currentKeys().verify(token, as: Claims.self)
            } catch let error as JWTError where error.errorType == .unknownKID {
                claims = try await refreshedKeys().verify(token, as: Claims.self)
            }
            guard claims.iss.value == configuration.issuer else { throw APIError.unauthorized("The ID token is from another issuer.") }
            guard claims.aud.value.contains(configuration.audience) else {
                throw APIError.unauthorized("The ID token is for another application.")
            }
            return (claims.sub.value, claims.name)
        } catch let error as APIError {
            throw error
        } catch let error as JWTError where error.errorType == .claimVerificationFailure && error.failedClaim is ExpirationClaim {
            throw APIError(.unauthorized, code: "TOKEN_EXPIRED", message: "The ID token has expired; sign in again.")
        } catch {
            logger.debug("ID token refused", metadata: ["error": "\(error)"])
            throw .unauthorized("The ID token is not valid.")
        }
    }

    private func currentKeys() async throws -> JWTKeyCollection {
        if let collection = keys.withLock({ $0.collection }) { return collection }
        return try await refreshedKeys()
    }

    /// Fetches the key set again, at most once per ``refetchInterval``.
    private func refreshedKeys() async throws -> JWTKeyCollection {
        let now = ContinuousClock.now
        if let (collection, fetchedAt) = keys.withLock({ state in state.collection.map { ($0, state.fetchedAt) } }),
            let fetchedAt, now - fetchedAt < Self.refetchInterval
        {
            return collection
        }
        var request = HTTPClientRequest(url: configuration.jwksURL)
        request.method = .GET
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        guard response.status == .ok else { throw APIError.unauthorized("The issuer's keys cannot be fetched.") }
        let body = try await response.body.collect(upTo: 1 << 20)
        let collection = try await JWTKeyCollection().add(jwksJSON: String(buffer: body))
        keys.withLock { $0 = (collection, now) }
        logger.info("fetched the OpenID issuer's keys", metadata: ["issuer": "\(configuration.issuer)"])
        return collection
    }
}
