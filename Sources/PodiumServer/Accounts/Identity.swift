import JWTKit
import PodiumEngine

/// The signed-in user a request acts for, read from its bearer token.
public struct Identity: Sendable, Equatable {
    public var userId: String
    public var displayName: String
    public var countryCode: CountryCode?
    public var role: UserRecord.Role
}

/// The claims of a Podium access token (HS256).
struct AccessTokenClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    var iss: IssuerClaim
    var name: String
    var country: String?
    var role: String

    static let issuer = "podium"

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        guard iss.value == Self.issuer else { throw JWTError.claimVerificationFailure(failedClaim: iss, reason: "not issued by Podium") }
    }

    var identity: Identity {
        Identity(
            userId: sub.value, displayName: name, countryCode: country.flatMap { CountryCode($0) },
            role: UserRecord.Role(rawValue: role) ?? .player
        )
    }
}
