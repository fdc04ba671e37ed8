import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Checks ID tokens of one OpenID issuer (Google: `https://accounts.google.com`) against
/// the issuer's JWKS (RS256 and ES256). Keys are cached for an hour and fetched again
/// sooner when a token names a key the cache lacks (the issuer rotated its keys).
public final class OpenIDVerifier: Sendable {
    public struct Configuration: Sendable {
        /// The `iss` of accepted tokens.
        public var issuer: String
        /// The `aud` of accepted tokens: this application's client id.
        public var audience: String
        /// Where the issuer publishes its keys (Google: https://www.googleapis.com/oauth2/v3/certs).
        public var jwksURL: String
        /// The shortest time between two fetches of the key set, however many tokens name
        /// unknown keys.
        public var refetchInterval: Duration

        public init(issuer: String, audience: String, jwksURL: String, refetchInterval: Duration = .seconds(10)) {
            self.issuer = issuer
            self.audience = audience
            self.jwksURL = jwksURL
            self.refetchInterval = refetchInterval
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
    private let keySet = Mutex<KeySet?>(nil)
    private let fetching = Mutex(Fetching())
    /// How long fetched keys are used before they are fetched again (the issuer rotates them).
    static let maxKeyAge = Duration.seconds(3600)
    /// The signature algorithms accepted in ID tokens.
    static let algorithms: Set<String> = ["RS256", "ES256"]

    /// The issuer's keys as last fetched.
    private struct KeySet: Sendable {
        var collection: JWTKeyCollection
        var keyIds: Set<String>
        var fetchedAt: ContinuousClock.Instant
    }

    /// The fetch under way, which every request that needs the keys waits for, and when
    /// the last one started.
    private struct Fetching {
        var task: Task<KeySet, any Error>?
        var startedAt: ContinuousClock.Instant?
    }

    /// An answer of the JWKS URL other than 200.
    private struct FetchFailed: Error {
        var status: HTTPResponseStatus
    }

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Whether `issuer` is this issuer. Google's ID tokens may also say `accounts.google.com`.
    func accepts(issuer: String) -> Bool {
        issuer == configuration.issuer
            || (configuration.issuer == "https://accounts.google.com" && issuer == "accounts.google.com")
    }

    /// The subject and name of a valid ID token. `logger` is the request's.
    func verify(_ token: String, logger: Logger) async throws(APIError) -> (subject: String, name: String?) {
        guard let header = UnverifiedToken(token), let keyId = header.keyId, let algorithm = header.algorithm,
            Self.algorithms.contains(algorithm)
        else { throw .unauthorized("The ID token is not valid: it needs a kid and RS256 or ES256.") }
        do {
            guard let keys = try await keys(containing: keyId, logger: logger) else {
                throw APIError.unauthorized("The ID token's key is not one of the issuer's keys.")
            }
            let claims = try await keys.verify(token, as: Claims.self)
            guard accepts(issuer: claims.iss.value) else { throw APIError.unauthorized("The ID token is from another issuer.") }
            guard claims.aud.value.contains(configuration.audience) else {
                throw APIError.unauthorized("The ID token is for another application.")
            }
            return (claims.sub.value, claims.name)
        } catch let error as APIError {
            throw error
        } catch let error as JWTError where error.errorType == .claimVerificationFailure && error.failedClaim is ExpirationClaim {
            throw APIError(.tokenExpired, "The ID token has expired; sign in again.")
        } catch {
            logger.debug("ID token refused", metadata: ["error": "\(error)"])
            throw .unauthorized("The ID token is not valid.")
        }
    }

    /// The key set if it holds `keyId`. Keys are fetched again when they are older than
    /// ``maxKeyAge`` or lack `keyId` (a rotation): one fetch at a time, which concurrent
    /// requests share, and at most one per `refetchInterval`. When the issuer cannot be
    /// reached the keys held are used; with none, 503.
    private func keys(containing keyId: String, logger: Logger) async throws -> JWTKeyCollection? {
        let now = ContinuousClock.now
        let current = keySet.withLock { $0 }
        if let current, current.keyIds.contains(keyId), now - current.fetchedAt < Self.maxKeyAge { return current.collection }
        let fetch = fetching.withLock { fetching -> Task<KeySet, any Error>? in
            if let task = fetching.task { return task }
            guard fetching.startedAt.map({ now - $0 >= configuration.refetchInterval }) ?? true else { return nil }
            fetching.startedAt = now
            let task = Task { () async throws -> KeySet in
                defer { self.fetching.withLock { $0.task = nil } }
                return try await self.fetchKeys(at: now, logger: logger)
            }
            fetching.task = task
            return task
        }
        guard let fetch else { return current?.keyIds.contains(keyId) == true ? current?.collection : nil }
        do {
            let fetched = try await fetch.value
            return fetched.keyIds.contains(keyId) ? fetched.collection : nil
        } catch {
            logger.warning("cannot fetch the OpenID issuer's keys", metadata: ["issuer": "\(configuration.issuer)", "error": "\(error)"])
            guard let current, current.keyIds.contains(keyId) else {
                throw APIError(.issuerUnavailable, "The sign-in provider's keys cannot be fetched; retry shortly.", retryAfter: 10)
            }
            return current.collection
        }
    }

    private func fetchKeys(at now: ContinuousClock.Instant, logger: Logger) async throws -> KeySet {
        var request = HTTPClientRequest(url: configuration.jwksURL)
        request.method = .GET
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        guard response.status == .ok else { throw FetchFailed(status: response.status) }
        let body = try await response.body.collect(upTo: 1 << 20)
        let jwks = try JSONDecoder().decode(JWKS.self, from: Data(body.readableBytesView))
        let fetched = KeySet(
            collection: try await JWTKeyCollection().add(jwks: jwks), keyIds: Set(jwks.keys.compactMap { $0.keyIdentifier?.string }),
            fetchedAt: now
        )
        keySet.withLock { $0 = fetched }
        logger.info("fetched the OpenID issuer's keys", metadata: ["issuer": "\(configuration.issuer)", "keys": "\(fetched.keyIds.count)"])
        return fetched
    }
}
