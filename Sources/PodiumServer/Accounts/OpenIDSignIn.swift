import Foundation
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
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return false }
        var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64),
            let payload = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return false }
        return payload["iss"] as? String == verifier.configuration.issuer
    }

    func identity(for token: String) async throws -> Identity {
        let (subject, name) = try await verifier.verify(token)
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

/// Identities of OpenID users already provisioned, so only a first sign-in queries the store.
final class Identities: Sendable {
    private let byUserId = Mutex<[String: Identity]>([:])

    func identity(of userId: String) -> Identity? { byUserId.withLock { $0[userId] } }

    func remember(_ identity: Identity) { byUserId.withLock { $0[identity.userId] = identity } }
}
