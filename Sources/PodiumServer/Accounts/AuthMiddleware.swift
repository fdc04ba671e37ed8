import Hummingbird
import Logging

/// Who a bearer token belongs to: a Podium access token, or an ID token of the configured
/// OpenID issuer. Used by the HTTP routes (``AuthMiddleware``) and by WebSocket upgrades.
struct Authenticator: Sendable {
    let tokens: TokenService
    let openID: OpenIDSignIn?
    /// Ids of the admin accounts. The role a token claims is not trusted: an account
    /// removed from the admins keeps no admin rights from a token issued before.
    let admins: Set<String>

    /// The identity of a valid token; throws the API error that says why it is not.
    /// `logger` is the request's, so the lines of the check carry its id.
    func identity(for token: String, logger: Logger) async throws -> Identity {
        var identity: Identity
        if let openID, openID.isIssuer(ofUnverified: token) {
            identity = try await openID.identity(for: token, logger: logger)
        } else {
            identity = try await tokens.verify(token)
        }
        identity.role = admins.contains(identity.userId) ? .admin : .player
        return identity
    }

    /// The token of an `Authorization` header: `Bearer <token>`, or the bare token.
    static func bearerToken(ofAuthorization header: String?) -> String? {
        guard let header, !header.isEmpty else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]) }
        return header
    }
}

/// Reads `Authorization: Bearer …` into the context's identity. A present but invalid
/// token is refused at once; routes that need a user call
/// ``PodiumRequestContext/requireIdentity()``.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = PodiumRequestContext
    let authenticator: Authenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let token = Authenticator.bearerToken(ofAuthorization: request.headers[.authorization]) {
            context.identity = try await authenticator.identity(for: token, logger: context.logger)
        }
        return try await next(request, context)
    }
}

/// Guards a route group: requests without a token get 401, a player's token 403. Put on
/// the group, so no admin route depends on a line in its handler.
struct AdminOnlyMiddleware: RouterMiddleware {
    typealias Context = PodiumRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        _ = try context.requireAdmin()
        return try await next(request, context)
    }
}

extension PodiumRequestContext {
    /// The signed-in user, or 401.
    func requireIdentity() throws(APIError) -> Identity {
        guard let identity else { throw .unauthorized("Sign in first: send Authorization: Bearer <accessToken>.") }
        return identity
    }

    /// The signed-in admin, or 401/403.
    func requireAdmin() throws(APIError) -> Identity {
        let identity = try requireIdentity()
        guard identity.role == .admin else { throw .forbidden("This needs the admin role.") }
        return identity
    }
}
