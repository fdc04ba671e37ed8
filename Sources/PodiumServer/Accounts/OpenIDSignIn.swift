import Foundation
import Logging
import Synchronization

/// Signs in users of an OpenID issuer: a valid ID token is an identity, and the first one
/// of a subject creates the Podium user `oidc:<issuer host>:<sub>`.
struct OpenIDSignIn: Sendable {
    let verifier: OpenIDVerifier
    let accounts: any AccountStore
    private let known = Identities()

    init(verifier: OpenIDVerifier, accounts: any AccountStore) {
        self.verifier = verifier
        self.accounts = accounts
    }

    /// Whether the token's unverified `iss` names this issuer (the signature is checked later).
    func isIssuer(ofUnverified token: String) -> Bool {
        guard let issuer = UnverifiedToken(token)?.issuer else { return false }
        return verifier.accepts(issuer: issuer)
    }

    func identity(for token: String, logger: Logger) async throws -> Identity {
        let (subject, name) = try await verifier.verify(token, logger: logger)
        let host = URL(string: verifier.configuration.issuer)?.host ?? verifier.configuration.issuer
        let userId = "oidc:\(host):\(subject)"
        if let identity = known.identity(of: userId) { return identity }
        var user = try await accounts.user(id: userId)
        if user == nil {
            let created = UserRecord(
                id: userId, username: userId, passwordHash: nil, displayName: String((name ?? "Player").prefix(64)), countryCode: nil,
                role: .player, createdAt: Timestamp.now()
            )
            _ = try await accounts.createUser(created)
            user = try await accounts.user(id: userId) ?? created
        }
        let identity = Identity(userId: userId, displayName: user!.displayName, countryCode: user!.countryCode, role: user!.role)
        known.remember(identity)
        return identity
    }
}

/// Identities of OpenID users already provisioned, so only a first sign-in queries the
/// store. Bounded: when full it starts again empty.
final class Identities: Sendable {
    private static let capacity = 50_000
    private let byUserId = Mutex<[String: Identity]>([:])

    func identity(of userId: String) -> Identity? { byUserId.withLock { $0[userId] } }

    func remember(_ identity: Identity) {
        byUserId.withLock { known in
            if known.count >= Self.capacity { known.removeAll(keepingCapacity: true) }
            known[identity.userId] = identity
        }
    }
}
